/* ff-models: a registry of trained models: register artifacts under a name
 * as versions 1, 2, ..., alias, list, show, export and delete them, and ask
 * which models read which feature tables. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_csv.h"
#include "ff_db.h"
#include "ff_json.h"
#include "ff_model.h"
#include "ff_opt.h"
#include "ff_output.h"
#include "ff_registry.h"
#include "ff_report.h"
#include "ff_spec.h"
#include "ff_util.h"

static const char usage_text[] =
	"usage: ff-models [-r REGISTRY] COMMAND [ARG...]\n"
	"Keep trained models (ff-train artifacts) in a registry file under a name, as\n"
	"versions 1, 2, ... with aliases, and tell which models read which tables.\n"
	"\n"
	"  register NAME MODEL     store a copy of MODEL (a file, - for stdin) as the next\n"
	"                          version of NAME and print models:/NAME/VERSION; the\n"
	"                          same artifact again gives its version, no new one\n"
	"  list [NAME]             the versions of every model, or of NAME\n"
	"  show REF                a version's aliases, metrics, parameters, vector,\n"
	"                          tables and feature importance\n"
	"  alias NAME VERSION ALIAS  point ALIAS at a version (moved if it exists)\n"
	"  unalias NAME ALIAS      remove an alias\n"
	"  delete REF              delete a version (--force: even one an alias points to)\n"
	"  export REF              write the artifact as registered\n"
	"  uses TABLE[.FEATURE]    the models whose lookups read TABLE, or one feature\n"
	"  needs REF               the tables, table versions and features a model reads\n"
	"\n"
	"REF is models:/NAME/VERSION, models:/NAME@ALIAS or models:/NAME (the latest\n"
	"version); the models:/ prefix may be left out.\n"
	"\n"
	"  -r, --registry FILE     the registry (default $FF_REGISTRY, else models.db)\n"
	"      --alias ALIAS       register: also point ALIAS at the version (repeatable)\n"
	"      --description TEXT  register: describe the version\n"
	"      --force             delete: delete a version aliases point to, and them\n"
	"      --format FORMAT     list, uses, needs: text (default), csv or json;\n"
	"                          show: text or json\n"
	"  -o, --output FILE       export: write to FILE instead of stdout\n"
	"  -q, --quiet             no warnings\n"
	"  -h, --help              show this help\n"
	"  -V, --version           show the version\n";

enum { OPT_ALIAS = 256, OPT_DESCRIPTION, OPT_FORCE, OPT_FORMAT };

static const struct option options[] = {
	{"registry", required_argument, NULL, 'r'},
	{"alias", required_argument, NULL, OPT_ALIAS},
	{"description", required_argument, NULL, OPT_DESCRIPTION},
	{"force", no_argument, NULL, OPT_FORCE},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"output", required_argument, NULL, 'o'},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

/* Options that belong to one command or a few. */
enum { USE_ALIAS = 1, USE_DESCRIPTION = 2, USE_FORCE = 4, USE_FORMAT = 8, USE_OUTPUT = 16 };

struct ctx {
	const char *registry;
	struct ff_strlist aliases;
	const char *description;
	int force;
	enum ff_report_format format;
	const char *output;
	int used;          /* USE_ bits of the options given */
	int closed_stdout; /* ff_output_close closed it */
	struct ff_registry *reg;
};

static void check_name(const char *what, const char *s)
{
	if (ff_name_check(s, what, NULL) < 0) {
		ff_usage_hint();
		exit(FF_EXIT_USAGE);
	}
	if (!ff_registry_is_name(s))
		ff_usage_error("bad %s '%s': letters, digits, _ . - with a letter or _ first", what, s);
}

static void parse_ref(const char *text, struct ff_registry_ref *ref)
{
	if (ff_registry_ref_parse(text, ref) < 0) {
		ff_usage_hint();
		exit(FF_EXIT_USAGE);
	}
}

