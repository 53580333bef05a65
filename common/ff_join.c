#include "ff_join.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ff_time.h"
#include "ff_util.h"

/* Where a column's value comes from when the output row is built. */
enum source { FROM_INPUT, FROM_DERIVED, FROM_FEATURE };

struct out_col {
	enum source from;
	size_t index;   /* input column, derived step, or feature slot */
};

struct lookup {
	const struct ff_lookup_def *def;
	struct ff_feature_table *table;
	enum ff_match match;
	size_t *key_refs;    /* column references (see resolve) of the keys */
	long ts_ref;         /* reference of the timestamp column, -1 none */
	long event_ref;      /* reference of the time the timestamp derives from */
	size_t first_slot;   /* its features' slots in the feature cells */
	struct ff_cell *defaults; /* per feature; .null when no default */
	char **default_text;
};

struct ff_join {
	const struct ff_join_spec *spec;
	struct ff_store *store;
	struct lookup *lookups;
	size_t nlookups, nslots;
	char **slot_names;       /* output name of each feature slot */

	/* set up per input stream */
	int schema_seen;
	struct ff_rec_schema in, out;
	long *prep_src;          /* per step: reference of its source column */
	struct out_col *cols;    /* output columns */
	struct ff_rec_writer *writer;
	FILE *out_file;
	enum ff_rec_format format;
	const struct ff_rec_reader *reader;
	ff_join_observe_fn observe;
	void *ctx;

	/* per row scratch */
	int64_t *derived;
	struct ff_cell *feature_cells;
	struct ff_cell *out_cells;
	int64_t *key_ids, *matches, *event_times;
	char *key_buf;
	size_t key_cap;
};

size_t ff_join_nlookups(const struct ff_join *j) { return j->nlookups; }
const struct ff_rec_schema *ff_join_output_schema(const struct ff_join *j) { return &j->out; }
const struct ff_rec_schema *ff_join_input_schema(const struct ff_join *j) { return &j->in; }

long ff_join_feature_lookup(const struct ff_join *j, const char *name)
{
	for (size_t l = 0; l < j->nlookups; l++) {
		const struct lookup *lk = &j->lookups[l];
		for (size_t f = 0; f < ff_feature_table_nfeatures(lk->table); f++)
			if (strcmp(j->slot_names[lk->first_slot + f], name) == 0)
				return (long)l;
	}
	return -1;
}

const struct ff_feature_table *ff_join_table(const struct ff_join *j, size_t lookup)
{
	return j->lookups[lookup].table;
}

static int parse_default(struct ff_cell *c, enum ff_type type, const char *text)
{
	memset(c, 0, sizeof *c);
	switch (type) {
	case FF_TYPE_REAL: return ff_parse_double(text, strlen(text), &c->d);
	case FF_TYPE_TEXT: c->s = text; c->len = strlen(text); return 0;
	case FF_TYPE_TIMESTAMP: return ff_time_parse(text, strlen(text), 1, &c->i);
	default: return ff_parse_int64(text, strlen(text), &c->i);
	}
}

static int setup_lookup(struct ff_join *j, struct lookup *lk, const char *store)
{
	const struct ff_lookup_def *d = lk->def;
	size_t nk = ff_feature_table_nkeys(lk->table);
	if (d->keys.n != nk)
		return ff_error("%s: lookup %s: the table has %zu key column%s, the lookup gives %zu",
				j->spec->origin, d->table, nk, nk == 1 ? "" : "s", d->keys.n);
	lk->match = !d->timestamp ? FF_MATCH_LATEST : d->exact ? FF_MATCH_EXACT : FF_MATCH_ASOF;
	size_t nf = ff_feature_table_nfeatures(lk->table);
	lk->first_slot = j->nslots;
	lk->defaults = ff_xcalloc(nf, sizeof *lk->defaults);
	for (size_t f = 0; f < nf; f++) {
		const struct ff_column *c = ff_feature_table_feature(lk->table, f);
		long r = ff_strlist_find(&d->rename_from, c->name);
		j->slot_names = ff_xrealloc(j->slot_names, (j->nslots + 1) * sizeof *j->slot_names);
		j->slot_names[j->nslots++] = ff_xstrdup(r >= 0 ? d->rename_to.v[r] : c->name);
		lk->defaults[f].null = 1;
		long di = ff_strlist_find(&d->default_of, c->name);
		if (di >= 0 && parse_default(&lk->defaults[f], c->type, d->default_value.v[di]) < 0)
			return ff_error("%s: lookup %s: default %s=%s: not a valid %s", j->spec->origin,
					d->table, c->name, d->default_value.v[di], ff_type_name(c->type));
	}
	for (size_t i = 0; i < d->rename_from.n; i++) {
		size_t f = 0;
		while (f < nf && strcmp(ff_feature_table_feature(lk->table, f)->name, d->rename_from.v[i]) != 0)
			f++;
		if (f == nf)
			return ff_error("%s: lookup %s: rename %s: no such feature looked up", j->spec->origin,
					d->table, d->rename_from.v[i]);
	}
	for (size_t i = 0; i < d->default_of.n; i++) {
		size_t f = 0;
		while (f < nf && strcmp(ff_feature_table_feature(lk->table, f)->name, d->default_of.v[i]) != 0)
			f++;
		if (f == nf)
			return ff_error("%s: lookup %s: default %s: no such feature looked up", j->spec->origin,
					d->table, d->default_of.v[i]);
	}
	(void)store;
	return 0;
}

