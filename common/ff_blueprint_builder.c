#include "ff_blueprint_builder.h"
#include "ff_pg.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "ff_keyset.h"
#include "ff_store.h"
#include "ff_store_bind.h"
#include "ff_time.h"
#include "ff_util.h"

/* Mean of a feature, overall and per key of its lookup. */
struct stat {
	double sum;
	int64_t n;
	double *key_sum;   /* per key id of the lookup's table */
	int64_t *key_n;
};

/* What the values of an input column look like, to type the vector: the
 * widest numeric type seen, and how many values were numbers and text, with
 * the first text value and where it was (the type is known only at the end). */
enum seen { SEEN_NOTHING, SEEN_INTEGER, SEEN_REAL, SEEN_TEXT };
struct input_seen {
	enum seen number;  /* SEEN_NOTHING, SEEN_INTEGER or SEEN_REAL */
	int code;          /* a number with a leading zero seen ("07030") */
	int64_t nnumber, ntext;
	char *first_text, *first_where;
};

/* A hash of rows: their canonical bytes gather in buf and go to the state
 * a few tens of KB at a time (one update a row cost a tenth of the joining
 * thread); a streaming hash is the same however its input is cut. */
enum { HASH_CHUNK = 1 << 16 };
struct hashing {
	XXH3_state_t *h;
	unsigned char *buf;
	size_t len, cap;
};

struct ff_blueprint {
	const struct ff_join_spec *spec;
	const struct ff_join *join;
	char *store;
	int ready;                 /* columns found in the first row */
	long label_col;
	size_t *input_cols;        /* output columns of spec->inputs */
	struct input_seen *input_seen;
	size_t nfeat;              /* features over all lookups */
	size_t *feat_col;          /* their output column, SIZE_MAX if excluded */
	size_t *feat_lookup;       /* and their lookup, index within it */
	size_t *feat_index;
	struct stat *stats;
	double label_sum;
	int64_t label_n;
	int64_t rows, leaky_rows;
	int64_t *misses, *leaks;   /* per lookup */
	struct ff_rec_schema columns; /* of the training set, with types as seen */
	struct hashing in_hash, out_hash;
};

struct ff_blueprint *ff_blueprint_new(const struct ff_join_spec *spec, const struct ff_join *j,
				      const char *store)
{
	struct ff_blueprint *b = ff_xcalloc(1, sizeof *b);
	b->spec = spec;
	b->join = j;
	b->store = ff_xstrdup(store);
	size_t nl = ff_join_nlookups(j);
	for (size_t l = 0; l < nl; l++)
		b->nfeat += ff_feature_table_nfeatures(ff_join_table(j, l));
	size_t nf = b->nfeat ? b->nfeat : 1;
	b->feat_col = ff_xcalloc(nf, sizeof *b->feat_col);
	b->feat_lookup = ff_xcalloc(nf, sizeof *b->feat_lookup);
	b->feat_index = ff_xcalloc(nf, sizeof *b->feat_index);
	b->stats = ff_xcalloc(nf, sizeof *b->stats);
	size_t f = 0;
	for (size_t l = 0; l < nl; l++) {
		const struct ff_feature_table *t = ff_join_table(j, l);
		for (size_t i = 0; i < ff_feature_table_nfeatures(t); i++, f++) {
			b->feat_lookup[f] = l;
			b->feat_index[f] = i;
		}
	}
	b->misses = ff_xcalloc(nl ? nl : 1, sizeof *b->misses);
	b->leaks = ff_xcalloc(nl ? nl : 1, sizeof *b->leaks);
	b->input_cols = ff_xcalloc(spec->inputs.n ? spec->inputs.n : 1, sizeof *b->input_cols);
	b->input_seen = ff_xcalloc(spec->inputs.n ? spec->inputs.n : 1, sizeof *b->input_seen);
	b->in_hash.h = XXH3_createState();
	b->out_hash.h = XXH3_createState();
	XXH3_128bits_reset(b->in_hash.h);
	XXH3_128bits_reset(b->out_hash.h);
	ff_rec_schema_init(&b->columns);
	return b;
}

