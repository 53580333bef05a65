/* ff-train-set: a training set from feature lookups and a label, and its
 * blueprint. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_blueprint.h"
#include "ff_blueprint_builder.h"
#include "ff_join.h"
#include "ff_opt.h"
#include "ff_output.h"
#include "ff_store_bind.h"
#include "ff_store_history.h"
#include "ff_util.h"

static const char usage_text[] =
	"usage: ff-train-set -s STORE -f SPEC -b BLUEPRINT [options] [FILE...]\n"
	"       ff-train-set --reproduce BLUEPRINT [-s STORE] [-o FILE] [FILE...]\n"
	"Build a training set from base records (FILE or stdin): the spec's\n"
	"preprocessing, point-in-time feature lookups and label; write the blueprint\n"
	"that lets serving build the same feature vectors again.\n"
	"\n"
	"  -s, --store STORE        offline store holding the feature tables (a file or\n"
	"                           a postgresql:// address)\n"
	"  -f, --spec FILE          training-set spec (ff-join-spec(5)) with a label\n"
	"  -b, --blueprint FILE     where to write the blueprint (ff-blueprint(5))\n"
	"  -o, --output FILE        training set file (default stdout)\n"
	"      --format FORMAT      training set as csv (default) or bin (ff-rec(5))\n"
	"      --as-of VERSION|TIME read the tables as of a version, or as they were\n"
	"                           at a time (ff-store(5), History)\n"
	"      --reproduce BLUEPRINT  make the blueprint's training set again from the\n"
	"                           same input: its spec, the tables as of the\n"
	"                           versions it recorded, checked against its hashes\n"
	"      --strict             fail when a row sees a feature window that ends after\n"
	"                           the row's own time (leakage), instead of warning\n"
	"      --delimiter CHAR     the delimiter of CSV input: one byte, or tab\n"
	"      --input-timezone ZONE  zone of the input's naive times, such as\n"
	"                           America/New_York (default: the spec's, else UTC)\n"
	"      --input-time-format F  how the input's times are written: text, date,\n"
	"                           epoch-s or epoch-ms (default: the spec's, else text)\n"
	"  -q, --quiet              no warnings\n"
	"  -h, --help               show this help\n"
	"  -V, --version            show the version\n";

enum { OPT_FORMAT = 256, OPT_STRICT, OPT_INPUT_TZ, OPT_INPUT_TF, OPT_AS_OF, OPT_REPRODUCE };

static const struct option options[] = {
	{"store", required_argument, NULL, 's'},
	{"spec", required_argument, NULL, 'f'},
	{"blueprint", required_argument, NULL, 'b'},
	{"output", required_argument, NULL, 'o'},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"strict", no_argument, NULL, OPT_STRICT},
	{"as-of", required_argument, NULL, OPT_AS_OF},
	{"reproduce", required_argument, NULL, OPT_REPRODUCE},
	{"delimiter", required_argument, NULL, FF_OPT_DELIMITER},
	{"input-timezone", required_argument, NULL, OPT_INPUT_TZ},
	{"input-time-format", required_argument, NULL, OPT_INPUT_TF},
	FF_OPT_COMMON,
};

/* A path made absolute through its directory, so that two spellings of one
 * file, existing or not, compare equal. */
static char *canonical(const char *path)
{
	char *copy = ff_xstrdup(path), *slash = strrchr(copy, '/');
	const char *dir = slash ? (slash == copy ? "/" : copy) : ".";
	const char *base = slash ? slash + 1 : copy;
	if (slash)
		*slash = '\0';
	char *real = realpath(dir, NULL);
	char *out = NULL;
	if (real) {
		size_t n = strlen(real) + strlen(base) + 2;
		out = ff_xmalloc(n);
		snprintf(out, n, "%s/%s", real, base);
		free(real);
	}
	free(copy);
	return out;
}

static int same_file(const char *a, const char *b)
{
	if (strcmp(a, b) == 0)
		return 1;
	char *ca = canonical(a), *cb = canonical(b);
	int same = ca && cb && strcmp(ca, cb) == 0;
	free(ca);
	free(cb);
	return same;
}

