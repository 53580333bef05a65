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
	"usage: ff-gen-trips [-n ROWS] [--seed N] [--start DATE] [--days D] [--zones Z]\n"
	"                    [-o FILE]\n"
	"Write synthetic NYC taxi trips as CSV, in pickup order (up to 4 minutes of\n"
	"jitter); the same options give the same bytes.\n"
	"\n"
	"  -n, --rows N       number of trips (default 100000)\n"
	"      --seed N       random seed, 0 or more (default 1)\n"
	"      --start DATE   first day of pickups, YYYY-MM-DD (default 2018-01-01)\n"
	"      --days D       number of days of pickups (default 31)\n"
	"      --zones Z      where trips start and end: city (default: the city's\n"
	"                     skewed zones), uniform or zipf:S (zones 1 to 255, zone k\n"
	"                     drawn with weight 1/k^S, S from 0 to 3)\n"
	"  -o, --output FILE  write to FILE instead of stdout\n"
	"  -q, --quiet        no warnings\n"
	"  -h, --help         show this help\n"
	"  -V, --version      show the version\n";

enum { OPT_SEED = 256, OPT_START, OPT_DAYS, OPT_ZONES };

static const struct option options[] = {
	{"rows", required_argument, NULL, 'n'},
	{"seed", required_argument, NULL, OPT_SEED},
	{"start", required_argument, NULL, OPT_START},
	{"days", required_argument, NULL, OPT_DAYS},
	{"zones", required_argument, NULL, OPT_ZONES},
	{"output", required_argument, NULL, 'o'},
	FF_OPT_COMMON,
};

/* --zones: city, uniform (Zipf of exponent 0) or zipf:S, S to the thousandth. */
static void parse_zones(const char *text, struct ff_gen_trips_options *o)
{
	o->zones = FF_GEN_TRIPS_ZIPF;
	o->zipf_milli = 0;
	if (strcmp(text, "city") == 0)
		o->zones = FF_GEN_TRIPS_CITY;
	else if (strncmp(text, "zipf:", 5) == 0)
		o->zipf_milli = (int32_t)(ff_opt_real("--zones zipf:", text + 5, 0,
						      FF_GEN_TRIPS_ZIPF_MAX / 1000.0) * 1000 + 0.5);
	else if (strcmp(text, "uniform") != 0)
		ff_usage_error("--zones: '%s' is not city, uniform or zipf:S", text);
}

int main(int argc, char **argv)
{
	ff_opt_start(argc, argv);
	signal(SIGPIPE, SIG_DFL);
	int64_t rows = 100000, seed = 1, days = 31;
	int64_t start = ff_days_from_civil(2018, 1, 1) * 86400 * FF_USEC;
	const char *output = NULL;
	struct ff_gen_trips_options o = {.zones = FF_GEN_TRIPS_CITY};

	int c;
	while ((c = getopt_long(argc, argv, ":n:o:qhV", options, NULL)) != -1) {
		switch (c) {
		case 'n': rows = ff_opt_int("--rows", optarg, 0, INT64_MAX); break;
		case OPT_SEED: seed = ff_opt_int("--seed", optarg, 0, INT64_MAX); break;
		case OPT_DAYS: days = ff_opt_int("--days", optarg, 1, 36500); break;
		case OPT_START: start = ff_opt_date("--start", optarg); break;
		case OPT_ZONES: parse_zones(optarg, &o); break;
		case 'o': output = optarg; break;
		default: ff_opt_default(c, argv, usage_text); break;
		}
	}
	if (optind < argc)
		ff_usage_error("unexpected operand '%s'", argv[optind]);
	/* Pickups plus two hours must stay within four-digit years. */
	if (ff_floor_div(start, 86400 * FF_USEC) + days > ff_days_from_civil(9999, 12, 31))
		ff_usage_error("%s", "--start and --days go past the year 9999");

	o.rows = rows, o.seed = (uint64_t)seed, o.start = start, o.days = days;
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
