#include "ff_blueprint.h"

#include <stdlib.h>
#include <string.h>

#include "ff_util.h"

/* "key-mean FEATURE MEAN COUNT KEY" (the key %XX-escaped, to the line end). */
static int parse_key_mean(struct ff_blueprint_info *b, char *value, const char *where)
{
	char *feature = value, *mean = strchr(feature, ' ');
	char *count = mean ? strchr(mean + 1, ' ') : NULL;
	char *key = count ? strchr(count + 1, ' ') : NULL;
	if (!key)
		return ff_error("%s: key-mean '%s' is not FEATURE MEAN COUNT KEY", where, value);
	*mean++ = *count = *key++ = '\0';
	long f = ff_strlist_find(&b->mean_of, feature);
	double m;
	if (f < 0 || ff_parse_double(mean, strlen(mean), &m) < 0)
		return ff_error("%s: key-mean of '%s' without a mean line before it, or a bad mean", where, feature);
	size_t key_len = ff_keyset_unescape(key);
	struct ff_key_means *km = &b->key_means[f];
	if (!km->keys)
		km->keys = ff_keyset_new();
	uint32_t id = ff_keyset_intern(km->keys, key, key_len);
	ff_grow(&km->means, &km->cap, (size_t)id + 1, sizeof *km->means);
	km->means[id] = m;
	return 0;
}

static void grow_tables(struct ff_blueprint_info *b, size_t n)
{
	if (n <= b->ntables)
		return;
	b->table_versions = ff_xrealloc(b->table_versions, n * sizeof *b->table_versions);
	b->table_definitions = ff_xrealloc(b->table_definitions, n * sizeof *b->table_definitions);
	for (size_t i = b->ntables; i < n; i++) {
		b->table_versions[i] = -1;
		b->table_definitions[i] = NULL;
	}
	b->ntables = n;
}

/* "table-version N" or "table-definition HASH" after a lookup line: of
 * the last lookup read. The arrays grow with the lookups. */
static int parse_table_line(struct ff_blueprint_info *b, const char *name, const char *value,
			    const char *where)
{
	size_t n = b->spec.nlookups;
	if (n == 0)
		return ff_error("%s: %s before any lookup", where, name);
	grow_tables(b, n);
	if (strcmp(name, "table-definition") == 0) {
		free(b->table_definitions[n - 1]);
		b->table_definitions[n - 1] = ff_xstrdup(value);
		return 0;
	}
	int64_t v;
	if (ff_parse_int64(value, strlen(value), &v) < 0 || v < 0)
		return ff_error("%s: table-version '%s' is not a version", where, value);
	b->table_versions[n - 1] = v;
	return 0;
}

int ff_blueprint_fallback(const struct ff_blueprint_info *b, const char *feature, const char *key,
			  size_t key_len, double *value)
{
	long f = ff_strlist_find(&b->mean_of, feature);
	if (f < 0)
		return -1;
	const struct ff_key_means *km = &b->key_means[f];
	int64_t id = key && km->keys ? ff_keyset_find(km->keys, key, key_len) : -1;
	*value = id >= 0 ? km->means[id] : b->means[f];
	return 0;
}

void ff_blueprint_info_release(struct ff_blueprint_info *b)
{
	if (!b)
		return;
	free(b->text);
	free(b->store);
	free(b->store_path);
	free(b->store_id);
	for (size_t i = 0; i < b->ntables; i++)
		free(b->table_definitions[i]);
	free(b->table_definitions);
	free(b->table_versions);
	ff_join_spec_release(&b->spec);
	ff_strlist_release(&b->vector);
	free(b->vector_types);
	for (size_t i = 0; b->key_means && i < b->mean_of.n; i++) {
		ff_keyset_free(b->key_means[i].keys);
		free(b->key_means[i].means);
	}
	free(b->key_means);
	ff_strlist_release(&b->mean_of);
	free(b->means);
	free(b->first_event);
	memset(b, 0, sizeof *b);
}

