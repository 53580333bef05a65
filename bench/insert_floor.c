/* insert_floor: the SQLite insert floor that ff-compute is compared with:
 * ROWS rows shaped like the taxi pickup table (a zip, a window end, a mean,
 * a count, a month) inserted in primary-key order into a new WITHOUT ROWID
 * table in one transaction, 128 rows per statement, with the pragmas of a
 * new store. Prints the rows per second on stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#define PER 128

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: insert_floor ROWS FILE\n");
		return 2;
	}
	long long rows = atoll(argv[1]);
	sqlite3 *db;
	unlink(argv[2]);
	if (sqlite3_open(argv[2], &db) != SQLITE_OK)
		return 1;
	sqlite3_exec(db, "PRAGMA page_size=16384; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
		     "PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-32768;"
		     "CREATE TABLE t (zip TEXT NOT NULL, ts INTEGER NOT NULL, mean REAL, n INTEGER,"
		     " month TEXT, PRIMARY KEY (ts, zip)) WITHOUT ROWID", NULL, NULL, NULL);
	char sql[PER * 20 + 64];
	int len = snprintf(sql, sizeof sql, "INSERT INTO t VALUES ");
	for (int r = 0; r < PER; r++)
		len += snprintf(sql + len, sizeof sql - (size_t)len, "%s(?,?,?,?,?)", r ? "," : "");
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return 1;
	double t0 = now();
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	char zip[8];
	for (long long i = 0; i + PER <= rows; i += PER) {
		for (int r = 0; r < PER; r++) {
			long long k = i + r;
			int n = snprintf(zip, sizeof zip, "%lld", 1 + k % 255);
			sqlite3_bind_text(s, r * 5 + 1, zip, n, SQLITE_TRANSIENT);
			sqlite3_bind_int64(s, r * 5 + 2, 1514765700 + (k / 255) * 900);
			sqlite3_bind_double(s, r * 5 + 3, 9.5 + (double)(k % 17) / 4);
			sqlite3_bind_int64(s, r * 5 + 4, 1 + k % 3);
			sqlite3_bind_text(s, r * 5 + 5, "2018-01", 7, SQLITE_STATIC);
		}
		if (sqlite3_step(s) != SQLITE_DONE) {
			fprintf(stderr, "insert_floor: %s\n", sqlite3_errmsg(db));
			return 1;
		}
		sqlite3_reset(s);
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	double t = now() - t0;
	sqlite3_finalize(s);
	sqlite3_close(db);
	unlink(argv[2]);
	printf("%.0f\n", (double)rows / t);
	return 0;
}