/* Tables load on threads of their own, each with its own connection: with
 * two lookups, both cores read SQLite at once. */
struct loading {
	pthread_t thread;
	const char *store;
	const struct ff_lookup_def *def;
	struct ff_feature_table *table;
	int rc, started;
	char *messages;
	size_t messages_len;
};

static void *load_table(void *arg)
{
	struct loading *ld = arg;
	struct ff_store *st;
	FILE *m = open_memstream(&ld->messages, &ld->messages_len);
	ff_hold_messages(m);
	ld->rc = ff_store_open(ld->store, FF_STORE_READ, &st);
	if (ld->rc == 0) {
		ld->rc = ff_feature_table_load(st, ld->def->table, &ld->def->features, &ld->table);
		ff_store_close(st);
	}
	ff_hold_messages(NULL);
	if (m)
		fclose(m);
	return NULL;
}

static int load_tables(struct ff_join *j, const char *store)
{
	size_t n = j->nlookups;
	struct loading *ld = ff_xcalloc(n ? n : 1, sizeof *ld);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		ld[i] = (struct loading){.store = store, .def = j->lookups[i].def};
		ld[i].started = i + 1 < n && pthread_create(&ld[i].thread, NULL, load_table, &ld[i]) == 0;
		if (!ld[i].started)
			load_table(&ld[i]); /* the last one here, meanwhile */
	}
	for (size_t i = 0; i < n; i++) {
		if (ld[i].started)
			pthread_join(ld[i].thread, NULL);
		j->lookups[i].table = ld[i].table;
		if (ld[i].messages_len)
			fputs(ld[i].messages, stderr); /* in lookup order, whichever finished first */
		free(ld[i].messages);
		if (ld[i].rc < 0)
			rc = -1;
	}
	free(ld);
	return rc;
}

int ff_join_open(const struct ff_join_spec *spec, const char *store, struct ff_join **out)
{
	struct ff_join *j = ff_xcalloc(1, sizeof *j);
	j->spec = spec;
	if (ff_store_open(store, FF_STORE_READ, &j->store) < 0)
		goto fail;
	j->nlookups = spec->nlookups;
	j->lookups = ff_xcalloc(spec->nlookups ? spec->nlookups : 1, sizeof *j->lookups);
	for (size_t i = 0; i < spec->nlookups; i++)
		j->lookups[i].def = &spec->lookups[i];
	if (load_tables(j, store) < 0)
		goto fail;
	for (size_t i = 0; i < spec->nlookups; i++)
		if (setup_lookup(j, &j->lookups[i], store) < 0)
			goto fail;
	for (size_t a = 0; a < j->nslots; a++)
		for (size_t b = 0; b < a; b++)
			if (strcmp(j->slot_names[a], j->slot_names[b]) == 0) {
				ff_error("%s: two lookups give a column named %s: rename one", spec->origin,
					 j->slot_names[a]);
				goto fail;
			}
	j->feature_cells = ff_xcalloc(j->nslots ? j->nslots : 1, sizeof *j->feature_cells);
	j->derived = ff_xcalloc(spec->npreps ? spec->npreps : 1, sizeof *j->derived);
	size_t n = j->nlookups ? j->nlookups : 1;
	j->key_ids = ff_xcalloc(n, sizeof *j->key_ids);
	j->matches = ff_xcalloc(n, sizeof *j->matches);
	j->event_times = ff_xcalloc(n, sizeof *j->event_times);
	*out = j;
	return 0;
fail:
	ff_join_free(j);
	return -1;
}

