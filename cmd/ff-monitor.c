/* ff-monitor: data quality, freshness, drift and lineage of feature tables,
 * training sets and inference logs, as checks that cron can run: the exit
 * status tells whether every check passed. */
#include <getopt.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ff_monitor.h"
#include "ff_opt.h"
#include "ff_store_history.h"
#include "ff_time.h"
#include "ff_util.h"

static const char usage_text[] =
	"usage: ff-monitor profile [options] SOURCE...\n"
	"       ff-monitor freshness [options] SOURCE...\n"
	"       ff-monitor drift [options] REFERENCE [CURRENT]\n"
	"       ff-monitor drift --by PERIOD [options] SOURCE [CURRENT]\n"
	"       ff-monitor lineage [options] TABLE[.FEATURE]|models:/REF...\n"
	"Check feature data: profile columns, the age of the newest rows, the drift\n"
	"of a feature between two samples, and the lineage of tables and models.\n"
	"Exit status 0 when every check passes, 1 when one fails, 2 on a usage\n"
	"error, 3 when a check could not be made (a source unreadable).\n"
	"\n"
	"A SOURCE is a record stream (CSV or binary, - for stdin), DB:TABLE for a\n"
	"table of an SQLite file, or with --store a TABLE of the store.\n"
	"\n"
	"  -s, --store STORE        operands are tables of this store (a file or a\n"
	"                           postgresql:// address)\n"
	"  -c, --columns LIST       the columns to look at (comma-separated; repeatable)\n"
	"  -t, --time-column NAME   the column of timestamps (default: the store's\n"
	"                           timestamp key, else the first column of timestamps)\n"
	"      --format FORMAT      text (default), csv or json\n"
	"      --as-of VERSION|TIME with --store: the tables as of a version, or as\n"
	"                           they were at a time (ff-store(5), History)\n"
	"profile:\n"
	"      --max-null-rate R    fail when a column's share of NULLs is above R\n"
	"      --unique-key LIST    fail when these columns repeat a key (default: the\n"
	"                           store's primary key)\n"
	"      --partition NAME     count rows per value of this column (default: the\n"
	"                           store's partition column)\n"
	"      --range FROM..UNTIL  only rows whose time is in [FROM, UNTIL)\n"
	"freshness:\n"
	"      --max-age DURATION   fail when the newest row is older (e.g. 2h, 1d)\n"
	"      --now TIME           the time to measure ages from (default: now)\n"
	"      --by-key             the newest row of each key (--unique-key or the\n"
	"                           store's keys)\n"
	"      --history            also each version of a store's table: its time,\n"
	"                           rows inserted, updated, deleted, rows after it\n"
	"      --report FILE        also write a page of it with the rows over the\n"
	"                           versions as a chart (HTML)\n"
	"drift:\n"
	"      --psi-threshold X    fail when a feature's PSI is above X (default 0.2)\n"
	"      --ks-threshold X     fail when a feature's KS statistic is above X\n"
	"                           (default 0.1)\n"
	"      --bins N             PSI bins at the reference's quantiles (default 10)\n"
	"      --split TIME         reference: rows before TIME; current: the others\n"
	"      --reference-range FROM..UNTIL  the rows of the reference\n"
	"      --current-range FROM..UNTIL    the rows of the current sample\n"
	"      --by PERIOD          day, week, month, or a partition column: compare\n"
	"                           each period of the current rows with the reference\n"
	"                           (default: the first period)\n"
	"      --report FILE        also write the histograms as FILE.svg or FILE.html\n"
	"                           (with --by the line charts, FILE.html)\n"
	"      --ascii              histogram bars in ASCII, not Unicode blocks\n"
	"lineage:\n"
	"  -r, --registry FILE      the model registry (default $FF_REGISTRY, else\n"
	"                           models.db)\n"
	"      --blueprint FILE     a training set's blueprint to search (repeatable)\n"
	"\n"
	"      --delimiter CHAR     the delimiter of CSV input: one byte, or tab\n"
	"  -q, --quiet              no warnings\n"
	"  -h, --help               show this help\n"
	"  -V, --version            show the version\n";

enum {
	OPT_FORMAT = 256,
	OPT_AS_OF,
	OPT_MAX_NULL_RATE,
	OPT_UNIQUE_KEY,
	OPT_PARTITION,
	OPT_RANGE,
	OPT_MAX_AGE,
	OPT_NOW,
	OPT_BY_KEY,
	OPT_PSI,
	OPT_KS,
	OPT_BINS,
	OPT_SPLIT,
	OPT_REFERENCE_RANGE,
	OPT_CURRENT_RANGE,
	OPT_REPORT,
	OPT_ASCII,
	OPT_BLUEPRINT,
	OPT_BY,
	OPT_HISTORY,
};

