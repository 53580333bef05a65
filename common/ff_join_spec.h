/* ff_join_spec: what ff-join and ff-train-set do to a record stream:
 * preprocessing steps, then one point-in-time lookup per feature table, and
 * for a training set the label, the excluded columns and the model inputs.
 * Read from a file (ff-join-spec(5)) or built from options: the spec line
 * "lookback 1h" is the option "--lookback 1h". */
#ifndef FF_JOIN_SPEC_H
#define FF_JOIN_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "ff_prep.h"

struct ff_strlist {
	char **v;
	size_t n;
};

void ff_strlist_add(struct ff_strlist *l, const char *s);
/* Add each comma-separated item of s (blanks around items dropped). */
void ff_strlist_add_split(struct ff_strlist *l, const char *s);
long ff_strlist_find(const struct ff_strlist *l, const char *s);
void ff_strlist_release(struct ff_strlist *l);

struct ff_lookup_def {
	char *table;
	struct ff_strlist keys;       /* input columns, in the table's key order */
	char *timestamp;              /* input column; NULL: the key's latest row */
	struct ff_strlist features;   /* empty: every feature of the table */
	struct ff_strlist rename_from, rename_to;
	struct ff_strlist default_of, default_value;
	int64_t lookback;             /* microseconds; 0: unbounded */
	int exact;                    /* only a row at exactly the timestamp */
};

struct ff_join_spec {
	char *origin;                 /* file name or "command line" */
	struct ff_prep *preps;
	size_t npreps;
	struct ff_lookup_def *lookups;
	size_t nlookups;
	char *label;                  /* training sets */
	struct ff_strlist exclude;
	struct ff_strlist inputs;     /* base columns the model reads */
	int input_time_format;        /* enum ff_time_input of the input's times */
	char *input_timezone;         /* the zone of naive input times (IANA name);
					 NULL: UTC (ff_time_parse_zone) */
};

void ff_join_spec_init(struct ff_join_spec *s, const char *origin);
void ff_join_spec_release(struct ff_join_spec *s);

/* 1 if name is a directive; *takes_value tells whether it needs a value. */
int ff_join_spec_is_directive(const char *name, int *takes_value);
/* Apply one directive; value is NULL for "exact". Returns 0 or -1 (reported
 * with where). */
int ff_join_spec_set(struct ff_join_spec *s, const char *directive, const char *value,
		     const char *where);
/* Read a spec file. Returns 0 or -1. */
int ff_join_spec_load(struct ff_join_spec *s, const char *path);
/* Check it is complete. Returns 0 or -1. */
int ff_join_spec_finish(struct ff_join_spec *s);
/* Canonical text, one directive a line (caller frees). */
char *ff_join_spec_text(const struct ff_join_spec *s);

#endif