void ff_join_free(struct ff_join *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->nlookups; i++) {
		ff_feature_table_free(j->lookups[i].table);
		free(j->lookups[i].key_refs);
		free(j->lookups[i].defaults);
	}
	free(j->lookups);
	for (size_t i = 0; i < j->nslots; i++)
		free(j->slot_names[i]);
	free(j->slot_names);
	ff_rec_schema_release(&j->in);
	ff_rec_schema_release(&j->out);
	free(j->prep_src);
	free(j->cols);
	free(j->derived);
	free(j->feature_cells);
	free(j->out_cells);
	free(j->key_ids);
	free(j->matches);
	free(j->event_times);
	free(j->key_buf);
	ff_store_close(j->store);
	free(j);
}

/* A column reference: an input column i is i, derived step k is
 * in.ncols + k (only steps before `before`). -1 if unknown. */
static long resolve(const struct ff_join *j, const char *name, size_t before)
{
	long i = ff_rec_schema_find(&j->in, name);
	if (i >= 0)
		return i;
	for (size_t k = 0; k < before && k < j->spec->npreps; k++)
		if (strcmp(j->spec->preps[k].name, name) == 0)
			return (long)(j->in.ncols + k);
	return -1;
}

static int missing_column(const struct ff_join *j, const char *name, const char *what)
{
	char where[600];
	ff_rec_where(j->reader, 1, where, sizeof where);
	return ff_error("%s: no column '%s' (%s)", where, name, what);
}

/* The output: input columns, derived columns, features; minus exclusions. */
static void add_out(struct ff_join *j, const char *name, enum ff_type type, enum source from,
		    size_t index)
{
	if (ff_strlist_find(&j->spec->exclude, name) >= 0)
		return;
	j->cols = ff_xrealloc(j->cols, (j->out.ncols + 1) * sizeof *j->cols);
	j->cols[j->out.ncols] = (struct out_col){from, index};
	ff_rec_schema_add(&j->out, name, type);
}

static int on_schema(void *ctx, const struct ff_rec_schema *schema)
{
	struct ff_join *j = ctx;
	const struct ff_join_spec *spec = j->spec;
	if (j->schema_seen) {
		/* A later input must have the same columns as the first. */
		int same = schema->ncols == j->in.ncols;
		for (size_t i = 0; same && i < schema->ncols; i++)
			same = strcmp(schema->names[i], j->in.names[i]) == 0 && schema->types[i] == j->in.types[i];
		if (!same) {
			char where[600];
			ff_rec_where(j->reader, 1, where, sizeof where);
			return ff_error("%s: the columns differ from those of the first input", where);
		}
		return 0;
	}
	j->schema_seen = 1;
	for (size_t i = 0; i < schema->ncols; i++)
		ff_rec_schema_add(&j->in, schema->names[i], schema->types[i]);
	j->prep_src = ff_xcalloc(spec->npreps ? spec->npreps : 1, sizeof *j->prep_src);
	for (size_t k = 0; k < spec->npreps; k++) {
		const struct ff_prep *p = &spec->preps[k];
		if ((j->prep_src[k] = resolve(j, p->column, k)) < 0)
			return missing_column(j, p->column, "source of a derived column");
		if (resolve(j, p->name, k) >= 0) {
			char where[600];
			ff_rec_where(j->reader, 1, where, sizeof where);
			return ff_error("%s: derived column '%s' is already a column", where, p->name);
		}
	}
	size_t nrefs = j->in.ncols + spec->npreps;
	for (size_t l = 0; l < j->nlookups; l++) {
		struct lookup *lk = &j->lookups[l];
		lk->key_refs = ff_xcalloc(lk->def->keys.n, sizeof *lk->key_refs);
		for (size_t k = 0; k < lk->def->keys.n; k++) {
			long r = resolve(j, lk->def->keys.v[k], spec->npreps);
			if (r < 0)
				return missing_column(j, lk->def->keys.v[k], "key of a lookup");
			lk->key_refs[k] = (size_t)r;
		}
		lk->ts_ref = lk->event_ref = -1;
		if (lk->def->timestamp) {
			lk->ts_ref = resolve(j, lk->def->timestamp, spec->npreps);
			if (lk->ts_ref < 0)
				return missing_column(j, lk->def->timestamp, "timestamp of a lookup");
			/* The event time: follow derived steps back to an input column. */
			lk->event_ref = lk->ts_ref;
			while ((size_t)lk->event_ref >= j->in.ncols && (size_t)lk->event_ref < nrefs)
				lk->event_ref = j->prep_src[(size_t)lk->event_ref - j->in.ncols];
		}
	}
	for (size_t i = 0; i < j->in.ncols; i++)
		add_out(j, j->in.names[i], j->in.types[i], FROM_INPUT, i);
	for (size_t k = 0; k < spec->npreps; k++)
		add_out(j, spec->preps[k].name, FF_TYPE_TIMESTAMP, FROM_DERIVED, k);
	for (size_t l = 0; l < j->nlookups; l++) {
		struct lookup *lk = &j->lookups[l];
		for (size_t f = 0; f < ff_feature_table_nfeatures(lk->table); f++)
			add_out(j, j->slot_names[lk->first_slot + f],
				ff_feature_table_feature(lk->table, f)->type, FROM_FEATURE, lk->first_slot + f);
	}
	for (size_t a = 0; a < j->out.ncols; a++)
		for (size_t b = 0; b < a; b++)
			if (strcmp(j->out.names[a], j->out.names[b]) == 0)
				return ff_error("%s: the output would have two columns named %s: rename the feature",
						j->spec->origin, j->out.names[a]);
	for (size_t e = 0; e < spec->exclude.n; e++) {
		int known = ff_rec_schema_find(&j->in, spec->exclude.v[e]) >= 0;
		for (size_t k = 0; !known && k < spec->npreps; k++)
			known = strcmp(spec->preps[k].name, spec->exclude.v[e]) == 0;
		for (size_t s = 0; !known && s < j->nslots; s++)
			known = strcmp(j->slot_names[s], spec->exclude.v[e]) == 0;
		if (!known)
			return missing_column(j, spec->exclude.v[e], "excluded");
	}
	j->out_cells = ff_xcalloc(j->out.ncols ? j->out.ncols : 1, sizeof *j->out_cells);
	if (!j->out_file)
		return 0; /* the observer takes the rows */
	j->writer = ff_rec_writer_open(j->out_file, j->format, &j->out);
	return j->writer ? 0 : -1;
}