static const struct option options[] = {
	{"store", required_argument, NULL, 's'},
	{"columns", required_argument, NULL, 'c'},
	{"time-column", required_argument, NULL, 't'},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"as-of", required_argument, NULL, OPT_AS_OF},
	{"max-null-rate", required_argument, NULL, OPT_MAX_NULL_RATE},
	{"unique-key", required_argument, NULL, OPT_UNIQUE_KEY},
	{"partition", required_argument, NULL, OPT_PARTITION},
	{"range", required_argument, NULL, OPT_RANGE},
	{"max-age", required_argument, NULL, OPT_MAX_AGE},
	{"now", required_argument, NULL, OPT_NOW},
	{"by-key", no_argument, NULL, OPT_BY_KEY},
	{"psi-threshold", required_argument, NULL, OPT_PSI},
	{"ks-threshold", required_argument, NULL, OPT_KS},
	{"bins", required_argument, NULL, OPT_BINS},
	{"split", required_argument, NULL, OPT_SPLIT},
	{"reference-range", required_argument, NULL, OPT_REFERENCE_RANGE},
	{"current-range", required_argument, NULL, OPT_CURRENT_RANGE},
	{"report", required_argument, NULL, OPT_REPORT},
	{"ascii", no_argument, NULL, OPT_ASCII},
	{"by", required_argument, NULL, OPT_BY},
	{"history", no_argument, NULL, OPT_HISTORY},
	{"registry", required_argument, NULL, 'r'},
	{"blueprint", required_argument, NULL, OPT_BLUEPRINT},
	{"delimiter", required_argument, NULL, FF_OPT_DELIMITER},
	FF_OPT_COMMON,
};

/* Options of one job only: a cron line that gives one to another job has
 * a mistake in it, better told than ignored (used() notes each one given). */
enum { J_PROFILE = 1, J_FRESH = 2, J_DRIFT = 4, J_LINEAGE = 8 };
struct job_options {
	const char *name[32];
	int jobs[32];
	size_t n;
};

static void used(struct job_options *u, const char *name, int jobs)
{
	if (u->n < 32) {
		u->name[u->n] = name;
		u->jobs[u->n++] = jobs;
	}
}

static void parse_range(const char *opt, const char *s, struct ff_time_range *r)
{
	if (ff_time_range_parse(s, r) < 0)
		ff_usage_error("bad %s '%s': FROM..UNTIL, times or dates, FROM before UNTIL, "
			       "either may be left out",
			       opt, s);
}

