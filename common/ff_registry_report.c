#include "ff_registry_report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ff_json.h"
#include "ff_model.h"
#include "ff_util.h"

/* ---- helpers ---- */

/* l joined with commas (malloc'd), or dflt when empty. */
static char *join(const struct ff_strlist *l, const char *dflt)
{
	if (l->n == 0)
		return ff_xstrdup(dflt);
	size_t n = 1;
	for (size_t i = 0; i < l->n; i++)
		n += strlen(l->v[i]) + 1;
	char *s = ff_xmalloc(n), *p = s;
	for (size_t i = 0; i < l->n; i++)
		p += sprintf(p, "%s%s", i ? "," : "", l->v[i]);
	return s;
}

/* Lines "KEY VALUE" of an attribute, split. */
static void key_values(const char *text, struct ff_strlist *keys, struct ff_strlist *values)
{
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		const char *sp = memchr(line, ' ', n);
		if (n && sp) {
			char *k = ff_xstrndup(line, (size_t)(sp - line)),
			     *v = ff_xstrndup(sp + 1, n - (size_t)(sp - line) - 1);
			ff_strlist_add(keys, k);
			ff_strlist_add(values, v);
			free(k);
			free(v);
		}
		line = end ? end + 1 : NULL;
	}
}

/* The text of one metric of an ff_metrics attribute (malloc'd), or NULL. */
static char *metric(const char *metrics, const char *key)
{
	struct ff_strlist k = {0}, v = {0};
	key_values(metrics, &k, &v);
	long i = ff_strlist_find(&k, key);
	char *value = i >= 0 ? ff_xstrdup(v.v[i]) : NULL;
	ff_strlist_release(&k);
	ff_strlist_release(&v);
	return value;
}

/* A text table as ff-models prints it: aligned left. */
static void table_init(struct ff_report_table *t, const char *heads, int headless)
{
	ff_report_init(t, heads);
	t->left = 1;
	t->headless = headless;
}

static void add_int(struct ff_report_table *t, int64_t v)
{
	ff_report_addf(t, "%" PRId64, v);
}

/* A table version: none (0) is an empty cell. */
static void add_table_version(struct ff_report_table *t, int64_t v)
{
	if (v)
		add_int(t, v);
	else
		ff_report_add(t, NULL);
}

static void json_strlist(FILE *out, const struct ff_strlist *l)
{
	putc('[', out);
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			fputs(", ", out);
		ff_json_string(out, l->v[i]);
	}
	putc(']', out);
}

/* ,\n  "name": {"key": value, ...}: values as numbers or as strings. */
static void json_object(FILE *out, const char *name, const struct ff_strlist *k,
			const struct ff_strlist *v, int numbers)
{
	fprintf(out, ",\n  \"%s\": {", name);
	for (size_t i = 0; i < k->n; i++) {
		fputs(i ? ", " : "", out);
		ff_json_string(out, k->v[i]);
		fputs(": ", out);
		if (numbers)
			ff_json_number_text(out, v->v[i]);
		else
			ff_json_string(out, v->v[i]);
	}
	putc('}', out);
}

/* "table": ..., "table_version": ..., "features": ... of a lookup (features
 * null: every feature of the table). */
static void need_json_fields(FILE *out, const struct ff_registry_need *n)
{
	fputs("\"table\": ", out);
	ff_json_string(out, n->table);
	if (n->table_version)
		fprintf(out, ", \"table_version\": %" PRId64 ", \"features\": ", n->table_version);
	else
		fputs(", \"table_version\": null, \"features\": ", out);
	if (n->features->n)
		json_strlist(out, n->features);
	else
		fputs("null", out);
}

/* The state of a walk: the table it fills or the JSON list it writes. */
struct walk {
	enum ff_report_format format;
	FILE *out;
	struct ff_report_table t;
	int count;     /* JSON elements written */
	int indent;    /* of JSON elements */
	char *last;    /* uses, text: the last reference printed */
};

static void json_open(struct walk *w)
{
	putc('[', w->out);
}

/* The next element of a JSON list, one a line. */
static void json_next(struct walk *w)
{
	fprintf(w->out, "%s\n%*s{", w->count++ ? "," : "", w->indent, "");
}

/* The next element, begun with its "ref" and "name". */
static void json_next_ref(struct walk *w, const char *ref, const char *name)
{
	json_next(w);
	fputs("\"ref\": ", w->out);
	ff_json_string(w->out, ref);
	fputs(", \"name\": ", w->out);
	ff_json_string(w->out, name);
}

