#include "ff_request.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ff_rec.h"
#include "ff_util.h"

/* ---- building rows ---- */

static struct ff_cell *new_row(struct ff_request_rows *r)
{
	size_t n = r->columns->n;
	ff_grow(&r->cells, &r->cells_cap, (r->nrows + 1) * (n ? n : 1), sizeof *r->cells);
	struct ff_cell *row = r->cells + r->nrows * n;
	memset(row, 0, n * sizeof *row);
	for (size_t i = 0; i < n; i++)
		row[i].null = 1;
	r->nrows++;
	return row;
}

/* Text is kept as an offset until the buffer stops moving (see finish). */
static void set_text(struct ff_request_rows *r, struct ff_cell *c, const char *s, size_t len)
{
	ff_grow(&r->text, &r->text_cap, r->text_len + len + 1, 1);
	memcpy(r->text + r->text_len, s, len);
	r->text[r->text_len + len] = '\0';
	*c = (struct ff_cell){.i = (int64_t)r->text_len, .len = len};
	r->text_len += len + 1;
}

static void finish(struct ff_request_rows *r)
{
	for (size_t k = 0; k < r->nrows * r->columns->n; k++)
		if (!r->cells[k].null)
			r->cells[k].s = r->text + r->cells[k].i;
}

static int too_many(const struct ff_request_rows *r)
{
	if (r->max_rows && r->nrows >= r->max_rows)
		return ff_error("more than %zu rows in one request", r->max_rows);
	return 0;
}

/* ---- JSON ---- */

static int put_value(struct ff_request_rows *r, struct ff_cell *c, json_t *v, const char *where,
		     size_t index, const char *column)
{
	char num[32];
	switch (json_typeof(v)) {
	case JSON_STRING: set_text(r, c, json_string_value(v), json_string_length(v)); return 0;
	case JSON_INTEGER: {
		int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		set_text(r, c, num, (size_t)n);
		return 0;
	}
	case JSON_REAL: set_text(r, c, num, (size_t)ff_format_double(num, json_real_value(v))); return 0;
	case JSON_TRUE: set_text(r, c, "1", 1); return 0;
	case JSON_FALSE: set_text(r, c, "0", 1); return 0;
	case JSON_NULL: return 0;
	default:
		return ff_error("%s %zu: column '%s': a value must be a string, number, boolean or null",
				where, index + 1, column);
	}
}

/* One record: an object of column -> value. */
static int put_record(struct ff_request_rows *r, json_t *rec, const char *where, size_t index)
{
	if (!json_is_object(rec))
		return ff_error("%s %zu: not an object of column values", where, index + 1);
	if (too_many(r) < 0)
		return -1;
	struct ff_cell *row = new_row(r);
	for (size_t i = 0; i < r->columns->n; i++) {
		const char *col = r->columns->v[i];
		json_t *v = json_object_get(rec, col);
		if (!v)
			return ff_error("%s %zu: no column '%s'", where, index + 1, col);
		if (put_value(r, &row[i], v, where, index, col) < 0)
			return -1;
		row = r->cells + (r->nrows - 1) * r->columns->n;
	}
	return 0;
}

static int records(struct ff_request_rows *r, json_t *list, const char *what)
{
	if (!json_is_array(list))
		return ff_error("%s: expected a list of records", what);
	for (size_t k = 0; k < json_array_size(list); k++)
		if (put_record(r, json_array_get(list, k), "record", k) < 0)
			return -1;
	return 0;
}

