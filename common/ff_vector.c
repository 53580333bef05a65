#include "ff_vector.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_cell.h"
#include "ff_csv.h"
#include "ff_util.h"

int ff_vector_init(struct ff_vector *v, const struct ff_blueprint_info *bp,
		   const struct ff_strlist *categorical)
{
	memset(v, 0, sizeof *v);
	v->n = bp->vector.n;
	v->names = &bp->vector;
	v->types = bp->vector_types;
	v->categorical = ff_xcalloc(v->n ? v->n : 1, sizeof *v->categorical);
	v->codes = ff_xcalloc(v->n ? v->n : 1, sizeof *v->codes);
	v->col = ff_xcalloc(v->n ? v->n : 1, sizeof *v->col);
	for (size_t i = 0; categorical && i < categorical->n; i++)
		if (ff_strlist_find(v->names, categorical->v[i]) < 0)
			return ff_error("categorical column '%s' is not in the blueprint's vector",
					categorical->v[i]);
	for (size_t i = 0; i < v->n; i++) {
		v->categorical[i] = v->types[i] == FF_TYPE_TEXT ||
				    (categorical && ff_strlist_find(categorical, v->names->v[i]) >= 0);
		if (v->categorical[i])
			v->codes[i] = ff_keyset_new();
	}
	return 0;
}

void ff_vector_release(struct ff_vector *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++)
		ff_keyset_free(v->codes[i]);
	free(v->codes);
	free(v->categorical);
	free(v->col);
	memset(v, 0, sizeof *v);
}

int ff_vector_bind(struct ff_vector *v, const struct ff_rec_schema *s, const char *where)
{
	char hint[160];
	for (size_t i = 0; i < v->n; i++)
		if ((v->col[i] = ff_rec_schema_find(s, v->names->v[i])) < 0)
			return ff_error("%s: no column '%s' (input of the model)%s", where, v->names->v[i],
					ff_csv_header_hint((const char *const *)s->names, s->ncols,
							   v->names->v[i], hint, sizeof hint));
	v->schema = s;
	return 0;
}

int ff_vector_fill(struct ff_vector *v, const struct ff_cell *cells, float *out, const char **bad)
{
	for (size_t i = 0; i < v->n; i++) {
		long col = v->col[i];
		const struct ff_cell *c = &cells[col];
		enum ff_type type = v->schema->types[col];
		if (c->null) {
			out[i] = NAN;
			continue;
		}
		if (v->categorical[i]) {
			char buf[FF_CELL_TEXT_MAX];
			size_t len; /* categories: text as is, numbers in their CSV form */
			const char *t = ff_cell_text(c, type, buf, &len);
			int64_t code = v->frozen ? ff_keyset_find(v->codes[i], t, len)
						 : (int64_t)ff_keyset_intern(v->codes[i], t, len);
			out[i] = code < 0 ? NAN : (float)code;
			continue;
		}
		double d;
		switch (type) {
		case FF_TYPE_REAL: d = c->d; break;
		case FF_TYPE_INTEGER: d = (double)c->i; break;
		case FF_TYPE_TEXT:
			if (ff_parse_double(c->s, c->len, &d) < 0) {
				*bad = v->names->v[i];
				return -1;
			}
			break;
		default:
			*bad = v->names->v[i];
			return -1;
		}
		out[i] = (float)d;
	}
	return 0;
}

char *ff_vector_codes_text(const struct ff_vector *v)
{
	char *text = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&text, &size);
	for (size_t i = 0; i < v->n; i++) {
		if (!v->categorical[i])
			continue;
		fprintf(m, "%s\t-\t\n", v->names->v[i]); /* a categorical column, even with no value */
		for (uint32_t k = 0; k < ff_keyset_count(v->codes[i]); k++) {
			size_t len;
			const char *s = ff_keyset_bytes(v->codes[i], k, &len);
			fprintf(m, "%s\t%u\t", v->names->v[i], k);
			ff_keyset_put_escaped(m, s, len);
			putc('\n', m);
		}
	}
	fclose(m);
	return text;
}

int ff_vector_load_codes(struct ff_vector *v, const char *text, const char *origin)
{
	v->frozen = 1;
	const char *p = text;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = ff_xstrndup(p, len);
		char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
		if (!tab2) {
			free(line);
			return ff_error("%s: bad category line", origin);
		}
		*tab1 = *tab2 = '\0';
		long i = ff_strlist_find(v->names, line);
		if (i < 0) {
			ff_error("%s: category of '%s', not a vector column", origin, line);
			free(line);
			return -1;
		}
		if (!v->categorical[i]) {
			v->categorical[i] = 1;
			v->codes[i] = ff_keyset_new();
		}
		if (strcmp(tab1 + 1, "-") != 0) {
			char *value = tab2 + 1;
			size_t value_len = ff_keyset_unescape(value);
			uint32_t code = ff_keyset_intern(v->codes[i], value, value_len);
			if (code != (uint32_t)strtoul(tab1 + 1, NULL, 10)) {
				free(line);
				return ff_error("%s: categories of '%s' out of order", origin, v->names->v[i]);
			}
		}
		free(line);
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}