static int open_registry(struct ctx *c, enum ff_registry_mode mode)
{
	return ff_registry_open(ff_registry_path(c->registry), mode, &c->reg);
}

/* Open the registry and find the version ref stands for. */
static int open_ref(struct ctx *c, const struct ff_registry_ref *ref, int64_t *version)
{
	if (open_registry(c, FF_REGISTRY_READ) < 0)
		return -1;
	return ff_registry_resolve(c->reg, ref, version);
}

/* ---- output helpers ---- */

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

/* A field; NULL or "" write an empty field. */
static void csv_text(FILE *out, const char *s)
{
	ff_csv_put_field(out, s && *s ? s : NULL, s ? strlen(s) : 0);
}

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

/* A table of text, printed with aligned columns. */
struct table {
	size_t ncols;
	struct ff_strlist cells;
};

static void table_add(struct table *t, const char *cell)
{
	ff_strlist_add(&t->cells, cell ? cell : "-");
}

static void table_print(struct table *t, const char *indent)
{
	size_t width[16] = {0};
	for (size_t i = 0; i < t->cells.n; i++) {
		size_t n = strlen(t->cells.v[i]);
		if (n > width[i % t->ncols])
			width[i % t->ncols] = n;
	}
	for (size_t i = 0; i < t->cells.n; i++) {
		size_t col = i % t->ncols;
		if (col == 0)
			fputs(indent, stdout);
		if (col + 1 == t->ncols)
			printf("%s\n", t->cells.v[i]);
		else
			printf("%-*s  ", (int)width[col], t->cells.v[i]);
	}
	ff_strlist_release(&t->cells);
}

static void format_version(char *buf, int64_t v)
{
	if (v)
		snprintf(buf, 32, "%" PRId64, v);
	else
		strcpy(buf, "-");
}

/* ---- register ---- */

static int cmd_register(struct ctx *c, char **args, int nargs)
{
	(void)nargs; /* checked by main */
	check_name("model name", args[0]);
	for (size_t i = 0; i < c->aliases.n; i++)
		check_name("alias", c->aliases.v[i]);
	char *data = NULL;
	size_t len = 0;
	int64_t version;
	int existed, rc = -1;
	if (ff_read_file(args[1], &data, &len) == 0 && open_registry(c, FF_REGISTRY_WRITE) == 0 &&
	    ff_registry_register(c->reg, args[0], data, len, args[1], c->description, &c->aliases,
				 &version, &existed) == 0) {
		char *ref = ff_registry_ref_text(args[0], version);
		printf("%s\n", ref);
		free(ref);
		rc = 0;
	}
	free(data);
	return rc;
}

/* ---- list ---- */

struct list_state {
	struct ctx *c;
	struct table t;
	int count;    /* rows written */
};

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

static int list_row(const struct ff_registry_entry *e, void *arg)
{
	struct list_state *st = arg;
	char version[32];
	char *rmse = metric(e->metrics, "holdout_rmse");
	snprintf(version, sizeof version, "%" PRId64, e->version);
	char *aliases = join(&e->aliases, "");
	char *ref = ff_registry_ref_text(e->name, e->version);
	switch (st->c->format) {
	case FF_REPORT_TEXT:
		table_add(&st->t, e->name);
		table_add(&st->t, version);
		table_add(&st->t, e->aliases.n ? aliases : "-");
		table_add(&st->t, e->created);
		table_add(&st->t, rmse);
		break;
	case FF_REPORT_CSV: {
		char size[32];
		snprintf(size, sizeof size, "%" PRId64, e->size);
		const char *f[] = {ref, e->name, version, aliases, e->created, rmse, size, e->hash,
				   e->source, e->description};
		for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
			if (i)
				putchar(',');
			csv_text(stdout, f[i]);
		}
		putchar('\n');
		break;
	}
	case FF_REPORT_JSON:
		printf("%s\n  {\"ref\": ", st->count++ ? "," : "");
		ff_json_string(stdout, ref);
		fputs(", \"name\": ", stdout);
		ff_json_string(stdout, e->name);
		printf(", \"version\": %" PRId64 ", \"aliases\": ", e->version);
		json_strlist(stdout, &e->aliases);
		fputs(", \"created\": ", stdout);
		ff_json_string(stdout, e->created);
		fputs(", \"holdout_rmse\": ", stdout);
		ff_json_number_text(stdout, rmse);
		printf(", \"size\": %" PRId64 ", \"hash\": ", e->size);
		ff_json_string(stdout, e->hash);
		fputs(", \"source\": ", stdout);
		ff_json_string(stdout, e->source);
		fputs(", \"description\": ", stdout);
		ff_json_string(stdout, e->description);
		putchar('}');
		break;
	}
	free(ref);
	free(aliases);
	free(rmse);
	return 0;
}