static int split(struct ff_request_rows *r, json_t *obj, const char *what)
{
	json_t *columns = json_object_get(obj, "columns"), *data = json_object_get(obj, "data");
	if (!json_is_object(obj) || !json_is_array(columns) || !json_is_array(data))
		return ff_error("%s: expected an object with a list 'columns' and a list 'data'", what);
	size_t ncols = json_array_size(columns), n = r->columns->n;
	size_t *at = ff_xcalloc(n ? n : 1, sizeof *at);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		at[i] = ncols;
		for (size_t k = 0; k < ncols && rc == 0; k++) {
			json_t *name = json_array_get(columns, k);
			if (!json_is_string(name) || strcmp(json_string_value(name), r->columns->v[i]) != 0)
				continue;
			if (at[i] != ncols)
				rc = ff_error("%s: column '%s' given twice in 'columns'", what, r->columns->v[i]);
			at[i] = k;
		}
		if (rc == 0 && at[i] == ncols)
			rc = ff_error("%s: no column '%s' in 'columns'", what, r->columns->v[i]);
	}
	for (size_t k = 0; k < json_array_size(data) && rc == 0; k++) {
		json_t *values = json_array_get(data, k);
		if (!json_is_array(values) || json_array_size(values) != ncols) {
			rc = ff_error("%s: row %zu: expected a list of %zu values", what, k + 1, ncols);
			break;
		}
		if ((rc = too_many(r)) < 0)
			break;
		new_row(r);
		for (size_t i = 0; i < n && rc == 0; i++) {
			struct ff_cell *c = r->cells + (r->nrows - 1) * n + i;
			rc = put_value(r, c, json_array_get(values, at[i]), "row", k, r->columns->v[i]);
		}
	}
	free(at);
	return rc;
}

/* An object of columns: lists of values (one row each), or single values. */
static int columnar(struct ff_request_rows *r, json_t *obj, const char *what)
{
	size_t n = r->columns->n, nrows = 1;
	int lists = -1;
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(obj, r->columns->v[i]);
		if (!v)
			return ff_error("%s: no column '%s'", what, r->columns->v[i]);
		int is_list = json_is_array(v);
		if (lists >= 0 && is_list != lists)
			return ff_error("%s: columns must be all lists or all single values", what);
		lists = is_list;
		if (is_list && i > 0 && json_array_size(v) != nrows)
			return ff_error("%s: column '%s' has %zu values, column '%s' %zu", what,
					r->columns->v[i], json_array_size(v), r->columns->v[0], nrows);
		if (is_list)
			nrows = json_array_size(v);
	}
	for (size_t k = 0; k < nrows; k++) {
		if (too_many(r) < 0)
			return -1;
		new_row(r);
		for (size_t i = 0; i < n; i++) {
			json_t *v = json_object_get(obj, r->columns->v[i]);
			struct ff_cell *c = r->cells + (r->nrows - 1) * n + i;
			if (put_value(r, c, lists == 1 ? json_array_get(v, k) : v, "row", k, r->columns->v[i]) < 0)
				return -1;
		}
	}
	return 0;
}

static const char *const forms[] = {"dataframe_records", "dataframe_split", "inputs", "instances"};

/* Python's json module writes a missing float (pandas' NaN) as a bare NaN,
 * which is not JSON: the body is copied with each NaN outside a string
 * made null, as MLflow's own server reads it. NULL if there is none. */
static char *nan_as_null(const char *body, size_t len, size_t *out_len)
{
	int in_string = 0, found = 0;
	for (size_t i = 0; i < len && !found; i++) {
		if (in_string)
			in_string = body[i] == '\\' ? (i++, 1) : body[i] != '"';
		else if (body[i] == '"')
			in_string = 1;
		else if (body[i] == 'N' && i + 3 <= len && memcmp(body + i, "NaN", 3) == 0)
			found = 1;
	}
	if (!found)
		return NULL;
	char *copy = ff_xmalloc(len + len / 3 + 1);
	size_t n = 0;
	in_string = 0;
	for (size_t i = 0; i < len; i++) {
		char c = body[i];
		if (in_string) {
			copy[n++] = c;
			if (c == '\\' && i + 1 < len)
				copy[n++] = body[++i];
			else if (c == '"')
				in_string = 0;
		} else if (c == 'N' && i + 3 <= len && memcmp(body + i, "NaN", 3) == 0) {
			memcpy(copy + n, "null", 4);
			n += 4;
			i += 2;
		} else {
			in_string = c == '"';
			copy[n++] = c;
		}
	}
	*out_len = n;
	return copy;
}

