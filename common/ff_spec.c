#include "ff_spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_db.h"
#include "ff_directive.h"
#include "ff_time.h"
#include "ff_util.h"

static const struct {
	const char *name;
	enum ff_feature_kind kind;
	int calendar; /* takes window_end / window_start */
} functions[] = {
	{"count", FF_COUNT, 0},        {"sum", FF_SUM, 0},
	{"mean", FF_MEAN, 0},          {"avg", FF_MEAN, 0},
	{"min", FF_MIN, 0},            {"max", FF_MAX, 0},
	{"stddev", FF_STDDEV, 0},      {"variance", FF_VARIANCE, 0},
	{"is_weekend", FF_IS_WEEKEND, 1}, {"hour", FF_HOUR, 1},
	{"day_of_week", FF_DAY_OF_WEEK, 1},
};

static const char *directives[] = {
	"table", "time", "key", "timestamp-key", "window", "slide",
	"timezone", "partition", "feature", "describe", "input-timezone", "input-time-format",
};

void ff_spec_init(struct ff_spec *spec, const char *origin)
{
	memset(spec, 0, sizeof *spec);
	spec->origin = ff_xstrdup(origin);
}

void ff_spec_release(struct ff_spec *spec)
{
	if (!spec)
		return;
	free(spec->origin);
	free(spec->table);
	free(spec->time_column);
	for (size_t i = 0; i < spec->nkeys; i++) {
		free(spec->keys[i].name);
		free(spec->keys[i].column);
	}
	free(spec->keys);
	free(spec->timestamp_key);
	free(spec->timezone);
	free(spec->input_timezone);
	free(spec->partition);
	for (size_t i = 0; i < spec->nfeatures; i++) {
		free(spec->features[i].name);
		free(spec->features[i].column);
		free(spec->features[i].description);
	}
	free(spec->features);
	memset(spec, 0, sizeof *spec);
}

int ff_spec_is_directive(const char *name)
{
	for (size_t i = 0; i < sizeof directives / sizeof *directives; i++)
		if (strcmp(directives[i], name) == 0)
			return 1;
	return 0;
}


static char *trimmed(const char *s) { return ff_xstrndup_trimmed(s, strlen(s)); }

static int set_once(char **slot, const char *value, const char *what, const char *where)
{
	if (*slot)
		return ff_error("%s: %s given twice", where, what);
	*slot = ff_xstrdup(value);
	return 0;
}

static int set_name(char **slot, const char *value, const char *what, const char *where)
{
	if (ff_name_check(value, what, where) < 0)
		return -1;
	if (!ff_is_identifier(value))
		return ff_error("%s: %s '%s' is not a name (letters, digits, _)", where, what, value);
	return set_once(slot, value, what, where);
}

/* "NAME=func(arg)" */
static int add_feature(struct ff_spec *spec, const char *value, const char *where)
{
	const char *eq = strchr(value, '=');
	if (!eq)
		return ff_error("%s: feature '%s' is not NAME=FUNCTION(COLUMN)", where, value);
	char *name = ff_xstrndup_trimmed(value, (size_t)(eq - value));
	char *expr = trimmed(eq + 1);
	char *open = strchr(expr, '(');
	char *close = strrchr(expr, ')');
	int rc = -1;
	if (ff_name_check(name, "feature name", where) < 0)
		goto out;
	if (!ff_is_identifier(name)) {
		ff_error("%s: feature name '%s' is not a name (letters, digits, _)", where, name);
		goto out;
	}
	if (!open || !close || close < open || close[1] != '\0') {
		ff_error("%s: feature %s: '%s' is not FUNCTION(COLUMN)", where, name, expr);
		goto out;
	}
	*open = '\0';
	*close = '\0';
	char *func = trimmed(expr);
	char *arg = trimmed(open + 1);
	size_t fi = 0, nf = sizeof functions / sizeof *functions;
	while (fi < nf && strcmp(functions[fi].name, func) != 0)
		fi++;
	if (fi == nf) {
		ff_error("%s: feature %s: unknown function '%s' (count, sum, mean, avg, min, max, "
			 "stddev, variance, is_weekend, hour, day_of_week)", where, name, func);
		free(func);
		free(arg);
		goto out;
	}
	enum ff_feature_kind kind = functions[fi].kind;
	if (functions[fi].calendar) {
		if (strcmp(arg, "window_end") != 0 && strcmp(arg, "window_start") != 0) {
			ff_error("%s: feature %s: %s() takes window_end or window_start, not '%s'",
				 where, name, func, arg);
			free(func);
			free(arg);
			goto out;
		}
	} else if (strcmp(arg, "*") == 0) {
		if (kind != FF_COUNT) {
			ff_error("%s: feature %s: only count takes *", where, name);
			free(func);
			free(arg);
			goto out;
		}
		kind = FF_COUNT_ROWS;
		free(arg);
		arg = NULL;
	} else if (!*arg) {
		ff_error("%s: feature %s: %s() needs a column", where, name, func);
		free(func);
		free(arg);
		goto out;
	}
	free(func);
	spec->features = ff_xrealloc(spec->features, (spec->nfeatures + 1) * sizeof *spec->features);
	struct ff_feature *f = &spec->features[spec->nfeatures++];
	memset(f, 0, sizeof *f);
	f->name = name;
	f->kind = kind;
	f->column = arg;
	name = NULL;
	rc = 0;
out:
	free(name);
	free(expr);
	return rc;
}

