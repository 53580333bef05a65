#include "ff_prep.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_db.h"
#include "ff_spec.h"
#include "ff_time.h"
#include "ff_util.h"


int ff_prep_parse(struct ff_prep *p, const char *text, const char *where)
{
	memset(p, 0, sizeof *p);
	const char *eq = strchr(text, '=');
	const char *open = eq ? strchr(eq, '(') : NULL;
	const char *comma = open ? strchr(open, ',') : NULL;
	const char *close = comma ? strchr(comma, ')') : NULL;
	if (!close)
		return ff_error("%s: '%s' is not NAME=ceil(COLUMN, DURATION) or floor", where, text);
	char *func = ff_xstrndup_trimmed(eq + 1, (size_t)(open - eq - 1));
	char *dur = ff_xstrndup_trimmed(comma + 1, (size_t)(close - comma - 1));
	p->name = ff_xstrndup_trimmed(text, (size_t)(eq - text));
	p->column = ff_xstrndup_trimmed(open + 1, (size_t)(comma - open - 1));
	int rc = 0;
	if (strcmp(func, "ceil") == 0)
		p->op = FF_PREP_CEIL;
	else if (strcmp(func, "floor") == 0)
		p->op = FF_PREP_FLOOR;
	else
		rc = ff_error("%s: unknown step '%s' (ceil or floor)", where, func);
	if (rc == 0 && ff_name_check(p->name, "derived column", where) < 0)
		rc = -1;
	if (rc == 0 && !ff_is_identifier(p->name))
		rc = ff_error("%s: '%s' is not a column name", where, p->name);
	if (rc == 0 && !*p->column)
		rc = ff_error("%s: %s() needs a column", where, func);
	if (rc == 0 && ff_duration_parse(dur, &p->step) < 0)
		rc = ff_error("%s: '%s' is not a duration such as 15m or 1h", where, dur);
	for (const char *q = close + 1; rc == 0 && *q; q++)
		if (!isspace((unsigned char)*q))
			rc = ff_error("%s: unexpected text after ')' in '%s'", where, text);
	free(func);
	free(dur);
	if (rc < 0)
		ff_prep_release(p);
	return rc;
}

void ff_prep_release(struct ff_prep *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->column);
	memset(p, 0, sizeof *p);
}

int64_t ff_prep_apply(const struct ff_prep *p, int64_t t)
{
	return p->op == FF_PREP_CEIL ? ff_time_ceil(t, p->step) : ff_time_floor(t, p->step);
}

void ff_prep_text(const struct ff_prep *p, char *buf, size_t size)
{
	char dur[32];
	ff_duration_format(p->step, dur);
	snprintf(buf, size, "%s=%s(%s, %s)", p->name, p->op == FF_PREP_CEIL ? "ceil" : "floor",
		 p->column, dur);
}
