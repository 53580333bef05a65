/* ff-train: train a gradient-boosted model on a training set and package it
 * with its blueprint. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_opt.h"
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
	"      --delimiter CHAR       the delimiter of CSV input: one byte, or tab\n"
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
	{"delimiter", required_argument, NULL, FF_OPT_DELIMITER},
	FF_OPT_COMMON,
};

int main(int argc, char **argv)
{
	ff_opt_start(argc, argv);
	struct ff_train_options o;
	ff_train_options_init(&o);
	o.report = stdout;
	const char *blueprint = NULL, *output = NULL;
	int c;
	while ((c = getopt_long(argc, argv, ":b:o:qhV", options, NULL)) != -1) {
		switch (c) {
		case 'b': blueprint = optarg; break;
		case 'o': output = optarg; break;
		case OPT_ROUNDS: o.rounds = (int)ff_opt_int("--rounds", optarg, 1, 1000000); break;
		case OPT_DEPTH: o.depth = (int)ff_opt_int("--depth", optarg, 1, 64); break;
		case OPT_ETA: o.eta = ff_opt_real("--eta", optarg, 1e-9, 1); break;
		case OPT_MCW: o.min_child_weight = ff_opt_real("--min-child-weight", optarg, 0, 1e9); break;
		case OPT_SUBSAMPLE: o.subsample = ff_opt_real("--subsample", optarg, 1e-9, 1); break;
		case OPT_COLSAMPLE: o.colsample = ff_opt_real("--colsample", optarg, 1e-9, 1); break;
		case OPT_LAMBDA: o.lambda = ff_opt_real("--lambda", optarg, 0, 1e9); break;
		case OPT_SEED: o.seed = (int)ff_opt_int("--seed", optarg, 0, 2147483647); break;
		case OPT_THREADS: o.threads = (int)ff_opt_int("--threads", optarg, 1, 1024); break;
		case OPT_OBJECTIVE: o.objective = optarg; break;
		case OPT_HOLDOUT: o.holdout = ff_opt_real("--holdout", optarg, 0, 0.9); break;
		case OPT_EARLY: o.early_stopping = (int)ff_opt_int("--early-stopping", optarg, 0, 1000000); break;
		case OPT_TIME: o.time_column = optarg; break;
		case OPT_CATEGORICAL: ff_strlist_add_split(&o.categorical, optarg); break;
		case 'q': o.report = NULL; ff_set_quiet(1); break;
		default: ff_opt_default(c, argv, usage_text); break;
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
