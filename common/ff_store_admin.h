/* ff_store_admin: what ff-store(1) does to a store as a whole: list its
 * tables, tell a table's versions, copy the store while writers write, and
 * roll a table back to an earlier version as a new one. Reports are
 * ff_report tables, printed by the command in the format asked for. */
#ifndef FF_STORE_ADMIN_H
#define FF_STORE_ADMIN_H

#include <stdint.h>

#include "ff_report.h"
#include "ff_store.h"
#include "ff_store_history.h"

/* One row per table: table, version, rows, keys (distinct key tuples),
 * first_window, last_window, last_write, bytes (the table and its side
 * tables, 0 when SQLite has no dbstat), history_bytes; with online (an
 * online store, NULL: none) also online_version and synced_at, empty for
 * a table never synced there. Returns 0 or -1 (reported). */
int ff_store_ls(struct ff_store *st, const char *online, struct ff_report_table *out);

/* One row per version of table, oldest first: version, committed_at,
 * operation, inserted, updated, deleted, range_start, range_end,
 * appended_from, batches and inputs (what the write read: batch ids, and
 * input names with their XXH3-128 hashes). Returns 0 or -1 (reported). */
int ff_store_history_report(struct ff_store *st, const char *table, struct ff_report_table *out);

/* Copy the store at path into dest (which must not exist), consistent as
 * of one moment while writers go on: one read transaction, SQLite's backup
 * API, then a rename. The copy keeps the store's identity. Returns 0 or -1
 * (reported). */
int ff_store_backup(const char *path, const char *dest);

/* Make table (of st, opened for writing) hold the rows it held as of a,
 * with their window states, as a new version "restore" (history kept, the
 * batches folded after that version forgotten, so that they can be fed
 * again). *from is the version restored. Returns 0 or -1 (reported). */
int ff_store_restore(struct ff_store *st, const char *table, const struct ff_as_of *a, int64_t *from,
		     struct ff_write_stats *stats);

#endif