static void json_close(struct walk *w)
{
	fprintf(w->out, "%s]\n", w->count ? "\n" : "");
}

static void walk_release(struct walk *w)
{
	ff_report_release(&w->t);
	free(w->last);
}

/* After a walk that returned rc: the table or the end of the JSON list, if
 * all went well. Returns rc. */
static int walk_finish(struct walk *w, int rc)
{
	if (rc == 0 && w->format == FF_REPORT_TEXT)
		ff_report_text(&w->t, w->out, "");
	else if (rc == 0 && w->format == FF_REPORT_CSV)
		ff_report_csv(&w->t, w->out);
	else if (rc == 0)
		json_close(w);
	walk_release(w);
	return rc;
}

/* ---- list ---- */

static int list_row(const struct ff_registry_entry *e, void *arg)
{
	struct walk *w = arg;
	char *rmse = metric(e->metrics, "holdout_rmse");
	char *aliases = join(&e->aliases, "");
	char *ref = ff_registry_ref_text(e->name, e->version);
	struct ff_report_table *t = &w->t;
	switch (w->format) {
	case FF_REPORT_TEXT:
		ff_report_add(t, e->name);
		add_int(t, e->version);
		ff_report_add(t, aliases);
		ff_report_add(t, e->created);
		ff_report_add(t, rmse);
		break;
	case FF_REPORT_CSV: {
		const char *cells[] = {ref, e->name, NULL, aliases, e->created, rmse, NULL, e->hash,
				       e->source, e->description};
		for (size_t i = 0; i < sizeof cells / sizeof *cells; i++)
			if (i == 2)
				add_int(t, e->version);
			else if (i == 6)
				add_int(t, e->size);
			else
				ff_report_add(t, cells[i]);
		break;
	}
	case FF_REPORT_JSON:
		json_next_ref(w, ref, e->name);
		fprintf(w->out, ", \"version\": %" PRId64 ", \"aliases\": ", e->version);
		json_strlist(w->out, &e->aliases);
		fputs(", \"created\": ", w->out);
		ff_json_string(w->out, e->created);
		fputs(", \"holdout_rmse\": ", w->out);
		ff_json_number_text(w->out, rmse);
		fprintf(w->out, ", \"size\": %" PRId64 ", \"hash\": ", e->size);
		ff_json_string(w->out, e->hash);
		fputs(", \"source\": ", w->out);
		ff_json_string(w->out, e->source);
		fputs(", \"description\": ", w->out);
		ff_json_string(w->out, e->description);
		putc('}', w->out);
		break;
	}
	free(ref);
	free(aliases);
	free(rmse);
	return 0;
}

int ff_registry_report_list(struct ff_registry *r, const char *name, enum ff_report_format format,
			    FILE *out)
{
	struct walk w = {format, out, {0}, 0, 2, NULL};
	if (format == FF_REPORT_TEXT)
		table_init(&w.t, "NAME,VERSION,ALIASES,CREATED,HOLDOUT_RMSE", 0);
	else
		ff_report_init(&w.t, "ref,name,version,aliases,created,holdout_rmse,size,hash,source,"
				     "description");
	if (format == FF_REPORT_JSON)
		json_open(&w);
	return walk_finish(&w, ff_registry_list(r, name, list_row, &w));
}

/* ---- needs ---- */

static int need_row(const struct ff_registry_need *n, void *arg)
{
	struct walk *w = arg;
	if (w->format == FF_REPORT_JSON) {
		json_next(w);
		need_json_fields(w->out, n);
		putc('}', w->out);
		return 0;
	}
	char *features = join(n->features, "*");
	ff_report_add(&w->t, n->table);
	add_table_version(&w->t, n->table_version);
	ff_report_add(&w->t, features);
	free(features);
	return 0;
}

int ff_registry_report_needs(struct ff_registry *r, const char *name, int64_t version,
			     enum ff_report_format format, FILE *out)
{
	struct walk w = {format, out, {0}, 0, 2, NULL};
	if (format == FF_REPORT_TEXT)
		table_init(&w.t, "TABLE,VERSION,FEATURES", 0);
	else
		ff_report_init(&w.t, "table,table_version,features");
	if (format == FF_REPORT_JSON)
		json_open(&w);
	return walk_finish(&w, ff_registry_needs(r, name, version, need_row, &w));
}

