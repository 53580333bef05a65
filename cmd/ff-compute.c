/* ff-compute: windowed aggregations of raw events into offline feature tables. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_compute.h"
#include "ff_opt.h"
#include "ff_output.h"
#include "ff_time.h"
#include "ff_util.h"

static const char usage_text[] =
	"usage: ff-compute [-s STORE] [-f SPEC]... [options] [FILE...]\n"
	"Compute windowed aggregations of CSV events (FILE or stdin) into feature tables.\n"
	"\n"
	"  -s, --store STORE        write the tables into this offline store: a file\n"
	"                           (created if missing) or a postgresql:// URI; without\n"
	"                           it, write one table as CSV\n"
	"  -f, --spec FILE          table definition (repeatable: one pass for all)\n"
	"  -o, --output FILE        CSV output file without --store (default stdout)\n"
	"      --start TIME         only windows ending after TIME\n"
	"      --end TIME           only windows ending at or before TIME\n"
	"      --mode MODE          merge (fold the events into the tables, default) or\n"
	"                           overwrite (recompute the range from these events)\n"
	"      --batch NAME         name this batch (default: its content hash); a batch\n"
	"                           folded in already changes nothing\n"
	"      --replace            drop a stored table whose definition differs\n"
	"      --shard K/N          only the keys of shard K of N (ff-compute(1) says\n"
	"                           which); a shard's write is a version of its own\n"
	"      --lateness DURATION  keep windows in memory this long behind the newest\n"
	"                           event (default 1d); late rows are merged all the same\n"
	"      --memory SIZE        memory for open windows (default 64M)\n"
	"      --skip-bad           skip bad rows, report them on stderr\n"
	"      --max-bad N|N%       with --skip-bad, fail (writing nothing) past N bad\n"
	"                           rows or N% of the rows (default 1%)\n"
	"      --delimiter CHAR     the delimiter of CSV input: one byte, or tab\n"
	"      --wait SECONDS       wait this long for another run's lock (default 30 s)\n"
	"  -q, --quiet              no warnings\n"
	"  -v, --verbose            report what was written\n"
	"  -h, --help               show this help\n"
	"  -V, --version            show the version\n"
	"\n"
	"A table defined by options instead of --spec (same words as ff-spec(5)):\n"
	"      --table NAME             --time COLUMN          --key [NAME=]COLUMN\n"
	"      --timestamp-key NAME     --window DURATION      --slide DURATION\n"
	"      --timezone ZONE          --partition NAME|none\n"
	"      --input-timezone ZONE    the zone of the input's naive times (default UTC)\n"
	"      --input-time-format text|date|epoch-s|epoch-ms  how the times are written\n"
	"      --feature NAME=FUNCTION(COLUMN)                 --describe NAME=TEXT\n"
	"Functions: count sum mean avg min max stddev variance, and of window_end or\n"
	"window_start: is_weekend hour day_of_week. TIME is YYYY-MM-DD or a timestamp\n"
	"as in the data (YYYY-MM-DD HH:MM:SS, UTC unless it has an offset).\n";

enum {
	OPT_START = 256, OPT_END, OPT_MODE, OPT_REPLACE, OPT_LATENESS, OPT_SKIP_BAD, OPT_MAX_BAD, OPT_BATCH,
	OPT_MEMORY, OPT_SHARD,
	OPT_DIRECTIVE, /* spec directives: the option name is the directive */
};

static const struct option options[] = {
	{"store", required_argument, NULL, 's'},
	{"spec", required_argument, NULL, 'f'},
	{"output", required_argument, NULL, 'o'},
	{"start", required_argument, NULL, OPT_START},
	{"end", required_argument, NULL, OPT_END},
	{"mode", required_argument, NULL, OPT_MODE},
	{"replace", no_argument, NULL, OPT_REPLACE},
	{"shard", required_argument, NULL, OPT_SHARD},
	{"lateness", required_argument, NULL, OPT_LATENESS},
	{"batch", required_argument, NULL, OPT_BATCH},
	{"memory", required_argument, NULL, OPT_MEMORY},
	{"skip-bad", no_argument, NULL, OPT_SKIP_BAD},
	{"max-bad", required_argument, NULL, OPT_MAX_BAD},
	{"delimiter", required_argument, NULL, FF_OPT_DELIMITER},
	{"wait", required_argument, NULL, FF_OPT_WAIT},
	{"verbose", no_argument, NULL, 'v'},
	{"table", required_argument, NULL, OPT_DIRECTIVE},
	{"time", required_argument, NULL, OPT_DIRECTIVE},
	{"key", required_argument, NULL, OPT_DIRECTIVE},
	{"timestamp-key", required_argument, NULL, OPT_DIRECTIVE},
	{"window", required_argument, NULL, OPT_DIRECTIVE},
	{"slide", required_argument, NULL, OPT_DIRECTIVE},
	{"timezone", required_argument, NULL, OPT_DIRECTIVE},
	{"input-timezone", required_argument, NULL, OPT_DIRECTIVE},
	{"input-time-format", required_argument, NULL, OPT_DIRECTIVE},
	{"partition", required_argument, NULL, OPT_DIRECTIVE},
	{"feature", required_argument, NULL, OPT_DIRECTIVE},
	{"describe", required_argument, NULL, OPT_DIRECTIVE},
	FF_OPT_COMMON,
};

