/* ff-join: point-in-time join of a record stream with feature tables. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_join.h"
#include "ff_opt.h"
#include "ff_output.h"
#include "ff_store_history.h"
#include "ff_util.h"

static const char usage_text[] =
	"usage: ff-join -s STORE (-f SPEC | --lookup TABLE --key COLUMN ...) [options] [FILE...]\n"
	"Append to each record of FILE (or stdin) the features of feature tables as of\n"
	"the record's own time: the latest row at or before it.\n"
	"\n"
	"  -s, --store STORE        offline store holding the feature tables (a file or\n"
	"                           a postgresql:// address)\n"
	"  -f, --spec FILE          lookups and preprocessing from a file (ff-join-spec(5))\n"
	"  -o, --output FILE        output file (default stdout)\n"
	"      --format FORMAT      output as csv (default) or bin (ff-rec(5))\n"
	"      --delimiter CHAR     the delimiter of CSV input: one byte, or tab\n"
	"      --as-of VERSION|TIME read the tables as of a version, or as they were\n"
	"                           at a time (ff-store(5), History)\n"
	"  -q, --quiet              no warnings\n"
	"  -h, --help               show this help\n"
	"  -V, --version            show the version\n"
	"\n"
	"Lookups as options, in order (same words as in a spec file):\n"
	"      --derive NAME=ceil(COLUMN, DURATION)   also floor(...): a derived timestamp\n"
	"      --lookup TABLE           start a lookup in TABLE; the options after it are its own:\n"
	"      --key COLUMN[,COLUMN]    input columns matching the table's keys, in order\n"
	"      --timestamp COLUMN       input time to look up as of (none: latest row)\n"
	"      --features NAME[,NAME]   features to add (default all)\n"
	"      --rename FEATURE=NAME    output name of a feature\n"
	"      --default FEATURE=VALUE  value when nothing matches (default empty)\n"
	"      --lookback DURATION      ignore rows older than the time minus DURATION\n"
	"      --exact                  only a row at exactly the time\n"
	"And for the whole output:\n"
	"      --exclude COLUMN[,...]   leave columns out of the output\n"
	"      --input-timezone ZONE    zone of the input's naive times, such as\n"
	"                               America/New_York (default UTC)\n"
	"      --input-time-format F    text (default), date, epoch-s or epoch-ms\n";

enum { OPT_FORMAT = 256, OPT_DIRECTIVE, OPT_AS_OF };

static const struct option options[] = {
	{"store", required_argument, NULL, 's'},
	{"spec", required_argument, NULL, 'f'},
	{"output", required_argument, NULL, 'o'},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"delimiter", required_argument, NULL, FF_OPT_DELIMITER},
	{"as-of", required_argument, NULL, OPT_AS_OF},
	{"derive", required_argument, NULL, OPT_DIRECTIVE},
	{"lookup", required_argument, NULL, OPT_DIRECTIVE},
	{"key", required_argument, NULL, OPT_DIRECTIVE},
	{"timestamp", required_argument, NULL, OPT_DIRECTIVE},
	{"features", required_argument, NULL, OPT_DIRECTIVE},
	{"rename", required_argument, NULL, OPT_DIRECTIVE},
	{"default", required_argument, NULL, OPT_DIRECTIVE},
	{"lookback", required_argument, NULL, OPT_DIRECTIVE},
	{"exact", no_argument, NULL, OPT_DIRECTIVE},
	{"exclude", required_argument, NULL, OPT_DIRECTIVE},
	{"input-timezone", required_argument, NULL, OPT_DIRECTIVE},
	{"input-time-format", required_argument, NULL, OPT_DIRECTIVE},
	FF_OPT_COMMON,
};

int main(int argc, char **argv)
{
	ff_opt_start(argc, argv);
	const char *store = NULL, *spec_file = NULL, *output = NULL;
	enum ff_rec_format format = FF_REC_CSV;
	struct ff_join_spec spec;
	int have_inline = 0, c, idx;
	struct ff_as_of as_of = {FF_AS_OF_LATEST, 0};
	ff_join_spec_init(&spec, "command line");

	while ((c = getopt_long(argc, argv, ":s:f:o:qhV", options, &idx)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'f': spec_file = optarg; break;
		case 'o': output = optarg; break;
		case OPT_FORMAT:
			format = (enum ff_rec_format)ff_opt_enum("--format", optarg, ff_rec_format_names);
			break;
		case OPT_AS_OF:
			if (ff_as_of_parse(optarg, &as_of) < 0)
				ff_usage_error("--as-of: '%s' is neither a version nor a time", optarg);
			break;
		case OPT_DIRECTIVE: {
			char where[64];
			snprintf(where, sizeof where, "option --%s", options[idx].name);
			if (ff_join_spec_set(&spec, options[idx].name, optarg, where) < 0) {
				ff_usage_hint();
				exit(FF_EXIT_USAGE);
			}
			have_inline = 1;
			break;
		}
		default: ff_opt_default(c, argv, usage_text); break;
		}
	}
	argc -= optind;
	argv += optind;
	if (!store)
		ff_usage_error("%s", "no store: give -s STORE");
	if (have_inline && spec_file)
		ff_usage_error("%s", "give lookups either with --spec or with options, not both");
	if (!have_inline && !spec_file)
		ff_usage_error("%s", "no lookup: give --spec FILE or --lookup TABLE --key COLUMN ...");
	if (spec_file) {
		ff_join_spec_release(&spec);
		ff_join_spec_init(&spec, spec_file);
		if (ff_join_spec_load(&spec, spec_file) < 0) {
			ff_join_spec_release(&spec);
			return FF_EXIT_FAIL;
		}
	}
	if (ff_join_spec_finish(&spec) < 0) {
		ff_join_spec_release(&spec);
		if (spec_file)
			return FF_EXIT_FAIL;
		ff_usage_hint();
		return FF_EXIT_USAGE;
	}

	int rc = -1;
	struct ff_join *j = NULL;
	struct ff_output out;
	if (ff_join_open_as_of(&spec, store, NULL, &as_of, 1, &j) == 0 && ff_output_open(&out, output) == 0) {
		rc = ff_join_run(j, argv, (size_t)argc, out.f, format, NULL, NULL);
		if (ff_output_close(&out, rc == 0) < 0)
			rc = -1;
	}
	ff_join_free(j);
	ff_join_spec_release(&spec);
	return rc == 0 ? FF_EXIT_OK : FF_EXIT_FAIL;
}