/* ---- uses ---- */

static int uses_row(const struct ff_registry_need *n, void *arg)
{
	struct walk *w = arg;
	char *ref = ff_registry_ref_text(n->name, n->version);
	char *features = join(n->features, "*");
	switch (w->format) {
	case FF_REPORT_TEXT:
		if (!w->last || strcmp(w->last, ref) != 0)
			fprintf(w->out, "%s\n", ref);
		break;
	case FF_REPORT_CSV:
		ff_report_add(&w->t, ref);
		ff_report_add(&w->t, n->name);
		add_int(&w->t, n->version);
		ff_report_add(&w->t, n->table);
		add_table_version(&w->t, n->table_version);
		ff_report_add(&w->t, features);
		break;
	case FF_REPORT_JSON:
		json_next_ref(w, ref, n->name);
		fprintf(w->out, ", \"version\": %" PRId64 ", ", n->version);
		need_json_fields(w->out, n);
		putc('}', w->out);
		break;
	}
	free(w->last);
	w->last = ref;
	free(features);
	return 0;
}

int ff_registry_report_uses(struct ff_registry *r, const char *table, const char *feature,
			    enum ff_report_format format, FILE *out)
{
	struct walk w = {format, out, {0}, 0, 2, NULL};
	ff_report_init(&w.t, "ref,name,version,table,table_version,features");
	if (format == FF_REPORT_JSON)
		json_open(&w);
	int rc = ff_registry_uses(r, table, feature, uses_row, &w);
	if (format != FF_REPORT_TEXT)
		return walk_finish(&w, rc);
	walk_release(&w); /* text: printed as it came */
	return rc;
}

/* ---- show ---- */

/* Importance, highest first, ties by name. */
static const struct ff_strlist *sort_values;
static int by_value(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	double x = strtod(sort_values->v[i], NULL), y = strtod(sort_values->v[j], NULL);
	return x > y ? -1 : x < y ? 1 : (i > j) - (i < j);
}

static void sort_pairs(struct ff_strlist *k, struct ff_strlist *v)
{
	size_t *idx = ff_xmalloc((k->n ? k->n : 1) * sizeof *idx);
	for (size_t i = 0; i < k->n; i++)
		idx[i] = i;
	sort_values = v;
	qsort(idx, k->n, sizeof *idx, by_value);
	struct ff_strlist k2 = {0}, v2 = {0};
	for (size_t i = 0; i < k->n; i++) {
		ff_strlist_add(&k2, k->v[idx[i]]);
		ff_strlist_add(&v2, v->v[idx[i]]);
	}
	ff_strlist_release(k);
	ff_strlist_release(v);
	*k = k2;
	*v = v2;
	free(idx);
}

/* A titled section of name, value lines; nothing if there are none. */
static void text_section(FILE *out, const char *title, const struct ff_strlist *k,
			 const struct ff_strlist *v)
{
	if (!k->n)
		return;
	fprintf(out, "\n%s\n", title);
	struct ff_report_table t;
	table_init(&t, "name,value", 1);
	for (size_t i = 0; i < k->n; i++) {
		ff_report_add(&t, k->v[i]);
		ff_report_add(&t, v->v[i]);
	}
	ff_report_text(&t, out, "  ");
	ff_report_release(&t);
}

/* The parts of a version show prints, as name, value lists. */
struct shown {
	struct ff_strlist metrics[2], params[2], importance[2], vector[2];
};

static void shown_release(struct shown *s)
{
	for (int i = 0; i < 2; i++) {
		ff_strlist_release(&s->metrics[i]);
		ff_strlist_release(&s->params[i]);
		ff_strlist_release(&s->importance[i]);
		ff_strlist_release(&s->vector[i]);
	}
}

