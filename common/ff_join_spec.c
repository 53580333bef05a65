#include "ff_join_spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_db.h"
#include "ff_directive.h"
#include "ff_spec.h"
#include "ff_time.h"
#include "ff_util.h"

static const struct {
	const char *name;
	int takes_value;
} directives[] = {
	{"derive", 1}, {"lookup", 1}, {"key", 1}, {"timestamp", 1}, {"features", 1},
	{"rename", 1}, {"default", 1}, {"lookback", 1}, {"exact", 0}, {"label", 1},
	{"exclude", 1}, {"inputs", 1}, {"input-timezone", 1}, {"input-time-format", 1},
};

void ff_strlist_add(struct ff_strlist *l, const char *s)
{
	l->v = ff_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n++] = ff_xstrdup(s);
}

void ff_strlist_add_split(struct ff_strlist *l, const char *s)
{
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		const char *p = s;
		while (n && isspace((unsigned char)*p)) {
			p++;
			n--;
		}
		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		char *item = ff_xstrndup(p, n);
		if (*item)
			ff_strlist_add(l, item);
		free(item);
		if (!comma)
			break;
		s = comma + 1;
	}
}

long ff_strlist_find(const struct ff_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return (long)i;
	return -1;
}

void ff_strlist_release(struct ff_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void ff_join_spec_init(struct ff_join_spec *s, const char *origin)
{
	memset(s, 0, sizeof *s);
	s->origin = ff_xstrdup(origin);
}

static void lookup_release(struct ff_lookup_def *l)
{
	free(l->table);
	free(l->timestamp);
	ff_strlist_release(&l->keys);
	ff_strlist_release(&l->features);
	ff_strlist_release(&l->rename_from);
	ff_strlist_release(&l->rename_to);
	ff_strlist_release(&l->default_of);
	ff_strlist_release(&l->default_value);
}

void ff_join_spec_release(struct ff_join_spec *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->npreps; i++)
		ff_prep_release(&s->preps[i]);
	free(s->preps);
	for (size_t i = 0; i < s->nlookups; i++)
		lookup_release(&s->lookups[i]);
	free(s->lookups);
	free(s->label);
	free(s->input_timezone);
	free(s->origin);
	ff_strlist_release(&s->exclude);
	ff_strlist_release(&s->inputs);
	memset(s, 0, sizeof *s);
}

int ff_join_spec_is_directive(const char *name, int *takes_value)
{
	for (size_t i = 0; i < sizeof directives / sizeof *directives; i++)
		if (strcmp(directives[i].name, name) == 0) {
			if (takes_value)
				*takes_value = directives[i].takes_value;
			return 1;
		}
	return 0;
}

/* "A=B" into two lists. */
static int add_pair(struct ff_strlist *a, struct ff_strlist *b, const char *value,
		    const char *what, const char *where)
{
	const char *eq = strchr(value, '=');
	if (!eq || eq == value || !eq[1])
		return ff_error("%s: %s '%s' is not NAME=VALUE", where, what, value);
	char *left = ff_xstrndup(value, (size_t)(eq - value));
	ff_strlist_add(a, left);
	ff_strlist_add(b, eq + 1);
	free(left);
	return 0;
}

int ff_join_spec_set(struct ff_join_spec *s, const char *directive, const char *value,
		     const char *where)
{
	if (strcmp(directive, "derive") == 0) {
		s->preps = ff_xrealloc(s->preps, (s->npreps + 1) * sizeof *s->preps);
		if (ff_prep_parse(&s->preps[s->npreps], value, where) < 0)
			return -1;
		s->npreps++;
		return 0;
	}
	if (strcmp(directive, "lookup") == 0) {
		if (ff_name_check(value, "lookup table", where) < 0)
			return -1;
		if (!ff_is_identifier(value))
			return ff_error("%s: lookup '%s' is not a table name", where, value);
		s->lookups = ff_xrealloc(s->lookups, (s->nlookups + 1) * sizeof *s->lookups);
		struct ff_lookup_def *l = &s->lookups[s->nlookups++];
		memset(l, 0, sizeof *l);
		l->table = ff_xstrdup(value);
		return 0;
	}
	if (strcmp(directive, "label") == 0) {
		if (s->label)
			return ff_error("%s: label given twice", where);
		s->label = ff_xstrdup(value);
		return 0;
	}
	if (strcmp(directive, "exclude") == 0) {
		ff_strlist_add_split(&s->exclude, value);
		return 0;
	}
	if (strcmp(directive, "input-time-format") == 0) {
		/* A later one wins, as for the zone. */
		int f = ff_time_input_parse(value);
		if (f < 0)
			return ff_error("%s: input-time-format '%s': use text, date, epoch-s or epoch-ms",
					where, value);
		s->input_time_format = f;
		return 0;
	}
	if (strcmp(directive, "input-timezone") == 0) {
		/* A later one wins: an option overrides the spec file. */
		if (ff_zone_check(value) < 0)
			return ff_error("%s: input-timezone '%s' is not a time zone this machine knows "
					"(an IANA name such as America/New_York, or UTC)", where, value);
		free(s->input_timezone);
		s->input_timezone = strcmp(value, "UTC") == 0 ? NULL : ff_xstrdup(value);
		return 0;
	}
	if (strcmp(directive, "inputs") == 0) {
		ff_strlist_add_split(&s->inputs, value);
		return 0;
	}
	if (!ff_join_spec_is_directive(directive, NULL))
		return ff_error("%s: unknown directive '%s'", where, directive);
	/* The rest describe the lookup started last. */
	if (s->nlookups == 0)
		return ff_error("%s: %s before any lookup (lookup TABLE comes first)", where, directive);
	struct ff_lookup_def *l = &s->lookups[s->nlookups - 1];
	if (strcmp(directive, "key") == 0) {
		ff_strlist_add_split(&l->keys, value);
	} else if (strcmp(directive, "timestamp") == 0) {
		if (l->timestamp)
			return ff_error("%s: timestamp given twice for lookup %s", where, l->table);
		l->timestamp = ff_xstrdup(value);
	} else if (strcmp(directive, "features") == 0) {
		ff_strlist_add_split(&l->features, value);
	} else if (strcmp(directive, "rename") == 0) {
		if (add_pair(&l->rename_from, &l->rename_to, value, "rename", where) < 0)
			return -1;
		if (ff_name_check(l->rename_to.v[l->rename_to.n - 1], "rename", where) < 0)
			return -1;
		if (!ff_is_identifier(l->rename_to.v[l->rename_to.n - 1]))
			return ff_error("%s: rename: '%s' is not a column name", where,
					l->rename_to.v[l->rename_to.n - 1]);
	} else if (strcmp(directive, "default") == 0) {
		return add_pair(&l->default_of, &l->default_value, value, "default", where);
	} else if (strcmp(directive, "lookback") == 0) {
		if (ff_duration_parse(value, &l->lookback) < 0)
			return ff_error("%s: lookback '%s' is not a duration such as 1h or 7d", where, value);
	} else if (strcmp(directive, "exact") == 0) {
		l->exact = 1;
	}
	return 0;
}

