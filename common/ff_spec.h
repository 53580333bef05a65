/* ff_spec: the definition of one feature table computed by ff-compute, read
 * from a spec file (ff-spec(5)) or built from command-line options. Both use
 * the same words: the spec line "window 1h" is the option "--window 1h". */
#ifndef FF_SPEC_H
#define FF_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "ff_schema.h"

enum ff_feature_kind {
	FF_COUNT_ROWS,  /* count(*) */
	FF_COUNT,       /* count(col): non-NULL values */
	FF_SUM,
	FF_MEAN,        /* also spelled avg */
	FF_MIN,
	FF_MAX,
	FF_STDDEV,      /* sample standard deviation, NULL below 2 values */
	FF_VARIANCE,    /* sample variance, NULL below 2 values */
	FF_IS_WEEKEND,  /* of the window end (or start) in the spec's time zone */
	FF_HOUR,
	FF_DAY_OF_WEEK, /* ISO: 1 = Monday .. 7 = Sunday */
};


struct ff_feature {
	char *name;
	enum ff_feature_kind kind;
	char *column;      /* input column; NULL for count(*); for the calendar
			    * functions "window_end" or "window_start" */
	char *description; /* may be NULL */
};

struct ff_key {
	char *name;   /* column name in the table */
	char *column; /* input column */
};

struct ff_spec {
	char *origin;        /* spec file path, or "command line" */
	char *table;
	char *time_column;
	struct ff_key *keys;
	size_t nkeys;
	char *timestamp_key; /* default "window_end" */
	int64_t window, slide; /* microseconds; slide defaults to window */
	char *timezone;      /* default "UTC" */
	char *input_timezone; /* the zone of the input's naive times; NULL: UTC */
	int input_time_format; /* enum ff_time_input: how the time column is written */
	char *partition;     /* default "yyyy_mm"; NULL when "none" */
	struct ff_feature *features;
	size_t nfeatures;
	int partition_set;
};

void ff_spec_init(struct ff_spec *spec, const char *origin);
void ff_spec_release(struct ff_spec *spec);

/* Apply one directive (a spec line, or a long option without its "--").
 * where is "file:line" or "option --name" for messages. Returns 0 or -1
 * (reported). */
int ff_spec_set(struct ff_spec *spec, const char *directive, const char *value, const char *where);
/* 1 if name is a spec directive. */
int ff_spec_is_directive(const char *name);

/* Read a spec file. Returns 0 or -1 (reported with file and line). */
int ff_spec_load(struct ff_spec *spec, const char *path);

/* Check completeness and consistency, apply defaults. Returns 0 or -1. */
int ff_spec_finish(struct ff_spec *spec);

/* Type of a feature's value. */
enum ff_type ff_feature_type(const struct ff_feature *f);
/* "mean(fare_amount)" */
void ff_feature_expr(const struct ff_feature *f, char *buf, size_t size);

/* Canonical spec text, one directive a line. With descriptions = 0 it is the
 * definition alone, used to tell whether a stored table was computed the same
 * way. Caller frees. */
char *ff_spec_text(const struct ff_spec *spec, int descriptions);

/* 1 if the definition wanted is the stored one with features added (its
 * lines in order, with "feature" lines among them and nothing else
 * changed), else 0: a table it widens takes new columns instead of being
 * replaced (ff-store(5), Adding features). */
int ff_spec_definition_adds(const char *stored, const char *wanted);
/* 1 if the definition defines feature name (its "feature NAME=" line). */
int ff_spec_definition_has_feature(const char *definition, const char *name);

/* The stored table this spec produces (columns, definition, spec text). */
void ff_spec_table_def(const struct ff_spec *spec, struct ff_table_def *def);


#endif
