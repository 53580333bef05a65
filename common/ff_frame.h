/* ff_frame: a whole table held in memory column by column, for the checks of
 * ff-monitor. It is read from a record stream (CSV or binary, ff-rec(5)) or
 * from an SQLite table (a store's feature table, an inference log, any
 * table), and each column gets a kind from its values: numbers, timestamps or
 * text. A store's catalog adds the roles (keys, timestamp key, partition). */
#ifndef FF_FRAME_H
#define FF_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum ff_frame_kind {
	FF_KIND_EMPTY,  /* no value at all: every cell NULL */
	FF_KIND_NUMBER, /* every value a number */
	FF_KIND_TIME,   /* every value a timestamp */
	FF_KIND_TEXT,   /* anything else */
};
const char *ff_frame_kind_name(enum ff_frame_kind k);

/* Cell tags. */
enum { FF_CELL_NULL, FF_CELL_NUMBER, FF_CELL_TIME, FF_CELL_TEXT };

struct ff_frame_col {
	char *name;
	enum ff_frame_kind kind;
	const char *role;      /* "key", "timestamp", "feature", "partition" or NULL */
	unsigned char *tag;    /* per row: FF_CELL_ */
	double *v;             /* number; a timestamp as seconds since the epoch
				* (exact to the microsecond for our years) */
	size_t *off;           /* text of the cell in arena, SIZE_MAX if none; equal
				* texts have equal offsets (interned) */
	char *arena;
	size_t arena_len, arena_cap;
	size_t *slots, slot_cap, nstrings; /* the intern table */
	int text_only;         /* values are text by declaration, not parsed as numbers */
	size_t nnumber, ntime, ntext;
};

struct ff_frame {
	char *name;            /* the source as given, for messages and reports */
	int is_sqlite;         /* positions are rows of a table, not lines */
	size_t nrows, cap;
	size_t ncols;
	struct ff_frame_col *cols;
	long *pos;             /* per row: CSV line or record number or table row */
	int binary;            /* a binary record stream */
	/* From a store's catalog; NULL otherwise. */
	char *primary_keys;    /* comma-separated */
	char *timestamp_key;
	char *partition;
};

/* Read SOURCE: "DB:TABLE" when DB is an SQLite file, else a record stream
 * file ("-" for stdin). store, if not NULL, is the SQLite file and source the
 * table. wanted (NULL: every column) names the columns to read; a missing
 * one is an error. Returns 0 or -1 (reported, with file and line). */
int ff_frame_read(struct ff_frame *f, const char *store, const char *source,
		  const char *const *wanted, size_t nwanted);
/* The same, a store's table as of a version or a time (ff_store_history.h;
 * NULL: as it is). */
struct ff_as_of;
int ff_frame_read_as_of(struct ff_frame *f, const char *store, const char *source,
			const char *const *wanted, size_t nwanted, const struct ff_as_of *as_of);
void ff_frame_release(struct ff_frame *f);

/* Index of a column, or -1. */
long ff_frame_find(const struct ff_frame *f, const char *name);
/* The text of a cell (formatted for numbers and times); buf of 32 bytes
 * for formatting. "" for NULL. */
const char *ff_frame_text(const struct ff_frame *f, size_t col, size_t row, char *buf);
/* "file:LINE", "file: record N" or "db:table: row N" of a row. */
void ff_frame_where(const struct ff_frame *f, size_t row, char *buf, size_t size);

/* Format a timestamp given in seconds ("YYYY-MM-DD HH:MM:SS[.ffffff]"). */
void ff_frame_format_time(double secs, char *buf);

#endif