static int cmd_list(struct ctx *c, char **args, int nargs)
{
	const char *name = nargs ? args[0] : NULL;
	if (name)
		check_name("model name", name);
	if (open_registry(c, FF_REGISTRY_READ) < 0)
		return -1;
	struct list_state st = {c, {5, {0}}, 0};
	if (c->format == FF_REPORT_TEXT) {
		const char *head[] = {"NAME", "VERSION", "ALIASES", "CREATED", "HOLDOUT_RMSE"};
		for (size_t i = 0; i < 5; i++)
			table_add(&st.t, head[i]);
	} else if (c->format == FF_REPORT_CSV) {
		printf(
		    "ref,name,version,aliases,created,holdout_rmse,size,hash,source,description\n");
	} else {
		putchar('[');
	}
	int rc = ff_registry_list(c->reg, name, list_row, &st);
	if (c->format == FF_REPORT_TEXT && rc == 0)
		table_print(&st.t, "");
	if (c->format == FF_REPORT_JSON && rc == 0)
		printf("%s]\n", st.count ? "\n" : "");
	ff_strlist_release(&st.t.cells);
	return rc;
}

/* ---- show ---- */

static int collect_need(const struct ff_registry_need *n, void *arg)
{
	struct table *t = arg;
	char tv[32];
	format_version(tv, n->table_version);
	char *features = join(n->features, "*");
	table_add(t, n->table);
	table_add(t, tv);
	table_add(t, features);
	free(features);
	return 0;
}

/* The keys and values of an attribute, as a JSON object of numbers. */
static void json_object(const char *name, const struct ff_strlist *k, const struct ff_strlist *v,
			int numbers)
{
	printf(",\n  \"%s\": {", name);
	for (size_t i = 0; i < k->n; i++) {
		fputs(i ? ", " : "", stdout);
		ff_json_string(stdout, k->v[i]);
		fputs(": ", stdout);
		if (numbers)
			ff_json_number_text(stdout, v->v[i]);
		else
			ff_json_string(stdout, v->v[i]);
	}
	putchar('}');
}

static void text_section(const char *title, const struct ff_strlist *k, const struct ff_strlist *v)
{
	if (!k->n)
		return;
	printf("\n%s\n", title);
	struct table t = {2, {0}};
	for (size_t i = 0; i < k->n; i++) {
		table_add(&t, k->v[i]);
		table_add(&t, v->v[i]);
	}
	table_print(&t, "  ");
}

/* "table": ..., "table_version": ..., "features": ... of a lookup (features
 * null: every feature of the table). */
static void need_json_fields(const struct ff_registry_need *n)
{
	fputs("\"table\": ", stdout);
	ff_json_string(stdout, n->table);
	if (n->table_version)
		printf(", \"table_version\": %" PRId64 ", \"features\": ", n->table_version);
	else
		fputs(", \"table_version\": null, \"features\": ", stdout);
	if (n->features->n)
		json_strlist(stdout, n->features);
	else
		fputs("null", stdout);
}

/* Elements of a JSON array written one a line. */
struct json_list {
	int count;
	int indent;
};

