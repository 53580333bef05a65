/* Unit tests of common/ff_spec: directives, defaults, canonical text. */
#include <stdlib.h>

#include "ff_spec.h"
#include "ff_util.h"
#include "unit.h"

int main(void)
{
	ff_set_progname("test_spec");
	struct ff_spec s;
	ff_spec_init(&s, "t.spec");
	CHECK(ff_spec_set(&s, "table", "trips", "t") == 0, "table");
	CHECK(ff_spec_set(&s, "table", "again", "t") < 0, "table twice refused");
	CHECK(ff_spec_set(&s, "time", "pickup", "t") == 0, "time");
	CHECK(ff_spec_set(&s, "key", "zip=pickup_zip", "t") == 0, "renamed key");
	CHECK(ff_spec_set(&s, "window", "1h", "t") == 0, "window");
	CHECK(ff_spec_set(&s, "window", "1x", "t") < 0, "bad duration refused");
	CHECK(ff_spec_set(&s, "feature", "m=avg(fare)", "t") == 0, "avg is mean");
	CHECK(ff_spec_set(&s, "feature", "n = count( * )", "t") == 0, "blanks around parts");
	CHECK(ff_spec_set(&s, "feature", "x=median(fare)", "t") < 0, "unknown function refused");
	CHECK(ff_spec_set(&s, "feature", "x=sum(*)", "t") < 0, "only count takes *");
	CHECK(ff_spec_set(&s, "feature", "x=hour(fare)", "t") < 0, "hour takes window_end");
	CHECK(ff_spec_set(&s, "feature", "bad name=sum(fare)", "t") < 0, "feature name must be a name");
	CHECK(ff_spec_set(&s, "describe", "m=Mean fare", "t") == 0, "describe");
	CHECK(ff_spec_set(&s, "describe", "zz=text", "t") < 0, "describe an unknown feature");
	CHECK(ff_spec_set(&s, "timezone", "Nowhere/Land", "t") < 0, "unknown zone refused");
	CHECK(ff_spec_set(&s, "colour", "red", "t") < 0, "unknown directive refused");
	CHECK(ff_spec_finish(&s) == 0, "complete spec");
	char *def = ff_spec_text(&s, 0);
	CHECK_STR(def,
		  "table trips\ntime pickup\nkey zip=pickup_zip\ntimestamp-key window_end\nwindow 1h\n"
		  "slide 1h\ntimezone UTC\npartition yyyy_mm\nfeature m=mean(fare)\nfeature n=count(*)\n",
		  "canonical definition with defaults");
	free(def);
	char *full = ff_spec_text(&s, 1);
	CHECK(strstr(full, "describe m=Mean fare\n") != NULL, "descriptions in the full text");
	free(full);
	struct ff_table_def t;
	ff_spec_table_def(&s, &t);
	CHECK(t.ncols == 5 && strcmp(t.cols[0].name, "zip") == 0 && t.cols[1].type == FF_TYPE_TIMESTAMP &&
		      t.cols[2].type == FF_TYPE_REAL && t.cols[3].type == FF_TYPE_INTEGER &&
		      t.cols[4].role == FF_ROLE_PARTITION, "table columns and types");
	ff_table_def_release(&t);
	ff_spec_release(&s);

	ff_spec_init(&s, "t.spec");
	ff_spec_set(&s, "table", "t", "t");
	ff_spec_set(&s, "time", "ts", "t");
	ff_spec_set(&s, "key", "k", "t");
	ff_spec_set(&s, "window", "15m", "t");
	ff_spec_set(&s, "slide", "1h", "t");
	ff_spec_set(&s, "feature", "k=count(*)", "t");
	CHECK(ff_spec_finish(&s) < 0, "slide longer than the window, or a name used twice, refused");
	ff_spec_release(&s);
	return UNIT_DONE();
}
