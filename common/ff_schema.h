/* ff_schema: what a feature table looks like, shared by the code that defines
 * tables (specs), stores them (ff_store) and reads them (joins, sync). */
#ifndef FF_SCHEMA_H
#define FF_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

/* Column types. A timestamp is microseconds since the epoch, UTC, in memory
 * (struct ff_cell .i, record streams); stores keep INTEGER seconds, and
 * the code that binds or reads them converts (ff_store, ff_lookup). */
enum ff_type { FF_TYPE_TEXT, FF_TYPE_INTEGER, FF_TYPE_REAL, FF_TYPE_TIMESTAMP };
const char *ff_type_name(enum ff_type t);
/* Parse a type name; -1 if unknown. */
int ff_type_parse(const char *name);

enum ff_role { FF_ROLE_KEY, FF_ROLE_TIMESTAMP, FF_ROLE_FEATURE, FF_ROLE_PARTITION };
const char *ff_role_name(enum ff_role r);
int ff_role_parse(const char *name);

struct ff_column {
	char *name;
	enum ff_type type;
	enum ff_role role;
	char *description; /* may be NULL */
};

/* A table as written: columns in stored order, keys first, then the
 * timestamp key, features, and the partition column. */
struct ff_table_def {
	char *name;
	struct ff_column *cols;
	size_t ncols;
	char *definition; /* how the rows are computed, compared on every write */
	char *spec;       /* the full spec text kept in the catalog */
};

void ff_table_def_release(struct ff_table_def *def);

/* One value of a row, its column's type telling which member is meant.
 * Its text form, and text read as a value, are ff_cell.h. */
struct ff_cell {
	int null;
	int64_t i;      /* integer, timestamp (microseconds) */
	double d;       /* real */
	const char *s;  /* text */
	size_t len;
};

#endif
