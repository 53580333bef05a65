/* ff-serve: score over HTTP in MLflow's protocol, features looked up online. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_opt.h"
#include "ff_redis.h"
#include "ff_registry.h"
#include "ff_serve.h"
#include "ff_util.h"

static const char usage_text[] =
	"usage: ff-serve --online STORE -m MODEL [-m MODEL...] [options]\n"
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
	"      --online STORE       the online store (ff-sync-online), read only: a file,\n"
	"                           redis://HOST:PORT[/DB] or unix:///PATH (ff-online(5))\n"
	"      --any-store          serve a model whose tables were synced from a store\n"
	"                           other than the one it was trained on (warned at each load)\n"
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

enum { OPT_ONLINE = 256, OPT_PORT_FILE, OPT_BODY_LIMIT, OPT_MAX_ROWS, OPT_TIMEOUT, OPT_GRACE, OPT_LOG,
       OPT_ANY_STORE };

static const struct option options[] = {
	{"model", required_argument, NULL, 'm'},
	{"online", required_argument, NULL, OPT_ONLINE},
	{"any-store", no_argument, NULL, OPT_ANY_STORE},
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
	FF_OPT_COMMON,
};

int main(int argc, char **argv)
{
	ff_opt_start(argc, argv);
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
		case OPT_ANY_STORE: o.any_store = 1; break;
		case 'r': registry = optarg; break;
		case 'a': o.address = optarg; break;
		case 'p': o.port = (unsigned)ff_opt_int("--port", optarg, 0, 65535); break;
		case OPT_PORT_FILE: o.port_file = optarg; break;
		case 't': o.threads = (unsigned)ff_opt_int("--threads", optarg, 1, 256); break;
		case OPT_BODY_LIMIT: o.body_limit = (size_t)ff_opt_size("--body-limit", optarg, 64, 1ULL << 30); break;
		case OPT_MAX_ROWS: o.max_rows = (size_t)ff_opt_int("--max-rows", optarg, 1, 100000000); break;
		case OPT_TIMEOUT: o.timeout = (unsigned)ff_opt_int("--timeout", optarg, 1, 86400); break;
		case OPT_GRACE: o.grace = (unsigned)ff_opt_int("--grace", optarg, 0, 86400); break;
		case OPT_LOG: o.log = optarg; break;
		default: ff_opt_default(c, argv, usage_text); break;
		}
	}
	if (optind < argc)
		ff_usage_error("unexpected argument '%s': give models with -m", argv[optind]);
	if (o.nmodels == 0)
		ff_usage_error("%s", "no model: give -m MODEL");
	if (!o.online)
		ff_usage_error("%s", "no online store: give --online FILE (made by ff-sync-online)");
	if (!ff_redis_is_url(o.online) && access(o.online, R_OK) != 0)
		ff_die(FF_EXIT_FAIL, "%s: no such online store (make it with ff-sync-online)", o.online);
	o.models = models;
	o.registry = ff_registry_path(registry);
	int rc = ff_serve_run(&o);
	free(models);
	return rc == 0 ? FF_EXIT_OK : FF_EXIT_FAIL;
}