static int need_json(const struct ff_registry_need *n, void *arg)
{
	struct json_list *l = arg;
	printf("%s\n%*s{", l->count++ ? "," : "", l->indent, "");
	need_json_fields(n);
	putchar('}');
	return 0;
}

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

static int cmd_show(struct ctx *c, char **args, int nargs)
{
	(void)nargs; /* checked by main */
	struct ff_registry_ref ref;
	parse_ref(args[0], &ref);
	struct ff_registry_entry e = {0};
	struct ff_model *m = NULL;
	void *data = NULL;
	size_t len;
	int64_t version;
	int rc = -1;
	char *canonical = NULL, *params = NULL, *importance = NULL;
	struct ff_strlist mk = {0}, mv = {0}, pk = {0}, pv = {0}, ik = {0}, iv = {0}, vk = {0},
			  vv = {0};
	if (open_ref(c, &ref, &version) < 0 || ff_registry_get(c->reg, ref.name, version, &e) < 0 ||
	    ff_registry_artifact(c->reg, ref.name, version, &data, &len) < 0)
		goto out;
	canonical = ff_registry_ref_text(ref.name, version);
	if (ff_model_load_buffer(data, len, canonical, &m) < 0)
		goto out;
	params = ff_xgb_attr(m->booster, "ff_params");
	importance = ff_xgb_attr(m->booster, "ff_importance");
	key_values(e.metrics, &mk, &mv);
	key_values(params, &pk, &pv);
	key_values(importance, &ik, &iv);
	sort_pairs(&ik, &iv);
	for (size_t i = 0; i < m->bp.vector.n; i++) {
		ff_strlist_add(&vk, m->bp.vector.v[i]);
		ff_strlist_add(&vv, ff_type_name(m->bp.vector_types[i]));
	}
	if (c->format == FF_REPORT_JSON) {
		fputs("{\n  \"ref\": ", stdout);
		ff_json_string(stdout, canonical);
		fputs(",\n  \"name\": ", stdout);
		ff_json_string(stdout, e.name);
		printf(",\n  \"version\": %" PRId64 ",\n  \"aliases\": ", e.version);
		json_strlist(stdout, &e.aliases);
		const char *keys[] = {"created", "hash", "source", "description", "label"};
		const char *vals[] = {e.created, e.hash, e.source, e.description, m->bp.spec.label};
		for (size_t i = 0; i < 5; i++) {
			printf(",\n  \"%s\": ", keys[i]);
			ff_json_string(stdout, vals[i]);
		}
		printf(",\n  \"size\": %" PRId64, e.size);
		json_object("metrics", &mk, &mv, 1);
		json_object("params", &pk, &pv, 0);
		json_object("vector", &vk, &vv, 0);
		fputs(",\n  \"tables\": [", stdout);
		struct json_list tables = {0, 4};
		if (ff_registry_needs(c->reg, ref.name, version, need_json, &tables) < 0)
			goto out;
		fputs(tables.count ? "\n  ]" : "]", stdout);
		json_object("importance", &ik, &iv, 1);
		fputs("\n}\n", stdout);
	} else {
		char size[32];
		snprintf(size, sizeof size, "%" PRId64, e.size);
		char *aliases = join(&e.aliases, "-");
		printf("%s\n", canonical);
		struct table t = {2, {0}};
		const char *rows[][2] = {
		    {"aliases", aliases},
		    {"created", e.created},
		    {"size", size},
		    {"hash", e.hash},
		    {"source", e.source},
		    {"description", e.description},
		    {"label", m->bp.spec.label},
		};
		for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
			table_add(&t, rows[i][0]);
			table_add(&t, rows[i][1]);
		}
		table_print(&t, "");
		free(aliases);
		text_section("metrics", &mk, &mv);
		text_section("params", &pk, &pv);
		text_section("vector", &vk, &vv);
		struct table needs = {3, {0}};
		if (ff_registry_needs(c->reg, ref.name, version, collect_need, &needs) < 0) {
			ff_strlist_release(&needs.cells);
			goto out;
		}
		if (needs.cells.n) {
			printf("\ntables\n");
			table_print(&needs, "  ");
		}
		text_section("importance", &ik, &iv);
	}
	rc = 0;
