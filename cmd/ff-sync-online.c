/* ff-sync-online: keep online feature tables in step with an offline store. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ff_online.h"
#include "ff_opt.h"
#include "ff_store_history.h"
#include "ff_redis.h"
#include "ff_time.h"
#include "ff_util.h"

static const char usage_text[] =
	"usage: ff-sync-online -s OFFLINE --online ONLINE [options] [TABLE...]\n"
	"Copy feature tables (default: all of the catalog) from an offline store into\n"
	"an online store laid out for point lookups: the first time in full, then only\n"
	"what the offline change feed recorded since the version last synced. All the\n"
	"tables of a run change in one transaction.\n"
	"\n"
	"  -s, --store STORE        offline store to read (a file or a postgresql://\n"
	"                           address)\n"
	"      --online STORE       online store to write: a file (created if missing),\n"
	"                           redis://HOST:PORT[/DB] or unix:///PATH (ff-online(5))\n"
	"      --full               copy the tables whole (needed after a table was\n"
	"                           replaced or redefined)\n"
	"      --as-of VERSION|TIME with --full: copy the tables as of a version, or\n"
	"                           as they were at a time (ff-store(5), History)\n"
	"      --retention DURATION keep only rows not older than the table's newest minus\n"
	"                           DURATION, and each key's latest row\n"
	"      --key-ttl DURATION   Redis: a key expires this long after its last write\n"
	"      --follow             sync again every --interval until SIGTERM or SIGINT\n"
	"      --interval DURATION  pause between syncs with --follow (default 1s)\n"
	"  -v, --verbose            report each sync on stderr\n"
	"      --wait SECONDS       wait this long for another run's lock (default 30 s)\n"
	"  -q, --quiet              no warnings\n"
	"  -h, --help               show this help\n"
	"  -V, --version            show the version\n";

enum { OPT_ONLINE = 256, OPT_FULL, OPT_RETENTION, OPT_FOLLOW, OPT_INTERVAL, OPT_AS_OF, OPT_KEY_TTL };

static const struct option options[] = {
	{"store", required_argument, NULL, 's'},
	{"online", required_argument, NULL, OPT_ONLINE},
	{"full", no_argument, NULL, OPT_FULL},
	{"as-of", required_argument, NULL, OPT_AS_OF},
	{"retention", required_argument, NULL, OPT_RETENTION},
	{"key-ttl", required_argument, NULL, OPT_KEY_TTL},
	{"follow", no_argument, NULL, OPT_FOLLOW},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"verbose", no_argument, NULL, 'v'},
	{"wait", required_argument, NULL, FF_OPT_WAIT},
	FF_OPT_COMMON,
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int sync_all(const char *offline, const char *online, char **tables, size_t n,
		    const struct ff_sync_options *o)
{
	char **all = NULL;
	if (n == 0) {
		if (ff_offline_tables(offline, &all) < 0)
			return -1;
		tables = all;
		while (all[n])
			n++;
	}
	struct ff_sync_stats *st = ff_xcalloc(n ? n : 1, sizeof *st);
	int rc = ff_sync_tables(offline, online, tables, n, o, st);
	for (size_t i = 0; rc == 0 && o->verbose && i < n; i++) {
		if (st[i].unchanged)
			continue;
		fprintf(stderr, "%s: %s: %s version %lld -> %lld: %lld upserted, %lld deleted, %lld expired",
			ff_progname(), tables[i], st[i].full ? "full copy," : "changes of", (long long)st[i].from_version,
			(long long)st[i].to_version, (long long)st[i].upserted, (long long)st[i].deleted,
			(long long)st[i].expired);
		if (st[i].read >= 0)
			fprintf(stderr, "; %lld rows read", (long long)st[i].read);
		fputc('\n', stderr);
	}
	free(st);
	for (size_t i = 0; all && all[i]; i++)
		free(all[i]);
	free(all);
	return rc;
}

int main(int argc, char **argv)
{
	ff_opt_start(argc, argv);
	struct ff_sync_options o = {0};
	const char *offline = NULL, *online = NULL;
	int follow = 0, c;
	int64_t interval = FF_USEC;
	struct ff_as_of as_of;
	while ((c = getopt_long(argc, argv, ":s:vqhV", options, NULL)) != -1) {
		switch (c) {
		case 's': offline = optarg; break;
		case OPT_ONLINE: online = optarg; break;
		case OPT_FULL: o.full = 1; break;
		case OPT_AS_OF:
			if (ff_as_of_parse(optarg, &as_of) < 0)
				ff_usage_error("--as-of: '%s' is neither a version nor a time", optarg);
			o.as_of = &as_of;
			break;
		case OPT_RETENTION:
			o.retention = ff_opt_duration("--retention", optarg, "7d or 12h") / FF_USEC;
			break;
		case OPT_KEY_TTL: o.key_ttl = ff_opt_duration("--key-ttl", optarg, "30d or 12h") / FF_USEC; break;
		case OPT_FOLLOW: follow = 1; break;
		case OPT_INTERVAL: interval = ff_opt_duration("--interval", optarg, "1s or 1m"); break;
		case 'v': o.verbose = 1; break;
		default: ff_opt_default(c, argv, usage_text); break;
		}
	}
	argc -= optind;
	argv += optind;
	if (!offline)
		ff_usage_error("%s", "no offline store: give -s STORE");
	if (!online)
		ff_usage_error("%s", "no online store: give --online ONLINE");
	if (o.as_of && (!o.full || follow))
		ff_usage_error("%s", "--as-of copies tables whole: give --full, without --follow");
	if (o.key_ttl > 0 && !ff_redis_is_url(online))
		ff_usage_error("%s", "--key-ttl is for a Redis online store (redis://, unix://)");
	if (follow) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	int rc = sync_all(offline, online, argv, (size_t)argc, &o);
	o.full = 0; /* later rounds follow the change feed */
	while (follow && rc == 0 && !stopping) {
		struct timespec ts = {(time_t)(interval / FF_USEC), (long)(interval % FF_USEC) * 1000};
		nanosleep(&ts, NULL); /* a signal ends the pause early */
		if (!stopping)
			rc = sync_all(offline, online, argv, (size_t)argc, &o);
	}
	return rc == 0 ? FF_EXIT_OK : FF_EXIT_FAIL;
}
