/* ff-gen-trips: synthetic NYC yellow-taxi trips for the demo, the tests and the
 * benchmarks, shaped like the real 2018 records (see ff-gen-trips(1)); the
 * generator is common/ff_gen_trips. */
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_gen_trips.h"
#include "ff_output.h"
#include "ff_opt.h"
#include "ff_time.h"
#include "ff_util.h"

static const char usage_text[] =
	"usage: ff-gen-trips [-n ROWS] [--seed N] [--start DATE] [--days D] [-o FILE]\n"
	"Write synthetic NYC taxi trips as CSV, in pickup order (up to 4 minutes of\n"
	"jitter); the same options give the same bytes.\n"
	"\n"
	"  -n, --rows N       number of trips (default 100000)\n"
	"      --seed N       random seed, 0 or more (default 1)\n"
	"      --start DATE   first day of pickups, YYYY-MM-DD (default 2018-01-01)\n"
	"      --days D       number of days of pickups (default 31)\n"
	"  -o, --output FILE  write to FILE instead of stdout\n"
	"  -q, --quiet        no warnings\n"
	"  -h, --help         show this help\n"
	"  -V, --version      show the version\n";

enum { OPT_SEED = 256, OPT_START, OPT_DAYS };

static const struct option options[] = {
	{"rows", required_argument, NULL, 'n'},
	{"seed", required_argument, NULL, OPT_SEED},
	{"start", required_argument, NULL, OPT_START},
	{"days", required_argument, NULL, OPT_DAYS},
	{"output", required_argument, NULL, 'o'},
	FF_OPT_COMMON,
};

int main(int argc, char **argv)
{
	ff_opt_start(argc, argv);
	signal(SIGPIPE, SIG_DFL);
	int64_t rows = 100000, seed = 1, days = 31;
	int64_t start = ff_days_from_civil(2018, 1, 1) * 86400 * FF_USEC;
	const char *output = NULL;

	int c;
	while ((c = getopt_long(argc, argv, ":n:o:qhV", options, NULL)) != -1) {
		switch (c) {
		case 'n': rows = ff_opt_int("--rows", optarg, 0, INT64_MAX); break;
		case OPT_SEED: seed = ff_opt_int("--seed", optarg, 0, INT64_MAX); break;
		case OPT_DAYS: days = ff_opt_int("--days", optarg, 1, 36500); break;
		case OPT_START: start = ff_opt_date("--start", optarg); break;
		case 'o': output = optarg; break;
		default: ff_opt_default(c, argv, usage_text); break;
		}
	}
	if (optind < argc)
		ff_usage_error("unexpected operand '%s'", argv[optind]);
	/* Pickups plus two hours must stay within four-digit years. */
	if (ff_floor_div(start, 86400 * FF_USEC) + days > ff_days_from_civil(9999, 12, 31))
		ff_usage_error("%s", "--start and --days go past the year 9999");

	struct ff_gen_trips_options o = {.rows = rows, .seed = (uint64_t)seed, .start = start, .days = days};
	struct ff_output out;
	if (ff_output_open(&out, output) < 0)
		return FF_EXIT_FAIL;
	int rc = ff_gen_trips(out.f, &o);
	/* A failed write leaves the stream's error flag, which ff_output_close
	 * reports, keeping no partial file. */
	if (ff_output_close(&out, 1) < 0 || rc < 0)
		return FF_EXIT_FAIL;
	return FF_EXIT_OK;
}