out:
	ff_strlist_release(&mk);
	ff_strlist_release(&mv);
	ff_strlist_release(&pk);
	ff_strlist_release(&pv);
	ff_strlist_release(&ik);
	ff_strlist_release(&iv);
	ff_strlist_release(&vk);
	ff_strlist_release(&vv);
	free(params);
	free(importance);
	free(canonical);
	ff_model_free(m);
	free(data);
	ff_registry_entry_release(&e);
	ff_registry_ref_release(&ref);
	return rc;
}

/* ---- alias, unalias, delete, export ---- */

static int cmd_alias(struct ctx *c, char **args, int nargs)
{
	(void)nargs; /* checked by main */
	check_name("model name", args[0]);
	int64_t version;
	if (ff_parse_int64(args[1], strlen(args[1]), &version) < 0 || version < 1)
		ff_usage_error("bad version '%s': a whole number from 1", args[1]);
	check_name("alias", args[2]);
	if (open_registry(c, FF_REGISTRY_WRITE) < 0)
		return -1;
	return ff_registry_set_alias(c->reg, args[0], version, args[2]);
}

static int cmd_unalias(struct ctx *c, char **args, int nargs)
{
	(void)nargs; /* checked by main */
	check_name("model name", args[0]);
	check_name("alias", args[1]);
	if (open_registry(c, FF_REGISTRY_WRITE) < 0)
		return -1;
	return ff_registry_unset_alias(c->reg, args[0], args[1]);
}

static int cmd_delete(struct ctx *c, char **args, int nargs)
{
	(void)nargs; /* checked by main */
	struct ff_registry_ref ref;
	parse_ref(args[0], &ref);
	if (!ref.version && !ref.alias) {
		ff_registry_ref_release(&ref);
		ff_usage_error("delete %s: give the version to delete, as models:/NAME/VERSION",
			    args[0]);
	}
	int64_t version;
	int rc = -1;
	if (open_registry(c, FF_REGISTRY_WRITE) == 0 &&
	    ff_registry_resolve(c->reg, &ref, &version) == 0)
		rc = ff_registry_delete(c->reg, ref.name, version, c->force);
	ff_registry_ref_release(&ref);
	return rc;
}

static int cmd_export(struct ctx *c, char **args, int nargs)
{
	(void)nargs; /* checked by main */
	struct ff_registry_ref ref;
	parse_ref(args[0], &ref);
	void *data = NULL;
	size_t len;
	int64_t version;
	int rc = -1;
	struct ff_output out;
	if (open_ref(c, &ref, &version) == 0 &&
	    ff_registry_artifact(c->reg, ref.name, version, &data, &len) == 0 &&
	    ff_output_open(&out, c->output) == 0) {
		int ok = fwrite(data, 1, len, out.f) == len;
		c->closed_stdout = out.f == stdout;
		rc = ff_output_close(&out, ok) == 0 && ok ? 0 : -1;
	}
	free(data);
	ff_registry_ref_release(&ref);
	return rc;
}

/* ---- lineage ---- */

struct uses_state {
	struct ctx *c;
	char *last;   /* the last ref printed, to print each once */
	struct json_list json;
	struct table t;
};