void ff_blueprint_free(struct ff_blueprint *b)
{
	if (!b)
		return;
	for (size_t f = 0; f < b->nfeat; f++) {
		free(b->stats[f].key_sum);
		free(b->stats[f].key_n);
	}
	free(b->stats);
	free(b->feat_col);
	free(b->feat_lookup);
	free(b->feat_index);
	free(b->misses);
	free(b->leaks);
	free(b->input_cols);
	for (size_t i = 0; i < b->spec->inputs.n; i++) {
		free(b->input_seen[i].first_text);
		free(b->input_seen[i].first_where);
	}
	free(b->input_seen);
	free(b->store);
	ff_rec_schema_release(&b->columns);
	XXH3_freeState(b->in_hash.h);
	XXH3_freeState(b->out_hash.h);
	free(b->in_hash.buf);
	free(b->out_hash.buf);
	free(b);
}

int64_t ff_blueprint_rows(const struct ff_blueprint *b) { return b->rows; }
int64_t ff_blueprint_leaky_rows(const struct ff_blueprint *b) { return b->leaky_rows; }

/* Find the columns on the first row: the output schema is known by then. */
static int setup(struct ff_blueprint *b, const struct ff_rec_schema *s)
{
	b->label_col = ff_rec_schema_find(s, b->spec->label);
	if (b->label_col < 0)
		return ff_error("%s: no label column '%s' in the training set", b->spec->origin, b->spec->label);
	for (size_t i = 0; i < b->spec->inputs.n; i++) {
		long c = ff_rec_schema_find(s, b->spec->inputs.v[i]);
		if (c < 0)
			return ff_error("%s: input '%s' is not a column of the training set", b->spec->origin,
					b->spec->inputs.v[i]);
		if (c == b->label_col)
			return ff_error("%s: the label %s cannot be an input", b->spec->origin, b->spec->label);
		b->input_cols[i] = (size_t)c;
	}
	size_t f = 0;
	for (size_t l = 0; l < ff_join_nlookups(b->join); l++) {
		const struct ff_feature_table *t = ff_join_table(b->join, l);
		const struct ff_lookup_def *d = &b->spec->lookups[l];
		for (size_t i = 0; i < ff_feature_table_nfeatures(t); i++, f++) {
			const char *name = ff_feature_table_feature(t, i)->name;
			long r = ff_strlist_find(&d->rename_from, name);
			long c = ff_rec_schema_find(s, r >= 0 ? d->rename_to.v[r] : name);
			b->feat_col[f] = c < 0 ? SIZE_MAX : (size_t)c;
		}
	}
	for (size_t i = 0; i < s->ncols; i++)
		ff_rec_schema_add(&b->columns, s->names[i], s->types[i]);
	b->ready = 1;
	return 0;
}

/* Canonical bytes of a row, whatever its format: per cell a tag, then the
 * text with its length or the 8 bytes of the number; one hash update a row. */
static void hash_cells(struct hashing *h, const struct ff_rec_schema *s, const struct ff_cell *cells)
{
	if (h->len >= HASH_CHUNK) {
		XXH3_128bits_update(h->h, h->buf, h->len);
		h->len = 0;
	}
	size_t n = h->len;
	for (size_t i = 0; i < s->ncols; i++) {
		const struct ff_cell *c = &cells[i];
		size_t need = n + 1 + 8 + (!c->null && s->types[i] == FF_TYPE_TEXT ? c->len : 0);
		if (need > h->cap)
			ff_grow(&h->buf, &h->cap, need, 1);
		unsigned char *p = h->buf + n;
		*p++ = c->null ? 0 : (unsigned char)(1 + s->types[i]);
		if (!c->null) {
			if (s->types[i] == FF_TYPE_TEXT) {
				uint64_t len = c->len;
				memcpy(p, &len, 8);
				memcpy(p + 8, c->s, c->len);
				p += 8 + c->len;
			} else {
				memcpy(p, s->types[i] == FF_TYPE_REAL ? (const void *)&c->d : (const void *)&c->i, 8);
				p += 8;
			}
		}
		n = (size_t)(p - h->buf);
	}
	h->len = n;
}