static int add_key(struct ff_spec *spec, const char *value, const char *where)
{
	const char *eq = strchr(value, '=');
	char *name = eq ? ff_xstrndup_trimmed(value, (size_t)(eq - value)) : trimmed(value);
	char *column = eq ? trimmed(eq + 1) : ff_xstrdup(name);
	if (ff_name_check(name, "key name", where) < 0 || !ff_is_identifier(name) || !*column) {
		if (strlen(name) <= FF_NAME_MAX)
			ff_error("%s: key '%s' is not [NAME=]COLUMN", where, value);
		free(name);
		free(column);
		return -1;
	}
	spec->keys = ff_xrealloc(spec->keys, (spec->nkeys + 1) * sizeof *spec->keys);
	spec->keys[spec->nkeys].name = name;
	spec->keys[spec->nkeys].column = column;
	spec->nkeys++;
	return 0;
}

static int describe(struct ff_spec *spec, const char *value, const char *where)
{
	const char *eq = strchr(value, '=');
	if (!eq)
		return ff_error("%s: describe '%s' is not NAME=TEXT", where, value);
	char *name = ff_xstrndup_trimmed(value, (size_t)(eq - value));
	for (size_t i = 0; i < spec->nfeatures; i++) {
		if (strcmp(spec->features[i].name, name) == 0) {
			free(spec->features[i].description);
			spec->features[i].description = trimmed(eq + 1);
			free(name);
			return 0;
		}
	}
	ff_error("%s: describe: no feature named '%s' (describe it after its feature line)", where, name);
	free(name);
	return -1;
}

static int set_duration(int64_t *slot, const char *value, const char *what, const char *where)
{
	if (*slot)
		return ff_error("%s: %s given twice", where, what);
	if (ff_duration_parse(value, slot) < 0)
		return ff_error("%s: %s '%s' is not a duration such as 30m, 1h, 1d or 1h30m", where, what, value);
	return 0;
}

int ff_spec_set(struct ff_spec *spec, const char *directive, const char *value, const char *where)
{
	if (strcmp(directive, "table") == 0)
		return set_name(&spec->table, value, "table name", where);
	if (strcmp(directive, "time") == 0)
		return set_once(&spec->time_column, value, "time column", where);
	if (strcmp(directive, "key") == 0)
		return add_key(spec, value, where);
	if (strcmp(directive, "timestamp-key") == 0)
		return set_name(&spec->timestamp_key, value, "timestamp key", where);
	if (strcmp(directive, "window") == 0)
		return set_duration(&spec->window, value, "window", where);
	if (strcmp(directive, "slide") == 0)
		return set_duration(&spec->slide, value, "slide", where);
	if (strcmp(directive, "timezone") == 0) {
		if (ff_zone_check(value) < 0)
			return ff_error("%s: unknown time zone '%s'", where, value);
		return set_once(&spec->timezone, value, "time zone", where);
	}
	if (strcmp(directive, "input-timezone") == 0) {
		if (ff_zone_check(value) < 0)
			return ff_error("%s: unknown time zone '%s'", where, value);
		return set_once(&spec->input_timezone, value, "input time zone", where);
	}
	if (strcmp(directive, "input-time-format") == 0) {
		int f = ff_time_input_parse(value);
		if (f < 0)
			return ff_error("%s: input-time-format '%s': use text, date, epoch-s or epoch-ms", where,
					value);
		spec->input_time_format = f;
		return 0;
	}
	if (strcmp(directive, "partition") == 0) {
		if (spec->partition_set)
			return ff_error("%s: partition given twice", where);
		spec->partition_set = 1;
		if (strcmp(value, "none") == 0)
			return 0;
		return set_name(&spec->partition, value, "partition column", where);
	}
	if (strcmp(directive, "feature") == 0)
		return add_feature(spec, value, where);
	if (strcmp(directive, "describe") == 0)
		return describe(spec, value, where);
	return ff_error("%s: unknown directive '%s'", where, directive);
}