static int uses_row(const struct ff_registry_need *n, void *arg)
{
	struct uses_state *st = arg;
	char *ref = ff_registry_ref_text(n->name, n->version);
	char tv[32];
	format_version(tv, n->table_version);
	char *features = join(n->features, "*");
	switch (st->c->format) {
	case FF_REPORT_TEXT:
		if (!st->last || strcmp(st->last, ref) != 0)
			printf("%s\n", ref);
		break;
	case FF_REPORT_CSV:
		printf("%s,%s,%" PRId64 ",%s,%s,", ref, n->name, n->version, n->table,
		       n->table_version ? tv : "");
		csv_text(stdout, features);
		putchar('\n');
		break;
	case FF_REPORT_JSON:
		printf("%s\n  {\"ref\": ", st->json.count++ ? "," : "");
		ff_json_string(stdout, ref);
		fputs(", \"name\": ", stdout);
		ff_json_string(stdout, n->name);
		printf(", \"version\": %" PRId64 ", ", n->version);
		need_json_fields(n);
		putchar('}');
		break;
	}
	free(st->last);
	st->last = ref;
	free(features);
	return 0;
}

static int cmd_uses(struct ctx *c, char **args, int nargs)
{
	(void)nargs; /* checked by main */
	char *table = ff_xstrdup(args[0]);
	char *feature = strchr(table, '.');
	if (feature)
		*feature++ = '\0';
	if (!ff_is_identifier(table) || (feature && !ff_is_identifier(feature))) {
		free(table);
		ff_usage_error("bad table '%s': use TABLE or TABLE.FEATURE", args[0]);
	}
	struct uses_state st = {c, NULL, {0, 2}, {0, {0}}};
	int rc = -1;
	if (open_registry(c, FF_REGISTRY_READ) == 0) {
		if (c->format == FF_REPORT_CSV)
			printf("ref,name,version,table,table_version,features\n");
		else if (c->format == FF_REPORT_JSON)
			putchar('[');
		rc = ff_registry_uses(c->reg, table, feature, uses_row, &st);
		if (rc == 0 && c->format == FF_REPORT_JSON)
			printf("%s]\n", st.json.count ? "\n" : "");
	}
	free(st.last);
	free(table);
	return rc;
}

static int needs_row(const struct ff_registry_need *n, void *arg)
{
	struct uses_state *st = arg;
	if (st->c->format == FF_REPORT_TEXT)
		return collect_need(n, &st->t);
	if (st->c->format == FF_REPORT_JSON) {
		need_json(n, &st->json);
		return 0;
	}
	char *features = join(n->features, "*");
	printf("%s,", n->table);
	if (n->table_version)
		printf("%" PRId64, n->table_version);
	putchar(',');
	csv_text(stdout, features);
	putchar('\n');
	free(features);
	return 0;
}

static int cmd_needs(struct ctx *c, char **args, int nargs)
{
	(void)nargs; /* checked by main */
	struct ff_registry_ref ref;
	parse_ref(args[0], &ref);
	struct uses_state st = {c, NULL, {0, 2}, {3, {0}}};
	int64_t version;
	int rc = -1;
	if (open_ref(c, &ref, &version) == 0) {
		if (c->format == FF_REPORT_TEXT) {
			table_add(&st.t, "TABLE");
			table_add(&st.t, "VERSION");
			table_add(&st.t, "FEATURES");
		} else if (c->format == FF_REPORT_CSV) {
			printf("table,table_version,features\n");
		} else {
			putchar('[');
		}
		rc = ff_registry_needs(c->reg, ref.name, version, needs_row, &st);
		if (rc == 0 && c->format == FF_REPORT_TEXT)
			table_print(&st.t, "");
		if (rc == 0 && c->format == FF_REPORT_JSON)
			printf("%s]\n", st.json.count ? "\n" : "");
	}
	ff_strlist_release(&st.t.cells);
	ff_registry_ref_release(&ref);
	return rc;
}

/* ---- main ---- */

/* A command: nargs operands after its name, in args. Returns 0 or -1. */
typedef int (*command_fn)(struct ctx *c, char **args, int nargs);

struct command {
	const char *name;
	command_fn fn;
	int min, max; /* operands after the command */
	int uses;     /* USE_ bits allowed */
	int csv;      /* has a csv format */
	const char *args;
};