static int show_json(struct ff_registry *r, const struct ff_registry_entry *e,
		     const struct ff_model *m, const char *canonical, struct shown *s, FILE *out)
{
	fputs("{\n  \"ref\": ", out);
	ff_json_string(out, canonical);
	fputs(",\n  \"name\": ", out);
	ff_json_string(out, e->name);
	fprintf(out, ",\n  \"version\": %" PRId64 ",\n  \"aliases\": ", e->version);
	json_strlist(out, &e->aliases);
	const char *keys[] = {"created", "hash", "source", "description", "label"};
	const char *vals[] = {e->created, e->hash, e->source, e->description, m->bp.spec.label};
	for (size_t i = 0; i < 5; i++) {
		fprintf(out, ",\n  \"%s\": ", keys[i]);
		ff_json_string(out, vals[i]);
	}
	fprintf(out, ",\n  \"size\": %" PRId64, e->size);
	json_object(out, "metrics", &s->metrics[0], &s->metrics[1], 1);
	json_object(out, "params", &s->params[0], &s->params[1], 0);
	json_object(out, "vector", &s->vector[0], &s->vector[1], 0);
	fputs(",\n  \"tables\": [", out);
	struct walk tables = {FF_REPORT_JSON, out, {0}, 0, 4, NULL};
	if (ff_registry_needs(r, e->name, e->version, need_row, &tables) < 0)
		return -1;
	fputs(tables.count ? "\n  ]" : "]", out);
	json_object(out, "importance", &s->importance[0], &s->importance[1], 1);
	fputs("\n}\n", out);
	return 0;
}

static int show_text(struct ff_registry *r, const struct ff_registry_entry *e,
		     const struct ff_model *m, const char *canonical, struct shown *s, FILE *out)
{
	char *aliases = join(&e->aliases, "-");
	fprintf(out, "%s\n", canonical);
	struct ff_report_table t;
	table_init(&t, "name,value", 1);
	const char *rows[][2] = {
	    {"aliases", aliases},
	    {"created", e->created},
	    {"size", NULL},
	    {"hash", e->hash},
	    {"source", e->source},
	    {"description", e->description},
	    {"label", m->bp.spec.label},
	};
	for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
		ff_report_add(&t, rows[i][0]);
		if (i == 2)
			add_int(&t, e->size);
		else
			ff_report_add(&t, rows[i][1]);
	}
	ff_report_text(&t, out, "");
	ff_report_release(&t);
	free(aliases);
	text_section(out, "metrics", &s->metrics[0], &s->metrics[1]);
	text_section(out, "params", &s->params[0], &s->params[1]);
	text_section(out, "vector", &s->vector[0], &s->vector[1]);
	struct walk needs = {FF_REPORT_TEXT, out, {0}, 0, 0, NULL};
	table_init(&needs.t, "table,version,features", 1);
	int rc = ff_registry_needs(r, e->name, e->version, need_row, &needs);
	if (rc == 0 && ff_report_rows(&needs.t)) {
		fputs("\ntables\n", out);
		ff_report_text(&needs.t, out, "  ");
	}
	walk_release(&needs);
	if (rc == 0)
		text_section(out, "importance", &s->importance[0], &s->importance[1]);
	return rc;
}

int ff_registry_report_show(struct ff_registry *r, const char *name, int64_t version,
			    enum ff_report_format format, FILE *out)
{
	struct ff_registry_entry e = {0};
	struct ff_model *m = NULL;
	struct shown s = {0};
	void *data = NULL;
	size_t len;
	int rc = -1;
	char *canonical = NULL, *params = NULL, *importance = NULL;
	if (ff_registry_get(r, name, version, &e) < 0 ||
	    ff_registry_artifact(r, name, version, &data, &len) < 0)
		goto out;
	canonical = ff_registry_ref_text(name, version);
	if (ff_model_load_buffer(data, len, canonical, &m) < 0)
		goto out;
	params = ff_xgb_attr(m->booster, "ff_params");
	importance = ff_xgb_attr(m->booster, "ff_importance");
	key_values(e.metrics, &s.metrics[0], &s.metrics[1]);
	key_values(params, &s.params[0], &s.params[1]);
	key_values(importance, &s.importance[0], &s.importance[1]);
	sort_pairs(&s.importance[0], &s.importance[1]);
	for (size_t i = 0; i < m->bp.vector.n; i++) {
		ff_strlist_add(&s.vector[0], m->bp.vector.v[i]);
		ff_strlist_add(&s.vector[1], ff_type_name(m->bp.vector_types[i]));
	}
	if (format == FF_REPORT_JSON)
		rc = show_json(r, &e, m, canonical, &s, out);
	else
		rc = show_text(r, &e, m, canonical, &s, out);
out:
	shown_release(&s);
	free(params);
	free(importance);
	free(canonical);
	ff_model_free(m);
	free(data);
	ff_registry_entry_release(&e);
	return rc;
}
