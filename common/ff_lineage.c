/* ff-monitor lineage: where a feature table comes from (the spec in the
 * store's catalog and the input columns it reads) and what uses it (models
 * in the registry, training sets by their blueprints); what a model needs. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_blueprint.h"
#include "ff_monitor.h"
#include "ff_registry.h"
#include "ff_spec.h"
#include "ff_store.h"
#include "ff_util.h"

static void edge(struct ff_report_table *t, const char *subject, const char *relation,
		 const char *object, const char *detail)
{
	ff_report_add(t, subject);
	ff_report_add(t, relation);
	ff_report_add(t, object);
	ff_report_add(t, detail);
}

/* The table's version and spec from the catalog: its inputs. 0, or -1. */
static int from_catalog(const char *store, const char *table, const char *feature,
			struct ff_report_table *t)
{
	struct ff_store *st = NULL;
	struct ff_catalog_entry e = {0};
	struct ff_spec spec;
	int rc = -1;
	ff_spec_init(&spec, store);
	if (ff_store_open(store, FF_STORE_READ, &st) < 0)
		goto out;
	int found = ff_store_catalog_entry(st, table, &e);
	if (found <= 0) {
		if (found == 0)
			ff_error("%s: no table '%s' in the catalog", store, table);
		goto out;
	}
	char detail[200], obj[300];
	snprintf(detail, sizeof detail, "version %" PRId64 ", updated %s", e.version,
		 e.updated_at ? e.updated_at : "");
	edge(t, table, "stored-in", store, detail);
	/* The spec, one directive a line, read back as ff-compute read it. */
	char *text = ff_xstrdup(e.spec ? e.spec : "");
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *sp = strpbrk(line, " \t");
		if (!sp)
			continue;
		*sp++ = '\0';
		sp += strspn(sp, " \t");
		if (ff_spec_set(&spec, line, sp, "catalog") < 0) {
			free(text);
			goto out;
		}
	}
	free(text);
	snprintf(obj, sizeof obj, "input:%s", spec.time_column);
	if (!feature)
		edge(t, table, "time-from", obj, "window times");
	for (size_t i = 0; i < spec.nkeys && !feature; i++) {
		snprintf(obj, sizeof obj, "input:%s", spec.keys[i].column);
		edge(t, table, "key-from", obj, spec.keys[i].name);
	}
	found = !feature;
	for (size_t i = 0; i < spec.nfeatures; i++) {
		const struct ff_feature *f = &spec.features[i];
		if (feature && strcmp(feature, f->name) != 0)
			continue;
		found = 1;
		char expr[200], subject[300];
		ff_feature_expr(f, expr, sizeof expr);
		snprintf(subject, sizeof subject, "%s.%s", table, f->name);
		snprintf(obj, sizeof obj, "input:%s", f->column ? f->column : "*");
		edge(t, subject, "computed-from", obj, expr);
	}
	if (!found) {
		ff_error("%s: table '%s' has no feature '%s'", store, table, feature);
		goto out;
	}
	rc = 0;
out:
	ff_spec_release(&spec);
	ff_catalog_entry_release(&e);
	ff_store_close(st);
	return rc;
}

static char *joined(const struct ff_strlist *l)
{
	size_t n = 1;
	for (size_t i = 0; i < l->n; i++)
		n += strlen(l->v[i]) + 1;
	char *s = ff_xmalloc(n);
	s[0] = '\0';
	for (size_t i = 0; i < l->n; i++)
		sprintf(s + strlen(s), "%s%s", i ? "," : "", l->v[i]);
	return s;
}

/* Where a model's edges go, and the store whose versions they are compared with. */
struct needs {
	struct ff_report_table *t;
	const char *store;
};

/* The table's version in the store: 1 and *version, 0 if not there, -1. */
static int store_version(const char *store, const char *table, int64_t *version)
{
	struct ff_store *st = NULL;
	struct ff_catalog_entry e = {0};
	if (ff_store_open(store, FF_STORE_READ, &st) < 0)
		return -1;
	int found = ff_store_catalog_entry(st, table, &e);
	if (found > 0)
		*version = e.version;
	ff_catalog_entry_release(&e);
	ff_store_close(st);
	return found;
}