static int spec_line(void *ctx, const char *word, const char *value, const char *where)
{
	int takes_value = 1;
	if (!ff_join_spec_is_directive(word, &takes_value))
		return ff_error("%s: unknown directive '%s'", where, word);
	if (takes_value && !*value)
		return ff_error("%s: %s needs a value", where, word);
	if (!takes_value && *value)
		return ff_error("%s: %s takes no value", where, word);
	return ff_join_spec_set(ctx, word, takes_value ? value : NULL, where);
}

int ff_join_spec_load(struct ff_join_spec *s, const char *path)
{
	return ff_directives_read(path, spec_line, s) == 0 ? 0 : -1;
}

int ff_join_spec_finish(struct ff_join_spec *s)
{
	for (size_t i = 0; i < s->nlookups; i++) {
		struct ff_lookup_def *l = &s->lookups[i];
		if (l->keys.n == 0)
			return ff_error("%s: lookup %s: no key (key COLUMN)", s->origin, l->table);
		if (l->exact && !l->timestamp)
			return ff_error("%s: lookup %s: exact needs a timestamp", s->origin, l->table);
		if (l->lookback && !l->timestamp)
			return ff_error("%s: lookup %s: lookback needs a timestamp", s->origin, l->table);
	}
	return 0;
}

static void put_list(FILE *m, const char *directive, const struct ff_strlist *l)
{
	if (l->n == 0)
		return;
	fprintf(m, "%s ", directive);
	for (size_t i = 0; i < l->n; i++)
		fprintf(m, "%s%s", i ? "," : "", l->v[i]);
	fputc('\n', m);
}

char *ff_join_spec_text(const struct ff_join_spec *s)
{
	char *text = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&text, &size);
	if (!m)
		ff_die(1, "out of memory");
	char buf[600];
	if (s->input_timezone)
		fprintf(m, "input-timezone %s\n", s->input_timezone);
	if (s->input_time_format != FF_TIME_TEXT)
		fprintf(m, "input-time-format %s\n", ff_time_input_name(s->input_time_format));
	for (size_t i = 0; i < s->npreps; i++) {
		ff_prep_text(&s->preps[i], buf, sizeof buf);
		fprintf(m, "derive %s\n", buf);
	}
	for (size_t i = 0; i < s->nlookups; i++) {
		const struct ff_lookup_def *l = &s->lookups[i];
		fprintf(m, "lookup %s\n", l->table);
		put_list(m, "key", &l->keys);
		if (l->timestamp)
			fprintf(m, "timestamp %s\n", l->timestamp);
		put_list(m, "features", &l->features);
		for (size_t j = 0; j < l->rename_from.n; j++)
			fprintf(m, "rename %s=%s\n", l->rename_from.v[j], l->rename_to.v[j]);
		for (size_t j = 0; j < l->default_of.n; j++)
			fprintf(m, "default %s=%s\n", l->default_of.v[j], l->default_value.v[j]);
		if (l->lookback) {
			ff_duration_format(l->lookback, buf);
			fprintf(m, "lookback %s\n", buf);
		}
		if (l->exact)
			fprintf(m, "exact\n");
	}
	if (s->label)
		fprintf(m, "label %s\n", s->label);
	put_list(m, "exclude", &s->exclude);
	put_list(m, "inputs", &s->inputs);
	fclose(m);
	return text;
}
