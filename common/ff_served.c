#include "ff_served.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "ff_db.h"
#include "ff_registry.h"
#include "ff_util.h"

/* The name a model is served by when none is given: the registry name, or
 * the file's base name without .json. */
static char *default_name(const char *ref)
{
	if (ff_registry_is_ref(ref)) {
		struct ff_registry_ref r;
		if (ff_registry_ref_parse(ref, &r) < 0)
			return NULL;
		char *name = ff_xstrdup(r.name);
		ff_registry_ref_release(&r);
		return name;
	}
	const char *base = strrchr(ref, '/');
	base = base ? base + 1 : ref;
	size_t n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".json") == 0)
		n -= 5;
	return ff_xstrndup(base, n);
}

static int load_one(struct ff_served_model *s, const char *spec, const char *registry)
{
	const char *eq = strchr(spec, '=');
	char *before = eq ? ff_xstrndup(spec, (size_t)(eq - spec)) : NULL;
	/* NAME=REF; a path may hold '=' too, so only a name before it counts. */
	if (before && ff_registry_is_name(before)) {
		s->name = before;
		s->ref = ff_xstrdup(eq + 1);
	} else {
		free(before);
		s->ref = ff_xstrdup(spec);
		s->name = default_name(spec);
		if (!s->name)
			return -1;
	}
	if (!*s->ref)
		return ff_error("model '%s': an empty reference: give a file or models:/NAME", s->name);
	if (ff_name_check(s->name, "model name", s->ref) < 0)
		return -1;
	if (!ff_registry_is_name(s->name))
		return ff_error("model name '%s' (of %s): use letters, digits, '_', '.' and '-'", s->name, s->ref);
	void *data = NULL;
	size_t len = 0;
	int rc;
	if (ff_registry_is_ref(s->ref)) {
		rc = ff_registry_fetch(registry, s->ref, &data, &len, &s->label);
		if (rc == 0 && !s->label)
			s->label = ff_xstrdup(s->ref);
		const char *slash = s->label ? strrchr(s->label, '/') : NULL;
		s->version = ff_xstrdup(slash ? slash + 1 : "");
	} else {
		char *bytes = NULL;
		rc = ff_read_file(s->ref, &bytes, &len);
		data = bytes;
		s->label = ff_xstrdup(s->ref);
		char hash[40];
		snprintf(hash, sizeof hash, "file:%016llx", (unsigned long long)XXH3_64bits(data, len));
		s->version = ff_xstrdup(hash);
	}
	if (rc == 0)
		rc = ff_model_load_buffer(data, len, s->label, &s->m);
	free(data);
	/* One row at a time: XGBoost's threads would only wait on each other. */
	if (rc == 0 && ff_xgb_check(XGBoosterSetParam(s->m->booster, "nthread", "1"), s->label) < 0)
		rc = -1;
	return rc;
}

int ff_generation_load(char **specs, size_t n, const char *registry, const char *online, int any_store,
		       size_t workers, struct ff_inference_log *log, struct ff_generation **out)
{
	struct ff_generation *g = ff_xcalloc(1, sizeof *g);
	g->models = ff_xcalloc(n ? n : 1, sizeof *g->models);
	g->workers = workers;
	g->loaded_at = (long long)time(NULL);
	atomic_init(&g->refs, 1);
	for (size_t i = 0; i < n; i++) {
		struct ff_served_model *s = &g->models[i];
		pthread_mutex_init(&s->spare_lock, NULL);
		s->log_table = -1;
		g->n++;
		if (load_one(s, specs[i], registry) < 0)
			goto fail;
		for (size_t k = 0; k < i; k++)
			if (strcmp(g->models[k].name, s->name) == 0) {
				ff_error("two models named %s: name them NAME=REF", s->name);
				goto fail;
			}
		if (ff_store_bind_online(&s->m->bp, s->label, online, any_store, &s->bound) < 0)
			goto fail;
		s->scorers = ff_xcalloc(workers + 1, sizeof *s->scorers);
		for (size_t w = 0; w <= workers; w++)
			if (ff_scorer_open(s->m, online, &s->scorers[w]) < 0)
				goto fail;
		if (log && (s->log_table = ff_inference_log_table(log, s->name, s->m->vector.names)) < 0)
			goto fail;
	}
	*out = g;
	return 0;
fail:
	ff_generation_release(g);
	return -1;
}

void ff_generation_release(struct ff_generation *g)
{
	if (!g || atomic_fetch_sub(&g->refs, 1) != 1)
		return;
	for (size_t i = 0; i < g->n; i++) {
		struct ff_served_model *s = &g->models[i];
		for (size_t w = 0; s->scorers && w <= g->workers; w++)
			ff_scorer_free(s->scorers[w]);
		free(s->scorers);
		ff_model_free(s->m);
		ff_store_binding_release(&s->bound);
		pthread_mutex_destroy(&s->spare_lock);
		free(s->name);
		free(s->ref);
		free(s->label);
		free(s->version);
	}
	free(g->models);
	free(g);
}

struct ff_served_model *ff_generation_find(struct ff_generation *g, const char *name, size_t len)
{
	for (size_t i = 0; i < g->n; i++)
		if (strlen(g->models[i].name) == len && memcmp(g->models[i].name, name, len) == 0)
			return &g->models[i];
	return NULL;
}