static int parse_json(struct ff_request_rows *r, const char *body, size_t len)
{
	json_error_t e;
	size_t fixed_len = 0;
	char *fixed = nan_as_null(body, len, &fixed_len);
	json_t *root = json_loadb(fixed ? fixed : body, fixed ? fixed_len : len, JSON_REJECT_DUPLICATES, &e);
	free(fixed);
	if (!root)
		return ff_error("invalid JSON at line %d, column %d: %s", e.line, e.column, e.text);
	int rc;
	if (json_is_array(root)) {
		rc = records(r, root, "body");
	} else if (!json_is_object(root)) {
		rc = ff_error("expected a JSON object with one of dataframe_records, dataframe_split, "
			      "inputs or instances");
	} else {
		const char *form = NULL;
		for (size_t k = 0; k < sizeof forms / sizeof *forms; k++)
			if (json_object_get(root, forms[k])) {
				if (form) {
					json_decref(root);
					return ff_error("give one of %s and %s, not both", form, forms[k]);
				}
				form = forms[k];
			}
		json_t *v = form ? json_object_get(root, form) : NULL;
		if (!form && json_object_get(root, "columns") && json_object_get(root, "data"))
			rc = split(r, root, "body");
		else if (!form)
			rc = ff_error("expected one of dataframe_records, dataframe_split, inputs or instances");
		else if (strcmp(form, "dataframe_records") == 0)
			rc = records(r, v, form);
		else if (strcmp(form, "dataframe_split") == 0)
			rc = split(r, v, form);
		else if (json_is_array(v))
			rc = records(r, v, form);
		else if (json_is_object(v))
			rc = columnar(r, v, form);
		else
			rc = ff_error("%s: expected a list of records or an object of columns", form);
	}
	json_decref(root);
	return rc;
}

/* ---- CSV ---- */

struct csv_ctx {
	struct ff_request_rows *r;
	long *at;  /* per needed column: its column in the body */
};

static int csv_schema(void *ctx, const struct ff_rec_schema *schema)
{
	struct csv_ctx *c = ctx;
	for (size_t i = 0; i < c->r->columns->n; i++)
		if ((c->at[i] = ff_rec_schema_find(schema, c->r->columns->v[i])) < 0)
			return ff_error("line 1: no column '%s'", c->r->columns->v[i]);
	return 0;
}

static int csv_row(void *ctx, const struct ff_cell *cells, size_t n, long pos)
{
	struct csv_ctx *c = ctx;
	struct ff_request_rows *r = c->r;
	if (too_many(r) < 0)
		return -1;
	new_row(r);
	for (size_t i = 0; i < r->columns->n; i++) {
		struct ff_cell *cell = r->cells + (r->nrows - 1) * r->columns->n + i;
		if ((size_t)c->at[i] >= n)
			return ff_error("line %ld: too few fields", pos);
		const struct ff_cell *in = &cells[c->at[i]];
		if (!in->null)
			set_text(r, cell, in->s, in->len);
	}
	return 0;
}

static int parse_csv(struct ff_request_rows *r, const char *body, size_t len)
{
	if (len == 0)
		return ff_error("an empty CSV body: expected a header line");
	FILE *f = fmemopen((void *)body, len, "r");
	if (!f)
		return ff_error("cannot read the body");
	struct csv_ctx c = {r, ff_xcalloc(r->columns->n ? r->columns->n : 1, sizeof *c.at)};
	struct ff_rec_reader *rd = ff_rec_open(f, "body");
	int rc = ff_rec_each(rd, csv_schema, csv_row, &c) == 0 ? 0 : -1;
	ff_rec_close(rd);
	fclose(f);
	free(c.at);
	return rc;
}

static int type_is(const char *content_type, const char *want)
{
	size_t n = strlen(want);
	return strncasecmp(content_type, want, n) == 0 &&
	       (content_type[n] == '\0' || content_type[n] == ';' || content_type[n] == ' ');
}

int ff_request_parse(struct ff_request_rows *rows, const char *body, size_t len,
		     const char *content_type)
{
	rows->nrows = 0;
	rows->text_len = 0;
	/* A byte order mark, as Excel and PowerShell write: not data. */
	if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0) {
		body += 3;
		len -= 3;
	}
	int rc;
	if (!content_type || type_is(content_type, "application/json"))
		rc = parse_json(rows, body, len);
	else if (type_is(content_type, "text/csv"))
		rc = parse_csv(rows, body, len);
	else
		return ff_error("unsupported content type '%.64s': use application/json or text/csv",
				content_type), FF_REQUEST_UNSUPPORTED;
	if (rc == 0 && rows->nrows == 0)
		rc = ff_error("no rows to score");
	if (rc == 0)
		finish(rows);
	return rc;
}

void ff_request_rows_release(struct ff_request_rows *rows)
{
	free(rows->cells);
	free(rows->text);
	rows->cells = NULL;
	rows->text = NULL;
	rows->cells_cap = rows->text_cap = 0;
}