int main(int argc, char **argv)
{
	ff_opt_start(argc, argv);
	struct ff_compute_options opt = {.out = stdout, .mode = FF_WRITE_MERGE, .lateness = 86400 * FF_USEC,
					   .max_bad = -1, .max_bad_percent = 1};
	struct ff_spec inline_spec;
	int have_inline = 0;
	char **spec_files = ff_xcalloc((size_t)argc, sizeof *spec_files);
	size_t nspec_files = 0;
	const char *output = NULL;
	int quiet = 0;
	ff_spec_init(&inline_spec, "command line");

	int c, idx;
	while ((c = getopt_long(argc, argv, ":s:f:o:qvhV", options, &idx)) != -1) {
		switch (c) {
		case 's': opt.store = optarg; break;
		case 'f': spec_files[nspec_files++] = optarg; break;
		case 'o': output = optarg; break;
		case OPT_START: opt.has_start = 1; opt.start = ff_opt_time("--start", optarg); break;
		case OPT_END: opt.has_end = 1; opt.end = ff_opt_time("--end", optarg); break;
		case OPT_MODE: {
			static const char *const modes[] = {"merge", "overwrite", NULL};
			opt.mode = ff_opt_enum("--mode", optarg, modes) ? FF_WRITE_OVERWRITE : FF_WRITE_MERGE;
			break;
		}
		case OPT_REPLACE: opt.replace = 1; break;
		case OPT_SHARD:
			if (ff_shard_parse(optarg, &opt.shard) < 0)
				ff_usage_error("bad --shard '%s': give K/N with 1 <= K <= N <= 65536, as 2/4", optarg);
			break;
		case OPT_LATENESS:
			if (strcmp(optarg, "unbounded") == 0)
				opt.lateness = -1;
			else if (strcmp(optarg, "0") == 0)
				opt.lateness = 0;
			else
				opt.lateness = ff_opt_duration("--lateness", optarg, "1h or 2d, or unbounded");
			break;
		case OPT_SKIP_BAD: opt.skip_bad = 1; break;
		case OPT_MAX_BAD:
			opt.max_bad = ff_opt_count_or_percent("--max-bad", optarg, &opt.max_bad_percent);
			break;
		case OPT_BATCH:
			if (!*optarg || strlen(optarg) > 200)
				ff_usage_error("bad --batch '%s': give a name of 1 to 200 bytes", optarg);
			opt.batch = optarg;
			break;
		case OPT_MEMORY: opt.memory = (size_t)ff_opt_size("--memory", optarg, 1 << 20, (uint64_t)1 << 40); break;
		case 'v': opt.verbose = 1; break;
		case OPT_DIRECTIVE: {
			char where[64];
			snprintf(where, sizeof where, "option --%s", options[idx].name);
			if (ff_spec_set(&inline_spec, options[idx].name, optarg, where) < 0) {
				ff_usage_hint();
				exit(FF_EXIT_USAGE);
			}
			have_inline = 1;
			break;
		}
		default:
			ff_opt_default(c, argv, usage_text);
			if (c == 'q')
				quiet = 1;
			break;
		}
	}
	argc -= optind;
	argv += optind;
	ff_set_quiet(quiet);

	if (have_inline && nspec_files)
		ff_usage_error("%s", "define tables either with --spec files or with options, not both");
	if (!have_inline && !nspec_files)
		ff_usage_error("%s", "no table defined: give --spec FILE or --table, --time, --key, --window, --feature");
	if (opt.has_start && opt.has_end && opt.end <= opt.start)
		ff_usage_error("%s", "--end must be later than --start");
	if (output && opt.store)
		ff_usage_error("%s", "--output writes CSV and --store writes a store: choose one");

	size_t nspecs = have_inline ? 1 : nspec_files;
	struct ff_spec *specs = ff_xcalloc(nspecs, sizeof *specs);
	int status = FF_EXIT_FAIL;
	size_t loaded = 0;
	if (have_inline) {
		specs[0] = inline_spec;
		loaded = 1;
		if (ff_spec_finish(&specs[0]) < 0) {
			status = FF_EXIT_USAGE;
			goto out;
		}
	} else {
		ff_spec_release(&inline_spec);
		for (size_t i = 0; i < nspec_files; i++) {
			ff_spec_init(&specs[i], spec_files[i]);
			loaded++;
			if (ff_spec_load(&specs[i], spec_files[i]) < 0 || ff_spec_finish(&specs[i]) < 0)
				goto out;
		}
	}
	if (!opt.store && nspecs > 1)
		ff_usage_error("%s", "several tables need --store (CSV output holds one table)");
	opt.progress = isatty(STDERR_FILENO) && !quiet;

	struct ff_output out;
	if (ff_output_open(&out, output) < 0)
		goto out;
	opt.out = out.f;
	int rc = ff_compute_run(specs, nspecs, argv, (size_t)argc, &opt);
	if (ff_output_close(&out, rc == 0) < 0)
		rc = -1;
	status = rc == 0 ? FF_EXIT_OK : FF_EXIT_FAIL;
out:
	for (size_t i = 0; i < loaded; i++)
		ff_spec_release(&specs[i]);
	free(specs);
	free(spec_files);
	return status;
}
