/* ff-store: see, back up, roll back and prune an offline store. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ff_db.h"
#include "ff_opt.h"
#include "ff_pg.h"
#include "ff_pg_store.h"
#include "ff_report.h"
#include "ff_store.h"
#include "ff_store_admin.h"
#include "ff_store_history.h"
#include "ff_util.h"

static const char usage_text[] =
	"usage: ff-store ls [--online DB] [options] STORE\n"
	"       ff-store history [options] STORE TABLE\n"
	"       ff-store show STORE TABLE\n"
	"       ff-store backup STORE DEST\n"
	"       ff-store restore STORE TABLE VERSION|TIME\n"
	"       ff-store vacuum (--keep-versions N | --keep DURATION) STORE\n"
	"See what an offline store holds and change it as a whole: list its tables,\n"
	"tell a table's versions, print a table's spec, copy the store while writers\n"
	"write, roll a table back to an earlier version (as a new version), and prune\n"
	"the history and change feed no version kept needs.\n"
	"\n"
	"      --format FORMAT      text (default), csv or json (ls, history, restore,\n"
	"                           vacuum)\n"
	"      --online DB          ls: also the version each table was last synced to\n"
	"                           in this online store (ff-sync-online)\n"
	"      --keep-versions N    vacuum: keep what reading each table's last N\n"
	"                           versions needs\n"
	"      --keep DURATION      vacuum: keep the versions current at any time in\n"
	"                           the last DURATION (e.g. 30d)\n"
	"      --wait SECONDS       wait this long for another run's lock (default 30 s)\n"
	"  -q, --quiet              no warnings\n"
	"  -h, --help               show this help\n"
	"  -V, --version            show the version\n";

enum { OPT_FORMAT = 256, OPT_ONLINE, OPT_KEEP_VERSIONS, OPT_KEEP };

static const struct option options[] = {
	{"format", required_argument, NULL, OPT_FORMAT},
	{"online", required_argument, NULL, OPT_ONLINE},
	{"keep-versions", required_argument, NULL, OPT_KEEP_VERSIONS},
	{"keep", required_argument, NULL, OPT_KEEP},
	{"wait", required_argument, NULL, FF_OPT_WAIT},
	FF_OPT_COMMON,
};

enum job { J_LS, J_HISTORY, J_SHOW, J_BACKUP, J_RESTORE, J_VACUUM };
static const char *const jobs[] = {"ls", "history", "show", "backup", "restore", "vacuum", NULL};
static const int operands[] = {1, 2, 2, 2, 3, 1};

static int print_report(struct ff_report_table *t, enum ff_report_format format, int rc)
{
	if (rc == 0)
		ff_report_write(t, format, stdout);
	ff_report_release(t);
	return rc;
}

/* A store to change: it must exist (opening for writing would make one). */
static int open_existing(const char *path, struct ff_store **st)
{
	struct stat sb;
	if (stat(path, &sb) < 0)
		return ff_error("%s: %s", path, strerror(errno));
	return ff_store_open(path, FF_STORE_WRITE, st);
}

static int restore(const char *path, const char *table, const char *when, enum ff_report_format format)
{
	struct ff_as_of a;
	if (ff_as_of_parse(when, &a) < 0)
		ff_usage_error("restore: '%s' is neither a version nor a time", when);
	struct ff_store *st;
	if (open_existing(path, &st) < 0)
		return -1;
	int64_t from = 0;
	struct ff_write_stats stats;
	int rc = ff_store_restore(st, table, &a, &from, &stats);
	ff_store_close(st);
	struct ff_report_table t;
	ff_report_init(&t, "table,restored,version,inserted,updated,deleted");
	ff_report_add(&t, table);
	ff_report_addf(&t, "%lld", (long long)from);
	ff_report_addf(&t, "%lld", (long long)stats.version);
	ff_report_addf(&t, "%lld", (long long)stats.inserted);
	ff_report_addf(&t, "%lld", (long long)stats.updated);
	ff_report_addf(&t, "%lld", (long long)stats.deleted);
	return print_report(&t, format, rc);
}

