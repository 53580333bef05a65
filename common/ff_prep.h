/* ff_prep: preprocessing steps that training and serving both apply to raw
 * records before looking features up, e.g.
 *   rounded_pickup_datetime=ceil(tpep_pickup_datetime, 15m)
 * ceil and floor round a timestamp to a multiple of an interval since the
 * epoch; a time already on a boundary stays. One implementation, used by
 * ff-join, ff-train-set and ff-predict alike. */
#ifndef FF_PREP_H
#define FF_PREP_H

#include <stddef.h>
#include <stdint.h>

enum ff_prep_op { FF_PREP_CEIL, FF_PREP_FLOOR };

struct ff_prep {
	char *name;     /* the derived column */
	enum ff_prep_op op;
	char *column;   /* the source column */
	int64_t step;   /* microseconds */
};

/* Parse "NAME=ceil(COLUMN, DURATION)" (or floor). where names the spec line
 * or option for messages. Returns 0 or -1 (reported). */
int ff_prep_parse(struct ff_prep *p, const char *text, const char *where);
void ff_prep_release(struct ff_prep *p);
/* Apply to a timestamp (microseconds). */
int64_t ff_prep_apply(const struct ff_prep *p, int64_t t);
/* Canonical text "NAME=ceil(COLUMN, 15m)"; buf of at least 300 bytes. */
void ff_prep_text(const struct ff_prep *p, char *buf, size_t size);

#endif