static int spec_line(void *ctx, const char *word, const char *value, const char *where)
{
	if (!*value)
		return ff_error("%s: %s needs a value", where, word);
	return ff_spec_set(ctx, word, value, where);
}

int ff_spec_load(struct ff_spec *spec, const char *path)
{
	return ff_directives_read(path, spec_line, spec) == 0 ? 0 : -1;
}

static int name_clash(const struct ff_spec *spec, const char *name, const char **seen, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(seen[i], name) == 0)
			return ff_error("%s: column name '%s' is used twice in table %s", spec->origin,
					name, spec->table);
	return 0;
}

int ff_spec_finish(struct ff_spec *spec)
{
	const char *o = spec->origin;
	if (!spec->table)
		return ff_error("%s: no table name (table NAME)", o);
	if (!spec->time_column)
		return ff_error("%s: table %s: no time column (time COLUMN)", o, spec->table);
	if (spec->nkeys == 0)
		return ff_error("%s: table %s: no key (key [NAME=]COLUMN)", o, spec->table);
	if (!spec->window)
		return ff_error("%s: table %s: no window size (window DURATION)", o, spec->table);
	if (spec->nfeatures == 0)
		return ff_error("%s: table %s: no feature (feature NAME=FUNCTION(COLUMN))", o, spec->table);
	if (!spec->slide)
		spec->slide = spec->window;
	if (spec->slide > spec->window)
		return ff_error("%s: table %s: slide is longer than the window", o, spec->table);
	if (!spec->timestamp_key)
		spec->timestamp_key = ff_xstrdup("window_end");
	if (!spec->timezone)
		spec->timezone = ff_xstrdup("UTC");
	if (!spec->partition_set) {
		spec->partition = ff_xstrdup("yyyy_mm");
		spec->partition_set = 1;
	}
	size_t n = 0;
	const char **seen = ff_xmalloc((spec->nkeys + spec->nfeatures + 2) * sizeof *seen);
	int rc = 0;
	for (size_t i = 0; i < spec->nkeys && rc == 0; i++)
		if ((rc = name_clash(spec, spec->keys[i].name, seen, n)) == 0)
			seen[n++] = spec->keys[i].name;
	if (rc == 0 && (rc = name_clash(spec, spec->timestamp_key, seen, n)) == 0)
		seen[n++] = spec->timestamp_key;
	for (size_t i = 0; i < spec->nfeatures && rc == 0; i++)
		if ((rc = name_clash(spec, spec->features[i].name, seen, n)) == 0)
			seen[n++] = spec->features[i].name;
	if (rc == 0 && spec->partition)
		rc = name_clash(spec, spec->partition, seen, n);
	free(seen);
	return rc;
}

enum ff_type ff_feature_type(const struct ff_feature *f)
{
	switch (f->kind) {
	case FF_COUNT_ROWS:
	case FF_COUNT:
	case FF_IS_WEEKEND:
	case FF_HOUR:
	case FF_DAY_OF_WEEK:
		return FF_TYPE_INTEGER;
	default:
		return FF_TYPE_REAL;
	}
}

void ff_feature_expr(const struct ff_feature *f, char *buf, size_t size)
{
	const char *func = "count";
	for (size_t i = 0; i < sizeof functions / sizeof *functions; i++)
		if (functions[i].kind == f->kind) {
			func = functions[i].name;
			break;
		}
	snprintf(buf, size, "%s(%s)", func, f->column ? f->column : "*");
}