static double cell_number(const struct ff_cell *c, enum ff_type type, int *ok)
{
	*ok = 1;
	if (type == FF_TYPE_REAL)
		return c->d;
	if (type == FF_TYPE_INTEGER)
		return (double)c->i;
	double d;
	if (type == FF_TYPE_TEXT && ff_parse_double(c->s, c->len, &d) == 0)
		return d;
	*ok = 0;
	return 0;
}

static void add_key_stat(struct stat *st, const struct ff_feature_table *t, int64_t key, double v)
{
	if (key < 0)
		return;
	if (!st->key_sum) {
		size_t n = ff_feature_table_key_count(t);
		st->key_sum = ff_xcalloc(n, sizeof *st->key_sum);
		st->key_n = ff_xcalloc(n, sizeof *st->key_n);
	}
	st->key_sum[key] += v;
	st->key_n[key]++;
}

int ff_blueprint_observe(void *blueprint, const struct ff_join_row *row)
{
	struct ff_blueprint *b = blueprint;
	if (!b->ready && setup(b, row->schema) < 0)
		return -1;
	const struct ff_rec_schema *s = row->schema;
	const struct ff_cell *label = &row->cells[b->label_col];
	int ok;
	if (!label->null) {
		double v = cell_number(label, s->types[b->label_col], &ok);
		if (!ok)
			return ff_error("%s: label '%s': %s", row->where, b->spec->label,
					s->types[b->label_col] == FF_TYPE_TEXT ? "not a number" : "not a numeric column");
		b->label_sum += v;
		b->label_n++;
	}
	for (size_t i = 0; i < b->spec->inputs.n; i++) {
		const struct ff_cell *c = &row->cells[b->input_cols[i]];
		enum ff_type type = s->types[b->input_cols[i]];
		struct input_seen *in = &b->input_seen[i];
		if (c->null)
			continue;
		enum seen now = SEEN_TEXT;
		int64_t iv;
		double dv;
		/* "07030" is a code, not a number: a leading zero makes the column text. */
		int leading_zero = type == FF_TYPE_TEXT && c->len > 1 && c->s[0] == '0' && c->s[1] != '.';
		if (leading_zero && ff_parse_double(c->s, c->len, &dv) == 0)
			in->code = 1;
		if (leading_zero)
			now = SEEN_TEXT;
		else if (type == FF_TYPE_INTEGER || (type == FF_TYPE_TEXT && ff_parse_int64(c->s, c->len, &iv) == 0))
			now = SEEN_INTEGER;
		else if (type == FF_TYPE_REAL || (type == FF_TYPE_TEXT && ff_parse_double(c->s, c->len, &dv) == 0))
			now = SEEN_REAL;
		if (now != SEEN_TEXT) {
			in->nnumber++;
			if (now > in->number)
				in->number = now;
		} else if (!in->code && in->ntext++ == 0) {
			in->first_text = ff_xstrndup(c->s, c->len);
			in->first_where = ff_xstrdup(row->where);
		}
	}
	int leaky = 0;
	for (size_t l = 0; l < ff_join_nlookups(b->join); l++) {
		if (row->match[l] < 0) {
			b->misses[l]++;
			continue;
		}
		int64_t at = ff_feature_table_time(ff_join_table(b->join, l), row->match[l]);
		if (row->event_time[l] != INT64_MIN && at > row->event_time[l]) {
			b->leaks[l]++;
			leaky = 1;
		}
	}
	b->leaky_rows += leaky;
	for (size_t f = 0; f < b->nfeat; f++) {
		size_t l = b->feat_lookup[f];
		if (row->match[l] < 0)
			continue;
		struct ff_cell c;
		const struct ff_feature_table *t = ff_join_table(b->join, l);
		/* The value the join put in the row, unless the spec excludes it. */
		if (b->feat_col[f] != SIZE_MAX)
			c = row->cells[b->feat_col[f]];
		else
			ff_feature_table_value(t, row->match[l], b->feat_index[f], &c);
		enum ff_type type = ff_feature_table_feature(t, b->feat_index[f])->type;
		if (c.null || (type != FF_TYPE_REAL && type != FF_TYPE_INTEGER))
			continue;
		double v = type == FF_TYPE_REAL ? c.d : (double)c.i;
		b->stats[f].sum += v;
		b->stats[f].n++;
		add_key_stat(&b->stats[f], t, row->key[l], v);
	}
	hash_cells(&b->in_hash, row->input_schema, row->input);
	hash_cells(&b->out_hash, s, row->cells);
	b->rows++;
	return 0;
}

