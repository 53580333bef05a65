/* ff-serve: score over HTTP in MLflow's protocol, features looked up online. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_registry.h"
#include "ff_serve.h"
#include "ff_util.h"

static const char usage_text[] =
	"usage: ff-serve --online FILE -m MODEL [-m MODEL...] [options]\n"
	"Serve models over HTTP/1.1 in MLflow's scoring protocol: POST raw rows to\n"
	"/invocations (or /predict, /models/NAME/invocations), get {\"predictions\":\n"
	"[...]}; each row's features are looked up in the online store as of its\n"
	"time, exactly as ff-predict --online does. GET /health (/ping), /version\n"
	"and /metrics (Prometheus). SIGHUP reloads the models; SIGTERM stops taking\n"
	"connections, lets the requests in flight finish (up to --grace) and exits.\n"
	"\n"
	"  -m, --model [NAME=]REF   a model file, models:/NAME/VERSION, models:/NAME@ALIAS\n"
	"                           or models:/NAME; the first also answers /invocations,\n"
	"                           each answers /models/NAME/invocations\n"
	"      --online FILE        the online store (ff-sync-online), read only\n"
	"  -r, --registry FILE      model registry for models:/ (default $FF_REGISTRY,\n"
	"                           else models.db)\n"
	"  -a, --address ADDR       address to listen on (default 127.0.0.1)\n"
	"  -p, --port PORT          port (default 8080; 0: any free port)\n"
	"      --port-file FILE     write the port to FILE once ready to serve\n"
	"  -t, --threads N          worker threads (default: one per CPU online)\n"
	"      --body-limit BYTES   largest request body (default 1M; K and M suffixes)\n"
	"      --max-rows N         most rows in one request (default 10000)\n"
	"      --timeout SECONDS    longest a request or an idle connection may take\n"
	"                           (default 10)\n"
	"      --grace SECONDS      on SIGTERM, wait this long for requests in flight\n"
	"                           (default 30)\n"
	"      --log FILE           append each scored row (features, prediction, model\n"
	"                           version, latency) to this SQLite file\n"
	"  -q, --quiet              no warnings\n"
	"  -h, --help               show this help\n"
	"  -V, --version            show the version\n";

enum { OPT_ONLINE = 256, OPT_PORT_FILE, OPT_BODY_LIMIT, OPT_MAX_ROWS, OPT_TIMEOUT, OPT_GRACE, OPT_LOG };

static const struct option options[] = {
	{"model", required_argument, NULL, 'm'},
	{"online", required_argument, NULL, OPT_ONLINE},
	{"registry", required_argument, NULL, 'r'},
	{"address", required_argument, NULL, 'a'},
	{"port", required_argument, NULL, 'p'},
	{"port-file", required_argument, NULL, OPT_PORT_FILE},
	{"threads", required_argument, NULL, 't'},
	{"body-limit", required_argument, NULL, OPT_BODY_LIMIT},
	{"max-rows", required_argument, NULL, OPT_MAX_ROWS},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"grace", required_argument, NULL, OPT_GRACE},
	{"log", required_argument, NULL, OPT_LOG},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

/* A whole number in [lo, hi] with an optional K or M (x1024) suffix when
 * sized; a usage error otherwise. */
static unsigned long long number(const char *opt, const char *text, unsigned long long lo,
				 unsigned long long hi, int sized)
{
	int64_t v;
	size_t len = strlen(text);
	unsigned long long scale = 1;
	if (sized && len > 1 && strchr("kKmM", text[len - 1])) {
		scale = strchr("kK", text[len - 1]) ? 1024 : 1024 * 1024;
		len--;
	}
	if (ff_parse_int64(text, len, &v) < 0 || v < 0 || (unsigned long long)v > hi / scale ||
	    (unsigned long long)v * scale < lo)
		ff_usage_error("bad --%s '%s': give a whole number from %llu to %llu%s", opt, text, lo, hi,
			       sized ? " (K and M suffixes)" : "");
	return (unsigned long long)v * scale;
}

int main(int argc, char **argv)
{
	ff_set_progname(argv[0]);
	argv[0] = (char *)ff_progname();
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct ff_serve_options o = {
		.address = "127.0.0.1",
		.port = 8080,
		.threads = cpus < 1 ? 1 : cpus > 256 ? 256 : (unsigned)cpus,
		.body_limit = 1024 * 1024,
		.max_rows = 10000,
		.timeout = 10,
		.grace = 30,
	};
	const char *registry = NULL;
	char **models = ff_xcalloc((size_t)argc + 1, sizeof *models);
	int c;
	while ((c = getopt_long(argc, argv, ":m:r:a:p:t:qhV", options, NULL)) != -1) {
		switch (c) {
		case 'm': models[o.nmodels++] = optarg; break;
		case OPT_ONLINE: o.online = optarg; break;
		case 'r': registry = optarg; break;
		case 'a': o.address = optarg; break;
		case 'p': o.port = (unsigned)number("port", optarg, 0, 65535, 0); break;
		case OPT_PORT_FILE: o.port_file = optarg; break;
		case 't': o.threads = (unsigned)number("threads", optarg, 1, 256, 0); break;
		case OPT_BODY_LIMIT: o.body_limit = (size_t)number("body-limit", optarg, 64, 1ULL << 30, 1); break;
		case OPT_MAX_ROWS: o.max_rows = (size_t)number("max-rows", optarg, 1, 100000000, 0); break;
		case OPT_TIMEOUT: o.timeout = (unsigned)number("timeout", optarg, 1, 86400, 0); break;
		case OPT_GRACE: o.grace = (unsigned)number("grace", optarg, 0, 86400, 0); break;
		case OPT_LOG: o.log = optarg; break;
		case 'q': ff_set_quiet(1); break;
		case 'h':
			free(models);
			fputs(usage_text, stdout);
			return ff_close_stdout() ? FF_EXIT_FAIL : FF_EXIT_OK;
		case 'V':
			free(models);
			ff_print_version();
			return ff_close_stdout() ? FF_EXIT_FAIL : FF_EXIT_OK;
		default: ff_usage_bad_option(c, argv);
		}
	}
	if (optind < argc)
		ff_usage_error("unexpected argument '%s': give models with -m", argv[optind]);
	if (o.nmodels == 0)
		ff_usage_error("%s", "no model: give -m MODEL");
	if (!o.online)
		ff_usage_error("%s", "no online store: give --online FILE (made by ff-sync-online)");
	if (access(o.online, R_OK) != 0)
		ff_die(FF_EXIT_FAIL, "%s: no such online store (make it with ff-sync-online)", o.online);
	o.models = models;
	o.registry = ff_registry_path(registry);
	int rc = ff_serve_run(&o);
	free(models);
	return rc == 0 ? FF_EXIT_OK : FF_EXIT_FAIL;
}