char *ff_spec_text(const struct ff_spec *spec, int descriptions)
{
	char *text = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&text, &size);
	if (!m)
		ff_die(1, "out of memory");
	char dur[32];
	fprintf(m, "table %s\n", spec->table);
	fprintf(m, "time %s\n", spec->time_column);
	for (size_t i = 0; i < spec->nkeys; i++) {
		if (strcmp(spec->keys[i].name, spec->keys[i].column) == 0)
			fprintf(m, "key %s\n", spec->keys[i].name);
		else
			fprintf(m, "key %s=%s\n", spec->keys[i].name, spec->keys[i].column);
	}
	fprintf(m, "timestamp-key %s\n", spec->timestamp_key);
	ff_duration_format(spec->window, dur);
	fprintf(m, "window %s\n", dur);
	ff_duration_format(spec->slide, dur);
	fprintf(m, "slide %s\n", dur);
	fprintf(m, "timezone %s\n", spec->timezone);
	/* Only when not UTC: the tables defined before it keep their definition. */
	if (spec->input_timezone && strcmp(spec->input_timezone, "UTC") != 0)
		fprintf(m, "input-timezone %s\n", spec->input_timezone);
	if (spec->input_time_format != FF_TIME_TEXT)
		fprintf(m, "input-time-format %s\n", ff_time_input_name(spec->input_time_format));
	fprintf(m, "partition %s\n", spec->partition ? spec->partition : "none");
	for (size_t i = 0; i < spec->nfeatures; i++) {
		char expr[512];
		ff_feature_expr(&spec->features[i], expr, sizeof expr);
		fprintf(m, "feature %s=%s\n", spec->features[i].name, expr);
		if (descriptions && spec->features[i].description)
			fprintf(m, "describe %s=%s\n", spec->features[i].name,
				spec->features[i].description);
	}
	fclose(m);
	return text;
}

static void add_column(struct ff_table_def *def, const char *name, enum ff_type type,
		       enum ff_role role, const char *description)
{
	struct ff_column *c = &def->cols[def->ncols++];
	c->name = ff_xstrdup(name);
	c->type = type;
	c->role = role;
	c->description = description ? ff_xstrdup(description) : NULL;
}

void ff_spec_table_def(const struct ff_spec *spec, struct ff_table_def *def)
{
	memset(def, 0, sizeof *def);
	def->name = ff_xstrdup(spec->table);
	def->cols = ff_xcalloc(spec->nkeys + spec->nfeatures + 2, sizeof *def->cols);
	for (size_t i = 0; i < spec->nkeys; i++)
		add_column(def, spec->keys[i].name, FF_TYPE_TEXT, FF_ROLE_KEY, NULL);
	add_column(def, spec->timestamp_key, FF_TYPE_TIMESTAMP, FF_ROLE_TIMESTAMP, "window end");
	for (size_t i = 0; i < spec->nfeatures; i++)
		add_column(def, spec->features[i].name, ff_feature_type(&spec->features[i]),
			   FF_ROLE_FEATURE, spec->features[i].description);
	if (spec->partition)
		add_column(def, spec->partition, FF_TYPE_TEXT, FF_ROLE_PARTITION,
			   "month of the window end, UTC (YYYY-MM)");
	def->definition = ff_spec_text(spec, 0);
	def->spec = ff_spec_text(spec, 1);
}

int ff_spec_definition_adds(const char *stored, const char *wanted)
{
	/* Walk both a line at a time: every stored line in order, and the
	 * wanted lines between them "feature ..." lines only. */
	int added = 0;
	const char *a = stored, *b = wanted;
	while (*b) {
		size_t lb = strcspn(b, "\n"), la = strcspn(a, "\n");
		if (*a && la == lb && memcmp(a, b, la) == 0) {
			a += la + (a[la] == '\n');
		} else if (strncmp(b, "feature ", 8) == 0) {
			added = 1;
		} else {
			return 0;
		}
		b += lb + (b[lb] == '\n');
	}
	return !*a && added;
}

int ff_spec_definition_has_feature(const char *definition, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = definition; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, "feature ", 8) == 0 && strncmp(p + 8, name, n) == 0 && p[8 + n] == '=')
			return 1;
	return 0;
}