/* The value of the blueprint line "name VALUE", or "(none)". */
static const char *line_value(const char *text, const char *name, char *buf, size_t size)
{
	size_t n = strlen(name);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ' ') {
			size_t len = strcspn(p + n + 1, "\n");
			snprintf(buf, size, "%.*s", (int)len, p + n + 1);
			return buf;
		}
	return "(none)";
}

/* --reproduce: the training set of the blueprint made again from inputs,
 * with the blueprint's spec and the table versions it read; it is written
 * only if its hashes and the input's are those the blueprint recorded. */
static int reproduce(const char *path, const char *store, char **inputs, size_t ninputs, const char *output,
		     enum ff_rec_format format)
{
	struct ff_blueprint_info info;
	if (ff_blueprint_read(path, &info) < 0)
		return -1;
	struct ff_join *j = NULL;
	struct ff_blueprint *bp = NULL;
	struct ff_output out = {0};
	struct ff_as_of *as_of = NULL;
	char *text = NULL;
	size_t size = 0;
	int rc = -1;
	if (!store)
		store = info.store_path ? info.store_path : info.store;
	if (ff_join_spec_finish(&info.spec) < 0)
		goto done;
	if (info.ntables < info.spec.nlookups) {
		ff_error("%s: the blueprint records no table versions: it cannot be reproduced", path);
		goto done;
	}
	as_of = ff_xcalloc(info.spec.nlookups + 1, sizeof *as_of);
	for (size_t i = 0; i < info.spec.nlookups; i++)
		as_of[i] = (struct ff_as_of){FF_AS_OF_VERSION, info.table_versions[i]};
	if (ff_join_open_as_of(&info.spec, store, NULL, as_of, info.spec.nlookups, &j) < 0)
		goto done;
	for (size_t i = 0; i < info.spec.nlookups; i++) {
		const struct ff_table_def *def = ff_feature_table_def(ff_join_table(j, i));
		char hash[FF_DEFINITION_HASH_SIZE];
		ff_definition_hash(def->definition, hash);
		if (info.table_definitions[i] && strcmp(hash, info.table_definitions[i]) != 0) {
			ff_error("%s: table %s of %s has another definition than the blueprint recorded", path,
				 def->name, store);
			goto done;
		}
	}
	if (ff_output_open(&out, output) < 0)
		goto done;
	bp = ff_blueprint_new(&info.spec, j, store);
	ff_join_untimed(j);
	if (ff_join_run(j, inputs, ninputs, out.f, format, ff_blueprint_observe, bp) < 0)
		goto done;
	FILE *m = open_memstream(&text, &size);
	if (!m || ff_blueprint_write(bp, m) < 0 || fclose(m) != 0)
		goto done;
	const char *checks[] = {"input-hash", "training-set-hash"};
	const char *what[] = {"the input is not the one the blueprint's training set was made from",
			      "the training set made again differs from the blueprint's"};
	rc = 0;
	for (size_t i = 0; i < 2 && rc == 0; i++) {
		char want[80], got[80];
		line_value(info.text, checks[i], want, sizeof want);
		if (strcmp(want, line_value(text, checks[i], got, sizeof got)) != 0)
			rc = ff_error("%s: %s (%s %s, recorded %s)", path, what[i], checks[i], got, want);
	}
done:
	if (out.f && ff_output_close(&out, rc == 0) < 0)
		rc = -1;
	free(text);
	free(as_of);
	ff_blueprint_free(bp);
	ff_join_free(j);
	ff_blueprint_info_release(&info);
	return rc;
}