/* The time in a cell: a timestamp, or text parsed as one. */
static int cell_time(const struct ff_join *j, const struct ff_cell *cells, long ref, int64_t *t,
		     const char **text)
{
	if ((size_t)ref >= j->in.ncols) {
		*t = j->derived[(size_t)ref - j->in.ncols];
		return 0;
	}
	const struct ff_cell *c = &cells[ref];
	*text = c->null ? "" : j->in.types[ref] == FF_TYPE_TEXT ? c->s : "(not a text or timestamp column)";
	if (c->null)
		return -1;
	if (j->in.types[ref] == FF_TYPE_TIMESTAMP) {
		*t = c->i;
		return 0;
	}
	if (j->in.types[ref] != FF_TYPE_TEXT)
		return -1;
	return ff_time_parse(c->s, c->len, 0, t);
}

static const char *ref_name(const struct ff_join *j, long ref)
{
	return (size_t)ref < j->in.ncols ? j->in.names[ref] : j->spec->preps[(size_t)ref - j->in.ncols].name;
}

/* The key tuple of a lookup, values joined by NUL; NULL if a part is NULL. */
static const char *key_bytes(struct ff_join *j, const struct lookup *lk, const struct ff_cell *cells,
			     size_t *len)
{
	size_t n = 0;
	for (size_t k = 0; k < lk->def->keys.n; k++) {
		size_t ref = lk->key_refs[k];
		char num[32];
		const char *p;
		size_t plen;
		if (ref >= j->in.ncols) {
			plen = (size_t)ff_time_format(j->derived[ref - j->in.ncols], num);
			p = num;
		} else if (cells[ref].null) {
			return NULL;
		} else if (j->in.types[ref] == FF_TYPE_TEXT) {
			p = cells[ref].s;
			plen = cells[ref].len;
		} else if (j->in.types[ref] == FF_TYPE_REAL) {
			plen = (size_t)ff_format_double(num, cells[ref].d);
			p = num;
		} else if (j->in.types[ref] == FF_TYPE_TIMESTAMP) {
			plen = (size_t)ff_time_format(cells[ref].i, num);
			p = num;
		} else {
			plen = (size_t)snprintf(num, sizeof num, "%" PRId64, cells[ref].i);
			p = num;
		}
		ff_grow(&j->key_buf, &j->key_cap, n + plen + 1, 1);
		if (k)
			j->key_buf[n++] = '\0';
		memcpy(j->key_buf + n, p, plen);
		n += plen;
	}
	*len = n;
	return j->key_buf ? j->key_buf : "";
}