/* The one typing rule of an input column (ff-blueprint(5)): text when a
 * value is a number with a leading zero (a code such as "07030"); else
 * numeric when every value is a number (empty ones aside), text when at
 * least half of the values are not numbers (codes some of which look like
 * numbers), and an error naming the first value that is not a number when
 * most values are numbers: one "n/a" must not turn a numeric column into
 * categories. SEEN_NOTHING with ntext > 0 is that error. */
static enum seen input_type(const struct input_seen *in)
{
	if (in->code)
		return SEEN_TEXT;
	if (in->ntext == 0)
		return in->number;
	return in->ntext >= in->nnumber ? SEEN_TEXT : SEEN_NOTHING;
}

static const char *seen_type(enum seen s)
{
	return s == SEEN_INTEGER ? "integer" : s == SEEN_REAL ? "real" : "text";
}

/* The digest of the rows so far, the bytes not yet given to the state too. */
static void put_hash(FILE *out, const char *name, const struct hashing *h)
{
	XXH3_state_t *all = XXH3_createState();
	XXH3_copyState(all, h->h);
	XXH3_128bits_update(all, h->buf, h->len);
	XXH128_hash_t d = XXH3_128bits_digest(all);
	XXH3_freeState(all);
	fprintf(out, "%s xxh3-128:%016" PRIx64 "%016" PRIx64 "\n", name, (uint64_t)d.high64,
		(uint64_t)d.low64);
}

/* The store's absolute path and identity (none for a store made before
 * identities and not written since). */
static int store_identity(const struct ff_blueprint *b, FILE *out)
{
	/* A PostgreSQL store is named by its connection string (no password). */
	char *real = ff_pg_is_uri(b->store) ? ff_xstrdup(b->store) : realpath(b->store, NULL);
	if (!real)
		return ff_error("%s: %s", b->store, strerror(errno));
	fprintf(out, "store-path %s\n", real);
	free(real);
	struct ff_store *st = NULL;
	char id[FF_STORE_ID_SIZE];
	int has = ff_store_open(b->store, FF_STORE_READ, &st) < 0 ? -1 : ff_store_id(st, id);
	ff_store_close(st);
	if (has > 0)
		fprintf(out, "store-id %s\n", id);
	return has < 0 ? -1 : 0;
}

