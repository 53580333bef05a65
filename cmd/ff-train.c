/* ff-train: train a gradient-boosted model on a training set and package it
 * with its blueprint. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_output.h"
#include "ff_train.h"
#include "ff_util.h"

static const char usage_text[] =
	"usage: ff-train -b BLUEPRINT -o MODEL [options] [TRAINING_SET...]\n"
	"Train a gradient-boosted tree model (XGBoost, hist) on a training set (CSV or\n"
	"binary, stdin by default) and write a model artifact that carries its blueprint.\n"
	"Prints the metrics and the feature importance.\n"
	"\n"
	"  -b, --blueprint FILE       the training set's blueprint (from ff-train-set)\n"
	"  -o, --output FILE          the model artifact (ff-model(5))\n"
	"      --rounds N             boosting rounds, the most with early stopping (300)\n"
	"      --depth N              tree depth (8)\n"
	"      --eta X                learning rate (0.05)\n"
	"      --min-child-weight X   (1)\n"
	"      --subsample X          rows sampled per tree (0.8)\n"
	"      --colsample X          columns sampled per tree (1)\n"
	"      --lambda X             L2 regularisation (1)\n"
	"      --seed N               random seed (0); the same seed gives the same model\n"
	"      --threads N            XGBoost threads (2)\n"
	"      --objective NAME       XGBoost objective (reg:squarederror)\n"
	"      --holdout X            fraction of the latest rows held out for\n"
	"                             validation (0.2; 0: none)\n"
	"      --early-stopping N     stop after N rounds without a better holdout RMSE\n"
	"                             (default 0: off, so the holdout stays unseen)\n"
	"      --time-column NAME     order rows by this time for the holdout (default:\n"
	"                             the blueprint's first derived time's source)\n"
	"      --categorical COLS     treat these numeric vector columns as categories\n"
	"  -q, --quiet                no report\n"
	"  -h, --help                 show this help\n"
	"  -V, --version              show the version\n";

enum {
	OPT_ROUNDS = 256, OPT_DEPTH, OPT_ETA, OPT_MCW, OPT_SUBSAMPLE, OPT_COLSAMPLE, OPT_LAMBDA,
	OPT_SEED, OPT_THREADS, OPT_OBJECTIVE, OPT_HOLDOUT, OPT_EARLY, OPT_TIME, OPT_CATEGORICAL,
};

static const struct option options[] = {
	{"blueprint", required_argument, NULL, 'b'},
	{"output", required_argument, NULL, 'o'},
	{"rounds", required_argument, NULL, OPT_ROUNDS},
	{"depth", required_argument, NULL, OPT_DEPTH},
	{"eta", required_argument, NULL, OPT_ETA},
	{"min-child-weight", required_argument, NULL, OPT_MCW},
	{"subsample", required_argument, NULL, OPT_SUBSAMPLE},
	{"colsample", required_argument, NULL, OPT_COLSAMPLE},
	{"lambda", required_argument, NULL, OPT_LAMBDA},
	{"seed", required_argument, NULL, OPT_SEED},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"objective", required_argument, NULL, OPT_OBJECTIVE},
	{"holdout", required_argument, NULL, OPT_HOLDOUT},
	{"early-stopping", required_argument, NULL, OPT_EARLY},
	{"time-column", required_argument, NULL, OPT_TIME},
	{"categorical", required_argument, NULL, OPT_CATEGORICAL},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

static int int_arg(const char *opt, const char *v, long lo, long hi)
{
	int64_t n;
	if (ff_parse_int64(v, strlen(v), &n) < 0 || n < lo || n > hi) {
		char msg[200];
		snprintf(msg, sizeof msg, "bad %s '%%s': a whole number from %ld to %ld", opt, lo, hi);
		ff_usage_error(msg, v);
	}
	return (int)n;
}

static double real_arg(const char *opt, const char *v, double lo, double hi)
{
	double d;
	if (ff_parse_double(v, strlen(v), &d) < 0 || d < lo || d > hi) {
		char msg[200];
		snprintf(msg, sizeof msg, "bad %s '%%s': a number from %g to %g", opt, lo, hi);
		ff_usage_error(msg, v);
	}
	return d;
}

int main(int argc, char **argv)
{
	ff_set_progname(argv[0]);
	argv[0] = (char *)ff_progname();
	struct ff_train_options o;
	ff_train_options_init(&o);
	o.report = stdout;
	const char *blueprint = NULL, *output = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "b:o:qhV", options, NULL)) != -1) {
		switch (c) {
		case 'b': blueprint = optarg; break;
		case 'o': output = optarg; break;
		case OPT_ROUNDS: o.rounds = int_arg("--rounds", optarg, 1, 1000000); break;
		case OPT_DEPTH: o.depth = int_arg("--depth", optarg, 1, 64); break;
		case OPT_ETA: o.eta = real_arg("--eta", optarg, 1e-9, 1); break;
		case OPT_MCW: o.min_child_weight = real_arg("--min-child-weight", optarg, 0, 1e9); break;
		case OPT_SUBSAMPLE: o.subsample = real_arg("--subsample", optarg, 1e-9, 1); break;
		case OPT_COLSAMPLE: o.colsample = real_arg("--colsample", optarg, 1e-9, 1); break;
		case OPT_LAMBDA: o.lambda = real_arg("--lambda", optarg, 0, 1e9); break;
		case OPT_SEED: o.seed = int_arg("--seed", optarg, 0, 2147483647); break;
		case OPT_THREADS: o.threads = int_arg("--threads", optarg, 1, 1024); break;
		case OPT_OBJECTIVE: o.objective = optarg; break;
		case OPT_HOLDOUT: o.holdout = real_arg("--holdout", optarg, 0, 0.9); break;
		case OPT_EARLY: o.early_stopping = int_arg("--early-stopping", optarg, 0, 1000000); break;
		case OPT_TIME: o.time_column = optarg; break;
		case OPT_CATEGORICAL: ff_strlist_add_split(&o.categorical, optarg); break;
		case 'q': o.report = NULL; ff_set_quiet(1); break;
		case 'h': fputs(usage_text, stdout); ff_strlist_release(&o.categorical);
			return ff_close_stdout() ? FF_EXIT_FAIL : FF_EXIT_OK;
		case 'V': ff_print_version(); ff_strlist_release(&o.categorical);
			return ff_close_stdout() ? FF_EXIT_FAIL : FF_EXIT_OK;
		default:
			ff_usage_hint();
			ff_strlist_release(&o.categorical);
			return FF_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (!blueprint)
		ff_usage_error("%s", "no blueprint: give -b BLUEPRINT");
	if (!output)
		ff_usage_error("%s", "no model file: give -o MODEL");
	if (strcmp(output, "-") == 0 && o.report)
		ff_usage_error("%s", "-o - writes the model to stdout: add -q so the report does not mix in");

	struct ff_output out;
	int rc = -1;
	o.output_name = ff_input_name(output);
	if (ff_output_open(&out, output) == 0) {
		rc = ff_train_run(blueprint, argv, (size_t)argc, &o, out.f);
		if (ff_output_close(&out, rc == 0) < 0)
			rc = -1;
	}
	if (o.report && rc == 0 && ff_close_stdout() < 0)
		rc = -1;
	ff_strlist_release(&o.categorical);
	return rc == 0 ? FF_EXIT_OK : FF_EXIT_FAIL;
}