static int on_row(void *ctx, const struct ff_cell *cells, size_t n, long pos)
{
	struct ff_join *j = ctx;
	const struct ff_join_spec *spec = j->spec;
	char where[600];
	const char *text = "";
	if (n != j->in.ncols) {
		ff_rec_where(j->reader, pos, where, sizeof where);
		return ff_error("%s: %zu fields, the header has %zu", where, n, j->in.ncols);
	}
	for (size_t k = 0; k < spec->npreps; k++) {
		int64_t t;
		if (cell_time(j, cells, j->prep_src[k], &t, &text) < 0) {
			ff_rec_where(j->reader, pos, where, sizeof where);
			return ff_error("%s: column '%s': bad timestamp '%.64s'", where,
					ref_name(j, j->prep_src[k]), text);
		}
		j->derived[k] = ff_prep_apply(&spec->preps[k], t);
	}
	for (size_t l = 0; l < j->nlookups; l++) {
		struct lookup *lk = &j->lookups[l];
		size_t nf = ff_feature_table_nfeatures(lk->table);
		size_t klen;
		const char *key = key_bytes(j, lk, cells, &klen);
		int64_t t = 0;
		j->event_times[l] = INT64_MIN;
		if (lk->ts_ref >= 0) {
			if (cell_time(j, cells, lk->ts_ref, &t, &text) < 0) {
				ff_rec_where(j->reader, pos, where, sizeof where);
				return ff_error("%s: column '%s': bad timestamp '%.64s'", where,
						ref_name(j, lk->ts_ref), text);
			}
			int64_t ev;
			j->event_times[l] = cell_time(j, cells, lk->event_ref, &ev, &text) == 0 ? ev : t;
		}
		j->key_ids[l] = key ? ff_feature_table_key(lk->table, key, klen) : -1;
		j->matches[l] = ff_feature_table_find(lk->table, j->key_ids[l], lk->match, t, lk->def->lookback);
		for (size_t f = 0; f < nf; f++) {
			struct ff_cell *c = &j->feature_cells[lk->first_slot + f];
			if (j->matches[l] >= 0)
				ff_feature_table_value(lk->table, j->matches[l], f, c);
			else
				*c = lk->defaults[f];
		}
	}
	for (size_t c = 0; c < j->out.ncols; c++) {
		const struct out_col *oc = &j->cols[c];
		switch (oc->from) {
		case FROM_INPUT: j->out_cells[c] = cells[oc->index]; break;
		case FROM_DERIVED: j->out_cells[c] = (struct ff_cell){.i = j->derived[oc->index]}; break;
		case FROM_FEATURE: j->out_cells[c] = j->feature_cells[oc->index]; break;
		}
	}
	if (j->writer && ff_rec_writer_put(j->writer, j->out_cells) < 0)
		return -1;
	if (j->observe) {
		ff_rec_where(j->reader, pos, where, sizeof where);
		struct ff_join_row row = {j->out_cells, &j->out, cells, &j->in, where,
					  j->key_ids, j->matches, j->event_times};
		return j->observe(j->ctx, &row);
	}
	return 0;
}

int ff_join_run(struct ff_join *j, char **inputs, size_t ninputs, FILE *out,
		enum ff_rec_format format, ff_join_observe_fn observe, void *ctx)
{
	char *stdin_only[] = {"-"};
	if (ninputs == 0) {
		inputs = stdin_only;
		ninputs = 1;
	}
	j->out_file = out;
	j->format = format;
	j->observe = observe;
	j->ctx = ctx;
	int rc = 0;
	for (size_t i = 0; i < ninputs && rc == 0; i++) {
		FILE *f = ff_open_input(inputs[i]);
		if (!f) {
			rc = -1;
			break;
		}
		struct ff_rec_reader *r = ff_rec_open(f, ff_input_name(inputs[i]));
		j->reader = r;
		rc = ff_rec_each(r, on_schema, on_row, j) == 0 ? 0 : -1;
		j->reader = NULL;
		ff_rec_close(r);
		if (f != stdin)
			fclose(f);
	}
	if (ff_rec_writer_close(j->writer) < 0 && rc == 0)
		rc = ff_error("write error");
	j->writer = NULL;
	return rc;
}