static const struct command commands[] = {
	{"register", cmd_register, 2, 2, USE_ALIAS | USE_DESCRIPTION, 0,
	 "NAME MODEL [--alias ALIAS]... [--description TEXT]"},
	{"list", cmd_list, 0, 1, USE_FORMAT, 1, "[NAME] [--format text|csv|json]"},
	{"show", cmd_show, 1, 1, USE_FORMAT, 0, "REF [--format text|json]"},
	{"alias", cmd_alias, 3, 3, 0, 0, "NAME VERSION ALIAS"},
	{"unalias", cmd_unalias, 2, 2, 0, 0, "NAME ALIAS"},
	{"delete", cmd_delete, 1, 1, USE_FORCE, 0, "REF [--force]"},
	{"export", cmd_export, 1, 1, USE_OUTPUT, 0, "REF [-o FILE]"},
	{"uses", cmd_uses, 1, 1, USE_FORMAT, 1, "TABLE[.FEATURE] [--format text|csv|json]"},
	{"needs", cmd_needs, 1, 1, USE_FORMAT, 1, "REF [--format text|csv|json]"},
};

static _Noreturn void command_usage(const struct command *cmd, const char *problem)
{
	fprintf(stderr, "%s: %s %s\nusage: ff-models [-r REGISTRY] %s %s\n", ff_progname(),
		cmd->name, problem, cmd->name, cmd->args);
	exit(FF_EXIT_USAGE);
}

int main(int argc, char **argv)
{
	ff_opt_start(argc, argv);
	struct ctx c = {0};
	int ch;
	while ((ch = getopt_long(argc, argv, ":r:o:qhV", options, NULL)) != -1) {
		switch (ch) {
		case 'r': c.registry = optarg; break;
		case OPT_ALIAS: ff_strlist_add(&c.aliases, optarg); c.used |= USE_ALIAS; break;
		case OPT_DESCRIPTION: c.description = optarg; c.used |= USE_DESCRIPTION; break;
		case OPT_FORCE: c.force = 1; c.used |= USE_FORCE; break;
		case OPT_FORMAT:
			c.format = (enum ff_report_format)ff_opt_enum("--format", optarg,
								      ff_report_format_names);
			c.used |= USE_FORMAT;
			break;
		case 'o': c.output = optarg; c.used |= USE_OUTPUT; break;
		case 'q': ff_set_quiet(1); break;
		case 'h': ff_opt_help(usage_text);
		case 'V': ff_opt_version();
		default: ff_opt_bad(ch, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		ff_usage_error("%s", "no command: give register, list, show, alias, unalias, delete, "
				  "export, uses or needs");
	const struct command *cmd = NULL;
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd)
		ff_usage_error("unknown command '%s': use register, list, show, alias, unalias, "
			    "delete, export, uses "
			    "or needs",
			    argv[0]);
	int nargs = argc - 1;
	if (nargs < cmd->min)
		command_usage(cmd, "needs more arguments");
	if (nargs > cmd->max)
		command_usage(cmd, "has too many arguments");
	static const char *const option_names[] = {"--alias", "--description", "--force",
						   "--format", "--output"};
	for (int bit = 0; bit < 5; bit++)
		if ((c.used & (1 << bit)) && !(cmd->uses & (1 << bit))) {
			char msg[100];
			snprintf(msg, sizeof msg, "does not take %s", option_names[bit]);
			command_usage(cmd, msg);
		}
	if (c.format == FF_REPORT_CSV && !cmd->csv)
		command_usage(cmd, "has no csv format: use text or json");

	int rc = cmd->fn(&c, argv + 1, nargs);
	ff_registry_close(c.reg);
	ff_strlist_release(&c.aliases);
	if (rc == 0 && !c.closed_stdout && ff_close_stdout() < 0)
		rc = -1;
	return rc == 0 ? FF_EXIT_OK : FF_EXIT_FAIL;
}