static int need_edge(const struct ff_registry_need *n, void *arg)
{
	struct needs *ctx = arg;
	struct ff_report_table *t = ctx->t;
	char *ref = ff_registry_ref_text(n->name, n->version), detail[1200], behind[160] = "";
	char *features = n->features->n ? joined(n->features) : ff_xstrdup("*");
	int64_t now;
	/* How far the table moved on since the model was trained. */
	if (ctx->store && n->table_version > 0) {
		int found = store_version(ctx->store, n->table, &now);
		if (found < 0) {
			free(features);
			free(ref);
			return -1;
		}
		if (found)
			snprintf(behind, sizeof behind, " (the store has %" PRId64 ", %" PRId64 " behind)", now,
				 now - n->table_version);
	}
	snprintf(detail, sizeof detail, "table version %" PRId64 "%s; features %s", n->table_version,
		 behind, features);
	edge(t, ref, "reads", n->table, detail);
	free(features);
	free(ref);
	return 0;
}

/* The training sets, by blueprint, that look the table (feature) up. */
static int from_blueprints(const struct ff_monitor_options *o, const char *table,
			   const char *feature, struct ff_report_table *t)
{
	for (size_t b = 0; b < o->blueprints.n; b++) {
		struct ff_blueprint_info info;
		if (ff_blueprint_read(o->blueprints.v[b], &info) < 0)
			return -1;
		for (size_t i = 0; i < info.spec.nlookups; i++) {
			const struct ff_lookup_def *l = &info.spec.lookups[i];
			if (strcmp(l->table, table) != 0 ||
			    (feature && l->features.n && ff_strlist_find(&l->features, feature) < 0))
				continue;
			char *features = l->features.n ? joined(&l->features) : ff_xstrdup("*");
			char detail[1200];
			snprintf(detail, sizeof detail, "features %s", features);
			edge(t, o->blueprints.v[b], "reads", table, detail);
			free(features);
		}
		ff_blueprint_info_release(&info);
	}
	return 0;
}

static int lineage_one(const struct ff_monitor_options *o, struct ff_registry **reg,
		       const char *target, struct ff_report_table *t)
{
	const char *path = ff_registry_path(o->registry);
	if (ff_registry_is_ref(target)) {
		struct ff_registry_ref ref;
		int64_t version;
		if (ff_registry_ref_parse(target, &ref) < 0)
			return -1;
		int rc = -1;
		if ((*reg || ff_registry_open(path, FF_REGISTRY_READ, reg) == 0) &&
		    ff_registry_resolve(*reg, &ref, &version) == 0)
			rc = ff_registry_needs(*reg, ref.name, version, need_edge,
					       &(struct needs){t, o->store});
		ff_registry_ref_release(&ref);
		return rc;
	}
	char *table = ff_xstrdup(target), *feature = strchr(table, '.');
	int rc = -1;
	if (feature)
		*feature++ = '\0';
	if (o->store && from_catalog(o->store, table, feature, t) < 0)
		goto out;
	if ((o->registry || getenv("FF_REGISTRY")) &&
	    ((!*reg && ff_registry_open(path, FF_REGISTRY_READ, reg) < 0) ||
	     ff_registry_uses(*reg, table, feature, need_edge, &(struct needs){t, o->store}) < 0))
		goto out;
	rc = from_blueprints(o, table, feature, t);
out:
	free(table);
	return rc;
}

int ff_monitor_lineage(const struct ff_monitor_options *o, char **targets, int n)
{
	struct ff_report_table t;
	struct ff_registry *reg = NULL;
	int rc = 0;
	ff_report_init(&t, "subject,relation,object,detail");
	for (int i = 0; i < n && rc == 0; i++) {
		size_t before = ff_report_rows(&t);
		rc = lineage_one(o, &reg, targets[i], &t);
		/* An answer of nothing is a typo or a missing source more often
		 * than a table nobody uses: say which. */
		if (rc == 0 && ff_report_rows(&t) == before && !ff_registry_is_ref(targets[i]))
			rc = ff_error("%s: %s", targets[i],
				      o->store || o->registry || getenv("FF_REGISTRY") || o->blueprints.n
					      ? "not in the store, and no model or blueprint given reads it (a model is models:/NAME)"
					      : "nothing to look in: give -s STORE, -r REGISTRY or --blueprint FILE");
	}
	if (rc == 0)
		ff_report_write(&t, o->format, stdout);
	ff_registry_close(reg);
	ff_report_release(&t);
	return rc;
}