static int vacuum(const char *path, int64_t keep_versions, int64_t keep, enum ff_report_format format)
{
	struct ff_store *st = NULL;
	struct ff_vacuum_result *res;
	size_t n;
	int rc;
	if (ff_pg_is_uri(path)) {
		rc = ff_pg_store_vacuum(path, keep_versions, keep, &res, &n);
	} else {
		if (open_existing(path, &st) < 0)
			return -1;
		rc = ff_store_vacuum(st, keep_versions, keep, &res, &n);
		ff_store_close(st);
	}
	if (rc < 0)
		return -1;
	struct ff_report_table t;
	ff_report_init(&t, "table,oldest_version,history_rows_removed,feed_rows_removed");
	for (size_t i = 0; i < n; i++) {
		ff_report_add(&t, res[i].table);
		ff_report_addf(&t, "%lld", (long long)res[i].oldest);
		ff_report_addf(&t, "%lld", (long long)res[i].history_rows);
		ff_report_addf(&t, "%lld", (long long)res[i].feed_rows);
		free(res[i].table);
	}
	free(res);
	return print_report(&t, format, 0);
}

/* ls, history and show: reads. */
static int read_job(enum job job, char **argv, const char *online, enum ff_report_format format)
{
	struct ff_store *st;
	if (ff_store_open(argv[0], FF_STORE_READ, &st) < 0)
		return -1;
	/* One read transaction: every figure from one version of the store. */
	int rc = ff_db_exec(ff_store_db(st), argv[0], "BEGIN");
	struct ff_report_table t;
	if (rc == 0 && job == J_LS) {
		rc = print_report(&t, format, ff_store_ls(st, online, &t));
	} else if (rc == 0 && job == J_HISTORY) {
		rc = print_report(&t, format, ff_store_history_report(st, argv[1], &t));
	} else if (rc == 0) {
		struct ff_catalog_entry e;
		int found = ff_store_catalog_entry(st, argv[1], &e);
		if (found == 0)
			ff_error("%s: no table %s in the store", argv[0], argv[1]);
		if (found > 0)
			fputs(e.spec, stdout);
		ff_catalog_entry_release(&e);
		rc = found > 0 ? 0 : -1;
	}
	ff_store_close(st);
	return rc;
}

int main(int argc, char **argv)
{
	ff_opt_start(argc, argv);
	enum ff_report_format format = FF_REPORT_TEXT;
	const char *online = NULL;
	int64_t keep_versions = 0, keep = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":qhV", options, NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			format = (enum ff_report_format)ff_opt_enum("--format", optarg, ff_report_format_names);
			break;
		case OPT_ONLINE: online = optarg; break;
		case OPT_KEEP_VERSIONS: keep_versions = ff_opt_int("--keep-versions", optarg, 1, INT64_MAX); break;
		case OPT_KEEP: keep = ff_opt_duration("--keep", optarg, "30d or 12h"); break;
		default: ff_opt_default(c, argv, usage_text); break;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		ff_usage_error("%s", "no command: give ls, history, show, backup, restore or vacuum");
	int j = 0;
	while (jobs[j] && strcmp(jobs[j], argv[0]) != 0)
		j++;
	if (!jobs[j])
		ff_usage_error("unknown command '%s': use ls, history, show, backup, restore or vacuum", argv[0]);
	enum job job = (enum job)j;
	argc--;
	argv++;
	if (argc != operands[job])
		ff_usage_error("%s takes %d operand%s: see --help", jobs[job], operands[job],
			       operands[job] == 1 ? "" : "s");
	if (online && job != J_LS)
		ff_usage_error("%s", "--online goes with ls");
	if ((keep_versions || keep) && job != J_VACUUM)
		ff_usage_error("%s", "--keep-versions and --keep go with vacuum");
	if (job == J_VACUUM && !keep_versions == !keep)
		ff_usage_error("%s", "vacuum needs one of --keep-versions N and --keep DURATION");
	if ((job == J_BACKUP || job == J_RESTORE) && ff_pg_is_uri(argv[0])) {
		/* Never a silent wrong result: these work on a SQLite file. */
		ff_error("%s: %s works on a SQLite store only: %s", argv[0], jobs[job],
			 job == J_BACKUP ? "back up a PostgreSQL store with pg_dump"
			 : "on PostgreSQL read an earlier version with --as-of, recompute a range with "
			   "ff-compute --mode overwrite, or bring a whole store back with pg_restore");
		return FF_EXIT_FAIL;
	}
	int rc;
	switch (job) {
	case J_BACKUP: rc = ff_store_backup(argv[0], argv[1]); break;
	case J_RESTORE: rc = restore(argv[0], argv[1], argv[2], format); break;
	case J_VACUUM: rc = vacuum(argv[0], keep_versions, keep, format); break;
	default: rc = read_job(job, argv, online, format); break;
	}
	if (ff_close_stdout() < 0)
		rc = -1;
	return rc == 0 ? FF_EXIT_OK : FF_EXIT_FAIL;
}
