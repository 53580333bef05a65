/* ff_serve: an HTTP/1.1 scoring server (libmicrohttpd) speaking MLflow's
 * scoring protocol. Each model is scored with ff_scorer against an online
 * store opened for reading only; bodies are read by ff_request. Routes:
 *   POST /invocations, /predict            the first model
 *   POST /models/NAME/invocations|predict  any model by name
 *   GET  /health (/ping), /version, /metrics
 * SIGHUP reloads every model (a models:/ alias may point elsewhere by now)
 * without dropping a request; SIGTERM and SIGINT stop taking connections,
 * let the requests in flight finish, and return. */
#ifndef FF_SERVE_H
#define FF_SERVE_H

#include <stddef.h>

/* The most connections served at once, whatever the descriptor limit; one
 * client address may hold a quarter of those the limit allows. */
#define FF_SERVE_MAX_CONNECTIONS 4096

struct ff_serve_options {
	const char *address;      /* to bind: an IPv4 or IPv6 address, or a host name */
	unsigned port;            /* 0: any free port */
	const char *port_file;    /* if not NULL: the bound port, written there once ready, removed on exit */
	unsigned threads;         /* worker threads */
	size_t body_limit;        /* bytes */
	size_t max_rows;          /* rows in one request */
	unsigned timeout;         /* seconds a whole request (headers included, from the
				     connection's start or its last answer) may take */
	unsigned grace;           /* seconds to let requests finish on SIGTERM */
	const char *online;       /* the online store */
	int any_store;            /* serve models whose tables come from another store
				     (ff_store_bind.h), warned at each load */
	const char *registry;     /* for models:/ references */
	const char *log;          /* inference log file, or NULL */
	char **models;            /* [NAME=]REF: a file or a models:/ reference */
	size_t nmodels;
};

/* Serve until SIGTERM or SIGINT. Returns 0, or -1 if the models, the store
 * or the socket could not be opened (reported). */
int ff_serve_run(const struct ff_serve_options *o);

#endif