int ff_blueprint_parse(const char *text, const char *origin, struct ff_blueprint_info *out)
{
	memset(out, 0, sizeof *out);
	out->text = ff_xstrdup(text);
	ff_join_spec_init(&out->spec, origin);
	char *copy = ff_xstrdup(text);
	char *save = NULL;
	long lineno = 0;
	int rc = 0, format_seen = 0;
	for (char *line = strtok_r(copy, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (line[0] == '#' || !*line)
			continue;
		char *value = strchr(line, ' ');
		if (value)
			*value++ = '\0';
		else
			value = line + strlen(line);
		char where[600];
		snprintf(where, sizeof where, "%s:%ld", origin, lineno);
		int takes_value;
		if (strcmp(line, "format") == 0) {
			format_seen = 1;
			if (strcmp(value, "1") != 0)
				rc = ff_error("%s: blueprint format %s is not one this ff reads (1)", where, value);
		} else if (strcmp(line, "store") == 0) {
			free(out->store);
			out->store = ff_xstrdup(value);
		} else if (strcmp(line, "store-path") == 0 || strcmp(line, "store-id") == 0) {
			char **field = line[6] == 'p' ? &out->store_path : &out->store_id;
			free(*field);
			*field = ff_xstrdup(value);
		} else if (strcmp(line, "table-version") == 0 || strcmp(line, "table-definition") == 0) {
			rc = parse_table_line(out, line, value, where);
		} else if (strcmp(line, "vector") == 0) {
			char *type = strrchr(value, ' ');
			int t = type ? ff_type_parse(type + 1) : -1;
			if (t < 0) {
				rc = ff_error("%s: vector '%s' is not NAME TYPE", where, value);
				break;
			}
			*type = '\0';
			ff_strlist_add(&out->vector, value);
			out->vector_types = ff_xrealloc(out->vector_types, out->vector.n * sizeof *out->vector_types);
			out->vector_types[out->vector.n - 1] = (enum ff_type)t;
		} else if (strcmp(line, "mean") == 0) {
			char name[256];
			double m;
			if (sscanf(value, "%255s %lf", name, &m) != 2) {
				rc = ff_error("%s: mean '%s' is not NAME VALUE COUNT", where, value);
				break;
			}
			ff_strlist_add(&out->mean_of, name);
			out->means = ff_xrealloc(out->means, out->mean_of.n * sizeof *out->means);
			out->means[out->mean_of.n - 1] = m;
			out->key_means = ff_xrealloc(out->key_means, out->mean_of.n * sizeof *out->key_means);
			memset(&out->key_means[out->mean_of.n - 1], 0, sizeof *out->key_means);
		} else if (strcmp(line, "key-mean") == 0) {
			rc = parse_key_mean(out, value, where);
		} else if (ff_join_spec_is_directive(line, &takes_value)) {
			rc = ff_join_spec_set(&out->spec, line, takes_value ? value : NULL, where);
		}
		/* Other lines (column, key-mean, hashes, counts) are for people. */
	}
	free(copy);
	if (rc == 0 && !format_seen)
		rc = ff_error("%s: not a blueprint (no format line)", origin);
	if (rc == 0 && !out->spec.label)
		rc = ff_error("%s: the blueprint has no label", origin);
	if (rc == 0 && out->vector.n == 0)
		rc = ff_error("%s: the blueprint has no vector", origin);
	if (rc == 0 && out->ntables) /* every lookup has an entry, if any has */
		grow_tables(out, out->spec.nlookups);
	if (rc == 0 && out->spec.npreps)
		out->first_event = ff_xstrdup(out->spec.preps[0].column);
	if (rc < 0)
		ff_blueprint_info_release(out);
	return rc;
}

int ff_blueprint_read(const char *path, struct ff_blueprint_info *out)
{
	char *text;
	size_t size;
	if (ff_read_file(path, &text, &size) < 0)
		return -1;
	int rc = ff_blueprint_parse(text, path, out);
	free(text);
	return rc;
}