int main(int argc, char **argv)
{
	ff_opt_start(argc, argv);
	const char *store = NULL, *spec_file = NULL, *blueprint = NULL, *output = NULL;
	enum ff_rec_format format = FF_REC_CSV;
	const char *input_tz = NULL, *input_tf = NULL, *reproduce_bp = NULL;
	struct ff_as_of as_of = {FF_AS_OF_LATEST, 0};
	int strict = 0, c;
	while ((c = getopt_long(argc, argv, ":s:f:b:o:qhV", options, NULL)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'f': spec_file = optarg; break;
		case 'b': blueprint = optarg; break;
		case 'o': output = optarg; break;
		case OPT_FORMAT:
			format = (enum ff_rec_format)ff_opt_enum("--format", optarg, ff_rec_format_names);
			break;
		case OPT_STRICT: strict = 1; break;
		case OPT_INPUT_TZ: input_tz = optarg; break;
		case OPT_INPUT_TF: input_tf = optarg; break;
		case OPT_AS_OF:
			if (ff_as_of_parse(optarg, &as_of) < 0)
				ff_usage_error("--as-of: '%s' is neither a version nor a time", optarg);
			break;
		case OPT_REPRODUCE: reproduce_bp = optarg; break;
		default: ff_opt_default(c, argv, usage_text); break;
		}
	}
	argc -= optind;
	argv += optind;
	if (reproduce_bp) {
		if (spec_file || blueprint || as_of.kind != FF_AS_OF_LATEST || input_tz || input_tf || strict)
			ff_usage_error("%s", "--reproduce takes its spec, versions and options from the blueprint: "
					     "give only -s, -o and --format");
		if (output && same_file(output, reproduce_bp))
			ff_usage_error("%s", "the training set and the blueprint need two files");
		return reproduce(reproduce_bp, store, argv, (size_t)argc, output, format) == 0 ? FF_EXIT_OK
												: FF_EXIT_FAIL;
	}
	if (!store)
		ff_usage_error("%s", "no store: give -s STORE");
	if (!spec_file)
		ff_usage_error("%s", "no training-set spec: give -f SPEC");
	if (!blueprint)
		ff_usage_error("%s", "no blueprint file: give -b BLUEPRINT");
	if (strcmp(blueprint, "-") == 0)
		ff_usage_error("%s", "the blueprint needs a file of its own, not stdout");
	if (output && same_file(output, blueprint))
		ff_usage_error("%s", "the training set and the blueprint need two files");

	struct ff_join_spec spec;
	struct ff_join *j = NULL;
	struct ff_blueprint *bp = NULL;
	struct ff_output out = {0}, bout = {0};
	int rc = -1;
	ff_join_spec_init(&spec, spec_file);
	if (ff_join_spec_load(&spec, spec_file) < 0 || ff_join_spec_finish(&spec) < 0 ||
	    (input_tz && ff_join_spec_set(&spec, "input-timezone", input_tz, "--input-timezone") < 0) ||
	    (input_tf && ff_join_spec_set(&spec, "input-time-format", input_tf, "--input-time-format") < 0))
		goto done;
	if (!spec.label) {
		ff_error("%s: a training set needs a label (label COLUMN)", spec_file);
		goto done;
	}
	if (ff_join_open_as_of(&spec, store, NULL, &as_of, 1, &j) < 0 || ff_output_open(&out, output) < 0)
		goto done;
	bp = ff_blueprint_new(&spec, j, store);
	ff_join_untimed(j);
	rc = ff_join_run(j, argv, (size_t)argc, out.f, format, ff_blueprint_observe, bp);
	if (rc == 0 && ff_blueprint_leaky_rows(bp) > 0) {
		int64_t leaky = ff_blueprint_leaky_rows(bp), rows = ff_blueprint_rows(bp);
		if (strict) {
			rc = ff_error("%" PRId64 " of %" PRId64 " rows see a feature window that ends after "
				      "the row's own time (leakage); no blueprint written", leaky, rows);
		} else {
			ff_warn("%" PRId64 " of %" PRId64 " rows see a feature window that ends after the "
				"row's own time (leakage; rounding times up to the window end, as the "
				"taxi example does, causes it by design); --strict makes it an error", leaky, rows);
		}
	}
	if (rc == 0 && ff_output_open(&bout, blueprint) == 0) {
		if (ff_blueprint_write(bp, bout.f) < 0)
			rc = -1;
		if (ff_output_close(&bout, rc == 0) < 0)
			rc = -1;
	} else {
		rc = -1;
	}
done:
	/* The training set appears only with its blueprint. */
	if (ff_output_close(&out, rc == 0) < 0)
		rc = -1;
	ff_blueprint_free(bp);
	ff_join_free(j);
	ff_join_spec_release(&spec);
	return rc == 0 ? FF_EXIT_OK : FF_EXIT_FAIL;
}
