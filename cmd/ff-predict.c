/* ff-predict: score records with a model that carries its features. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_model.h"
#include "ff_opt.h"
#include "ff_output.h"
#include "ff_predict.h"
#include "ff_registry.h"
#include "ff_util.h"

static const char usage_text[] =
	"usage: ff-predict -m MODEL [options] [FILE...]\n"
	"Score raw records (FILE or stdin, CSV or binary): the model's blueprint\n"
	"derives its columns, looks the features up as of each record's time,\n"
	"assembles the vector as in training and predicts. Writes the input columns\n"
	"and a prediction column.\n"
	"\n"
	"  -m, --model REF          a model file, models:/NAME/VERSION, models:/NAME@ALIAS\n"
	"                           or models:/NAME (its latest version)\n"
	"  -r, --registry FILE      model registry for models:/ (default $FF_REGISTRY,\n"
	"                           else models.db)\n"
	"  -s, --store STORE        offline store, a file or a postgresql:// address\n"
	"                           (default: the one of the blueprint); it must be the\n"
	"                           store the model was trained on, or a copy\n"
	"      --any-store          use a store other than the one the model was trained on\n"
	"                           (warned on every run)\n"
	"      --online STORE       look features up in this online store (ff-sync-online):\n"
	"                           a file, redis://HOST:PORT[/DB] or unix:///PATH; answer\n"
	"                           each record as soon as it is read\n"
	"      --stats              latency percentiles, lookups, misses and fallbacks on\n"
	"                           stderr at the end\n"
	"      --skew-check         compare each record's vector from the offline store with\n"
	"                           the one from --online, print every difference; exit 1 if\n"
	"                           there is one\n"
	"      --fallback POLICY    a missed lookup: mean (the key's mean in training,\n"
	"                           else the feature's; default) or missing\n"
	"      --with-features      add the looked-up features the model saw\n"
	"      --with-fallbacks     add a column naming the features that fell back\n"
	"      --format FORMAT      output as csv (default) or bin\n"
	"  -o, --output FILE        output file (default stdout)\n"
	"      --delimiter CHAR     the delimiter of CSV input: one byte, or tab\n"
	"  -q, --quiet              no warnings\n"
	"  -h, --help               show this help\n"
	"  -V, --version            show the version\n";

enum { OPT_FALLBACK = 256, OPT_WITH_FEATURES, OPT_WITH_FALLBACKS, OPT_FORMAT, OPT_ONLINE, OPT_STATS,
       OPT_SKEW, OPT_ANY_STORE };

static const struct option options[] = {
	{"model", required_argument, NULL, 'm'},
	{"registry", required_argument, NULL, 'r'},
	{"store", required_argument, NULL, 's'},
	{"any-store", no_argument, NULL, OPT_ANY_STORE},
	{"fallback", required_argument, NULL, OPT_FALLBACK},
	{"with-features", no_argument, NULL, OPT_WITH_FEATURES},
	{"with-fallbacks", no_argument, NULL, OPT_WITH_FALLBACKS},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"online", required_argument, NULL, OPT_ONLINE},
	{"stats", no_argument, NULL, OPT_STATS},
	{"skew-check", no_argument, NULL, OPT_SKEW},
	{"output", required_argument, NULL, 'o'},
	{"delimiter", required_argument, NULL, FF_OPT_DELIMITER},
	FF_OPT_COMMON,
};

/* A model from a file or from the registry. */
static int open_model(const char *ref, const char *registry, struct ff_model **out)
{
	if (!ff_registry_is_ref(ref))
		return ff_model_load_file(ref, out);
	void *data = NULL;
	size_t len = 0;
	char *label = NULL;
	int rc = ff_registry_fetch(registry, ref, &data, &len, &label);
	if (rc == 0)
		rc = ff_model_load_buffer(data, len, label ? label : ref, out);
	free(data);
	free(label);
	return rc;
}

int main(int argc, char **argv)
{
	ff_opt_start(argc, argv);
	static const char *const fallbacks[] = {"mean", "missing", NULL};
	struct ff_predict_options o = {.format = FF_REC_CSV, .fallback = FF_FALLBACK_MEAN};
	const char *model = NULL, *registry = NULL, *output = NULL;
	int c, skew = 0;
	while ((c = getopt_long(argc, argv, ":m:r:s:o:qhV", options, NULL)) != -1) {
		switch (c) {
		case 'm': model = optarg; break;
		case 'r': registry = optarg; break;
		case 's': o.store = optarg; break;
		case 'o': output = optarg; break;
		case OPT_FALLBACK:
			o.fallback = ff_opt_enum("--fallback", optarg, fallbacks) == 0 ? FF_FALLBACK_MEAN
										 : FF_FALLBACK_MISSING;
			break;
		case OPT_WITH_FEATURES: o.with_features = 1; break;
		case OPT_ONLINE: o.online = optarg; break;
		case OPT_STATS: o.stats = 1; break;
		case OPT_SKEW: skew = 1; break;
		case OPT_ANY_STORE: o.any_store = 1; break;
		case OPT_WITH_FALLBACKS: o.with_fallbacks = 1; break;
		case OPT_FORMAT:
			o.format = (enum ff_rec_format)ff_opt_enum("--format", optarg, ff_rec_format_names);
			break;
		default: ff_opt_default(c, argv, usage_text); break;
		}
	}
	argc -= optind;
	argv += optind;
	if (!model)
		ff_usage_error("%s", "no model: give -m MODEL");
	if (skew && !o.online)
		ff_usage_error("%s", "--skew-check compares with an online store: give --online FILE");

	struct ff_model *m = NULL;
	struct ff_output out;
	int rc = -1;
	if (open_model(model, ff_registry_path(registry), &m) == 0 && ff_output_open(&out, output) == 0) {
		if (skew) {
			rc = ff_skew_check(m, o.store, o.any_store, o.online, argv, (size_t)argc, out.f);
			if (ff_output_close(&out, rc >= 0) < 0)
				rc = -1;
		} else {
			rc = ff_predict_run(m, argv, (size_t)argc, out.f, &o);
			if (ff_output_close(&out, rc == 0) < 0)
				rc = -1;
		}
	}
	ff_model_free(m);
	if (skew) /* a check: 1 for differences, 3 when it could not compare */
		return rc == 0 ? FF_EXIT_OK : rc > 0 ? FF_EXIT_FAIL : FF_EXIT_NO_CHECK;
	return rc == 0 ? FF_EXIT_OK : FF_EXIT_FAIL;
}