int ff_blueprint_write(const struct ff_blueprint *b, FILE *out)
{
	const struct ff_join_spec *spec = b->spec;
	char buf[64];
	/* No rows: the columns are still those of the join. */
	if (!b->ready && setup((struct ff_blueprint *)b, ff_join_output_schema(b->join)) < 0)
		return -1;
	for (size_t i = 0; i < spec->inputs.n; i++) {
		const struct input_seen *in = &b->input_seen[i];
		if (!in->code && in->ntext && input_type(in) == SEEN_NOTHING)
			return ff_error("%s: column '%s': not a number '%s' (%" PRId64 " of its %" PRId64
					" values are not numbers; a column is text only when most are)",
					in->first_where, spec->inputs.v[i], in->first_text, in->ntext,
					in->ntext + in->nnumber);
	}
	/* No creation time: the same inputs give the same bytes. */
	fprintf(out, "# ff-blueprint(5): how this training set was made, to make its rows again\n");
	fprintf(out, "format 1\nstore %s\n", b->store);
	if (store_identity(b, out) < 0)
		return -1;
	/* The spec, as ff-join-spec(5) lines, with the table versions read. */
	char *text = ff_join_spec_text(spec);
	size_t lookup = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		fprintf(out, "%s\n", line);
		if (strncmp(line, "lookup ", 7) == 0)
		{
			const struct ff_feature_table *t = ff_join_table(b->join, lookup++);
			char hash[FF_DEFINITION_HASH_SIZE];
			ff_definition_hash(ff_feature_table_def(t)->definition, hash);
			fprintf(out, "table-version %" PRId64 "\ntable-definition %s\n",
				ff_feature_table_version(t), hash);
		}
	}
	free(text);
	/* The training set's columns, then the model's input vector. */
	for (size_t i = 0; i < b->columns.ncols; i++)
		fprintf(out, "column %s %s\n", b->columns.names[i], ff_type_name(b->columns.types[i]));
	for (size_t i = 0; i < spec->inputs.n; i++)
		fprintf(out, "vector %s %s\n", spec->inputs.v[i], seen_type(input_type(&b->input_seen[i])));
	for (size_t f = 0; f < b->nfeat; f++) {
		if (b->feat_col[f] == SIZE_MAX || (long)b->feat_col[f] == b->label_col)
			continue;
		const char *name = b->columns.names[b->feat_col[f]];
		if (ff_strlist_find(&spec->inputs, name) >= 0)
			continue;
		const struct ff_column *c = ff_feature_table_feature(ff_join_table(b->join, b->feat_lookup[f]),
								     b->feat_index[f]);
		fprintf(out, "vector %s %s\n", name, ff_type_name(c->type));
	}
	/* Fallbacks: the mean of each feature, overall and per key. */
	for (size_t f = 0; f < b->nfeat; f++) {
		const struct stat *st = &b->stats[f];
		if (b->feat_col[f] == SIZE_MAX || st->n == 0)
			continue;
		const char *name = b->columns.names[b->feat_col[f]];
		ff_format_double(buf, st->sum / (double)st->n);
		fprintf(out, "mean %s %s %" PRId64 "\n", name, buf, st->n);
	}
	for (size_t f = 0; f < b->nfeat; f++) {
		const struct stat *st = &b->stats[f];
		if (b->feat_col[f] == SIZE_MAX || !st->key_n)
			continue;
		const struct ff_feature_table *t = ff_join_table(b->join, b->feat_lookup[f]);
		const char *name = b->columns.names[b->feat_col[f]];
		for (size_t k = 0; k < ff_feature_table_key_count(t); k++) {
			if (!st->key_n[k])
				continue;
			size_t len;
			const char *key = ff_feature_table_key_bytes(t, (int64_t)k, &len);
			ff_format_double(buf, st->key_sum[k] / (double)st->key_n[k]);
			fprintf(out, "key-mean %s %s %" PRId64 " ", name, buf, st->key_n[k]);
			ff_keyset_put_escaped(out, key, len); /* last on the line */
			putc('\n', out);
		}
	}
	if (b->label_n) {
		ff_format_double(buf, b->label_sum / (double)b->label_n);
		fprintf(out, "label-mean %s %" PRId64 "\n", buf, b->label_n);
	}
	fprintf(out, "rows %" PRId64 "\n", b->rows);
	for (size_t l = 0; l < ff_join_nlookups(b->join); l++) {
		const char *table = spec->lookups[l].table;
		fprintf(out, "misses %s %" PRId64 "\n", table, b->misses[l]);
		fprintf(out, "leakage %s %" PRId64 "\n", table, b->leaks[l]);
	}
	put_hash(out, "input-hash", &b->in_hash);
	put_hash(out, "training-set-hash", &b->out_hash);
	return ferror(out) ? -1 : 0;
}