int main(int argc, char **argv)
{
	ff_opt_start(argc, argv);
	/* Big arrays come and go per column: keep freed memory for the next one
	 * rather than hand it back and fault it in again, which dominated the
	 * profile of a store table (a page fault is dear in a VM). */
	mallopt(M_MMAP_THRESHOLD, 1 << 30);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	struct ff_monitor_options o = {0};
	o.max_null_rate = o.max_age = -1;
	o.psi_threshold = 0.2;
	o.ks_threshold = 0.1;
	o.bins = 10;
	o.now = (double)time(NULL);
	int ch, split = 0, ranges = 0;
	struct job_options u = {0};
	struct ff_as_of as_of;
	while ((ch = getopt_long(argc, argv, ":s:c:t:r:qhV", options, NULL)) != -1) {
		switch (ch) {
		case 's': o.store = optarg; break;
		case 'c': ff_strlist_add_split(&o.columns, optarg); break;
		case 't': o.time_column = optarg; break;
		case OPT_AS_OF:
			used(&u, "--as-of", J_PROFILE | J_FRESH | J_DRIFT);
			if (ff_as_of_parse(optarg, &as_of) < 0)
				ff_usage_error("--as-of: '%s' is neither a version nor a time", optarg);
			o.as_of = &as_of;
			break;
		case OPT_FORMAT: o.format = (enum ff_report_format)ff_opt_enum("--format", optarg, ff_report_format_names); break;
		case OPT_MAX_NULL_RATE:
			used(&u, "--max-null-rate", J_PROFILE);
			o.max_null_rate = ff_opt_real("--max-null-rate", optarg, 0, 1);
			break;
		case OPT_UNIQUE_KEY:
			used(&u, "--unique-key", J_PROFILE | J_FRESH);
			o.unique_key = optarg;
			break;
		case OPT_PARTITION: used(&u, "--partition", J_PROFILE); o.partition = optarg; break;
		case OPT_RANGE:
			used(&u, "--range", J_PROFILE);
			parse_range("--range", optarg, &o.range);
			break;
		case OPT_MAX_AGE:
			used(&u, "--max-age", J_FRESH);
			o.max_age = (double)ff_opt_duration("--max-age", optarg, "90m, 2h or 1d") / FF_USEC;
			break;
		case OPT_NOW:
			used(&u, "--now", J_FRESH);
			o.now = (double)ff_opt_time("--now", optarg) / FF_USEC;
			break;
		case OPT_BY_KEY: used(&u, "--by-key", J_FRESH); o.by_key = 1; break;
		case OPT_PSI:
			used(&u, "--psi-threshold", J_DRIFT);
			o.psi_threshold = ff_opt_real("--psi-threshold", optarg, 0, INFINITY);
			break;
		case OPT_KS:
			used(&u, "--ks-threshold", J_DRIFT);
			o.ks_threshold = ff_opt_real("--ks-threshold", optarg, 0, 1);
			break;
		case OPT_BINS:
			used(&u, "--bins", J_DRIFT);
			o.bins = (int)ff_opt_int("--bins", optarg, 2, 1000);
			break;
		case OPT_SPLIT: {
			used(&u, "--split", J_DRIFT);
			split = 1;
			double t = (double)ff_opt_time("--split", optarg) / FF_USEC;
			o.reference = (struct ff_time_range){1, -INFINITY, t};
			o.current = (struct ff_time_range){1, t, INFINITY};
			break;
		}
		case OPT_REFERENCE_RANGE:
			used(&u, "--reference-range", J_DRIFT);
			ranges = 1;
			parse_range("--reference-range", optarg, &o.reference);
			break;
		case OPT_CURRENT_RANGE:
			used(&u, "--current-range", J_DRIFT);
			ranges = 1;
			parse_range("--current-range", optarg, &o.current);
			break;
		case OPT_REPORT: used(&u, "--report", J_DRIFT | J_FRESH); o.report = optarg; break;
		case OPT_HISTORY: used(&u, "--history", J_FRESH); o.history = 1; break;
		case OPT_ASCII: used(&u, "--ascii", J_DRIFT); o.ascii = 1; break;
		case OPT_BY:
			used(&u, "--by", J_DRIFT);
			if (!*optarg)
				ff_usage_error("%s", "bad --by '': day, week, month or a column");
			o.by = optarg;
			break;
		case 'r': used(&u, "--registry", J_LINEAGE); o.registry = optarg; break;
		case OPT_BLUEPRINT:
			used(&u, "--blueprint", J_LINEAGE);
			ff_strlist_add(&o.blueprints, optarg);
			break;
		default: ff_opt_default(ch, argv, usage_text); break;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		ff_usage_error("no job: give profile, freshness, drift or lineage");
	static const struct {
		const char *name;
		int (*run)(const struct ff_monitor_options *, char **, int);
		int min, max;
	} jobs[] = {
		{"profile", ff_monitor_profile, 1, 1 << 20},
		{"freshness", ff_monitor_freshness, 1, 1 << 20},
		{"drift", ff_monitor_drift, 1, 2},
		{"lineage", ff_monitor_lineage, 1, 1 << 20},
	};
	size_t j = 0;
	while (j < 4 && strcmp(argv[0], jobs[j].name) != 0)
		j++;
	if (j == 4)
		ff_usage_error("unknown job '%s': use profile, freshness, drift or lineage", argv[0]);
	for (size_t k = 0; k < u.n; k++)
		if (!(u.jobs[k] & 1 << j))
			ff_usage_error("%s: %s is not an option of this job", argv[0], u.name[k]);
	if (split && ranges)
		ff_usage_error("%s", "drift: give --split, or --reference-range and --current-range, not both");
	if (j == 2 && argc == 3 && strcmp(argv[1], "-") == 0 && strcmp(argv[2], "-") == 0)
		ff_usage_error("%s", "drift: stdin can be read once: give one of the samples as a file");
	if (argc - 1 < jobs[j].min)
		ff_usage_error("%s: give a %s", argv[0], j == 3 ? "table or model" : "source");
	if (argc - 1 > jobs[j].max)
		ff_usage_error("drift: give a reference and at most one current sample");
	size_t rlen = o.report ? strlen(o.report) : 0;
	if (j == 1 && rlen >= 4 && strcmp(o.report + rlen - 4, ".svg") == 0)
		ff_usage_error("%s", "freshness: its report is a page: give --report FILE.html");
	if (o.by && rlen >= 4 && strcmp(o.report + rlen - 4, ".svg") == 0)
		ff_usage_error("%s", "drift: --by draws its report as a page: give --report FILE.html");
	if (j == 2 && argc == 2 && !o.by && !(o.reference.set && o.current.set))
		ff_usage_error("drift: one source needs --split, or --reference-range and "
			       "--current-range");
	int rc = jobs[j].run(&o, argv + 1, argc - 1);
	ff_strlist_release(&o.columns);
	ff_strlist_release(&o.blueprints);
	if (ff_close_stdout() < 0)
		rc = -1;
	return rc == 0 ? FF_EXIT_OK : rc > 0 ? FF_EXIT_FAIL : FF_EXIT_NO_CHECK;
}
