#include "ff_redis.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "ff_util.h"

#define NSLOTS 16384
#define NO_NODE 0xffff
#define MAX_REDIRECTS 5

struct node {
	char *host;        /* NULL for a unix socket */
	int port;
	char *path;
	int replica;       /* reads only: READONLY after connecting */
	redisContext *c;
};

struct cmd {
	size_t node, arg0, argc;
	unsigned slot;
	int read, has_slot;
};

struct ff_redis {
	char *name;
	char *host, *path;
	int port, db, replicas;
	struct timeval connect_tv, command_tv;
	int cluster;
	struct node *nodes;
	size_t nnodes;
	uint16_t *master_of, *replica_of; /* per slot */
	size_t *masters;
	size_t nmasters;
	/* the queue */
	struct cmd *cmds;
	size_t ncmds, cmds_cap;
	char *arena;
	size_t arena_len, arena_cap;
	size_t *arg_off, *arg_len;
	size_t nargs, args_cap;
	redisReply **replies;
	size_t nreplies, replies_cap;
	char err[600];               /* why the last connection failed */
	const char **argv;
	size_t argv_cap;
};

static _Thread_local int down;

int ff_redis_down(void) { return down; }
const char *ff_redis_name(const struct ff_redis *r) { return r->name; }
int ff_redis_is_cluster(const struct ff_redis *r) { return r->cluster; }
size_t ff_redis_queued(const struct ff_redis *r) { return r->ncmds; }
size_t ff_redis_masters(struct ff_redis *r) { return r->nmasters; }

int ff_redis_is_url(const char *s)
{
	return s && (strncmp(s, "redis://", 8) == 0 || strncmp(s, "unix://", 7) == 0);
}

/* CRC16-CCITT (XMODEM), Redis Cluster's key hash. */
static unsigned crc16(const char *p, size_t n)
{
	unsigned crc = 0;
	for (size_t i = 0; i < n; i++) {
		crc ^= (unsigned)(unsigned char)p[i] << 8;
		for (int b = 0; b < 8; b++)
			crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
		crc &= 0xffff;
	}
	return crc;
}

unsigned ff_redis_slot(const char *key, size_t len)
{
	/* The hash tag: what lies between the first '{' and the next '}', if
	 * not empty. */
	const char *open = memchr(key, '{', len);
	if (open) {
		const char *close = memchr(open + 1, '}', len - (size_t)(open + 1 - key));
		if (close && close > open + 1)
			return crc16(open + 1, (size_t)(close - open - 1)) & (NSLOTS - 1);
	}
	return crc16(key, len) & (NSLOTS - 1);
}

static size_t node_of(struct ff_redis *r, const char *host, size_t hlen, int port, int replica)
{
	for (size_t i = 0; i < r->nnodes; i++)
		if (r->nodes[i].host && r->nodes[i].port == port && strlen(r->nodes[i].host) == hlen &&
		    memcmp(r->nodes[i].host, host, hlen) == 0 && r->nodes[i].replica == replica)
			return i;
	r->nodes = ff_xrealloc(r->nodes, (r->nnodes + 1) * sizeof *r->nodes);
	r->nodes[r->nnodes] = (struct node){.host = ff_xstrndup(host, hlen), .port = port, .replica = replica};
	return r->nnodes++;
}

static void disconnect(struct node *n)
{
	if (n->c)
		redisFree(n->c);
	n->c = NULL;
}

/* Connect a node if it is not. Returns 0, or -1 or FF_REDIS_DOWN with
 * the reason in r->err. */
static int connect_node(struct ff_redis *r, struct node *n)
{
	if (n->c && !n->c->err)
		return 0;
	disconnect(n);
	n->c = n->path ? redisConnectUnixWithTimeout(n->path, r->connect_tv)
		       : redisConnectWithTimeout(n->host, n->port, r->connect_tv);
	if (!n->c || n->c->err) {
		char where[200];
		if (n->path)
			snprintf(where, sizeof where, "%s", n->path);
		else
			snprintf(where, sizeof where, "%s:%d", n->host, n->port);
		snprintf(r->err, sizeof r->err, "cannot connect to %s: %s", where,
			 n->c ? n->c->errstr : "out of memory");
		disconnect(n);
		return FF_REDIS_DOWN;
	}
	redisSetTimeout(n->c, r->command_tv);
	if (n->host)
		redisEnableKeepAlive(n->c);
	const char *hello = n->replica ? "READONLY" : r->db ? "SELECT" : NULL;
	if (hello) {
		char db[16];
		snprintf(db, sizeof db, "%d", r->db);
		const char *argv[] = {hello, db};
		redisReply *rep = redisCommandArgv(n->c, n->replica ? 1 : 2, argv, NULL);
		int bad = !rep || rep->type == REDIS_REPLY_ERROR;
		if (bad) {
			snprintf(r->err, sizeof r->err, "%s: %s", hello, rep ? rep->str : n->c->errstr);
			if (rep)
				freeReplyObject(rep);
			disconnect(n);
			return rep ? -1 : FF_REDIS_DOWN;
		}
		freeReplyObject(rep);
	}
	return 0;
}

/* The slot map from CLUSTER SLOTS on a connected node: 1 if a cluster,
 * 0 if the server has cluster support off, -1 on error (reported). */
static int load_slots(struct ff_redis *r, size_t from)
{
	redisReply *rep = redisCommand(r->nodes[from].c, "CLUSTER SLOTS");
	if (!rep)
		return ff_error("%s: CLUSTER SLOTS: %s", r->name, r->nodes[from].c->errstr);
	if (rep->type == REDIS_REPLY_ERROR) {
		freeReplyObject(rep);
		return 0;
	}
	if (rep->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(rep);
		return ff_error("%s: CLUSTER SLOTS: unexpected reply", r->name);
	}
	for (size_t s = 0; s < NSLOTS; s++)
		r->master_of[s] = r->replica_of[s] = NO_NODE;
	r->nmasters = 0;
	for (size_t i = 0; i < rep->elements; i++) {
		redisReply *e = rep->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 3)
			continue;
		long long lo = e->element[0]->integer, hi = e->element[1]->integer;
		size_t ids[2] = {NO_NODE, NO_NODE};
		for (size_t k = 2; k < e->elements && k < 4; k++) {
			redisReply *nd = e->element[k];
			if (nd->type != REDIS_REPLY_ARRAY || nd->elements < 2)
				continue;
			const char *host = nd->element[0]->str;
			size_t hlen = nd->element[0]->len;
			char *asked = NULL;
			if (hlen == 0) { /* the node we asked, by its own empty name */
				asked = ff_xstrdup(r->nodes[from].host);
				host = asked;
				hlen = strlen(asked);
			}
			ids[k - 2] = node_of(r, host, hlen, (int)nd->element[1]->integer, k > 2);
			free(asked);
		}
		int known = 0;
		for (size_t m = 0; m < r->nmasters; m++)
			known |= r->masters[m] == ids[0];
		if (!known && ids[0] != NO_NODE) {
			r->masters = ff_xrealloc(r->masters, (r->nmasters + 1) * sizeof *r->masters);
			r->masters[r->nmasters++] = ids[0];
		}
		for (long long s = lo; s <= hi && s < NSLOTS; s++) {
			r->master_of[s] = (uint16_t)ids[0];
			r->replica_of[s] = (uint16_t)ids[1];
		}
	}
	freeReplyObject(rep);
	return 1;
}

static int parse_ms(const char *v, size_t n, int *ms)
{
	char buf[16];
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	char *end;
	long x = strtol(buf, &end, 10);
	if (*end || x < 1 || x > 3600000)
		return -1;
	*ms = (int)x;
	return 0;
}

static int parse_url(struct ff_redis *r, const char *url, struct ff_redis_timeouts *t)
{
	const char *q = strchr(url, '?');
	size_t base = q ? (size_t)(q - url) : strlen(url);
	r->name = ff_xstrndup(url, base);
	if (strncmp(url, "unix://", 7) == 0) {
		if (base <= 7 || url[7] != '/')
			return ff_error("%s: give the socket's absolute path: unix:///PATH", r->name);
		r->path = ff_xstrndup(url + 7, base - 7);
	} else {
		const char *h = url + 8, *end = url + base;
		const char *slash = memchr(h, '/', (size_t)(end - h));
		const char *hend = slash ? slash : end;
		const char *colon = NULL;
		if (*h == '[') { /* [IPv6]:port */
			const char *rb = memchr(h, ']', (size_t)(hend - h));
			if (!rb)
				return ff_error("%s: bad address", r->name);
			r->host = ff_xstrndup(h + 1, (size_t)(rb - h - 1));
			colon = rb + 1 < hend && rb[1] == ':' ? rb + 1 : NULL;
		} else {
			colon = memchr(h, ':', (size_t)(hend - h));
			r->host = ff_xstrndup(h, (size_t)((colon ? colon : hend) - h));
		}
		if (!*r->host)
			return ff_error("%s: no host: give redis://HOST:PORT", r->name);
		r->port = 6379;
		if (colon) {
			char *e;
			long p = strtol(colon + 1, &e, 10);
			if (e != hend || p < 1 || p > 65535)
				return ff_error("%s: bad port", r->name);
			r->port = (int)p;
		}
		if (slash && slash + 1 < end) {
			char *e;
			long db = strtol(slash + 1, &e, 10);
			if (e != end || db < 0 || db > 100000)
				return ff_error("%s: bad database number '%.*s'", r->name, (int)(end - slash - 1), slash + 1);
			r->db = (int)db;
		}
	}
	/* Options: name=value&... */
	for (const char *p = q ? q + 1 : NULL; p && *p;) {
		size_t n = strcspn(p, "&");
		const char *eq = memchr(p, '=', n);
		size_t klen = eq ? (size_t)(eq - p) : n;
		const char *v = eq ? eq + 1 : p + n;
		size_t vlen = (size_t)(p + n - v);
		int ok = -1;
		if (klen == 15 && memcmp(p, "connect-timeout", 15) == 0)
			ok = parse_ms(v, vlen, &t->connect_ms);
		else if (klen == 7 && memcmp(p, "timeout", 7) == 0)
			ok = parse_ms(v, vlen, &t->command_ms);
		else if (klen == 8 && memcmp(p, "replicas", 8) == 0 && vlen == 1 && (*v == '0' || *v == '1')) {
			r->replicas = *v == '1';
			ok = 0;
		} else if (klen == 2 && memcmp(p, "db", 2) == 0) {
			int db = 0;
			ok = vlen == 1 && *v == '0' ? 0 : parse_ms(v, vlen, &db);
			r->db = db;
		}
		if (ok < 0)
			return ff_error("%s: bad option '%.*s' (connect-timeout=MS, timeout=MS, replicas=0|1, db=N)",
					r->name, (int)n, p);
		p += n + (p[n] == '&');
	}
	return 0;
}

int ff_redis_open(const char *url, const struct ff_redis_timeouts *dflt, struct ff_redis **out)
{
	struct ff_redis *r = ff_xcalloc(1, sizeof *r);
	struct ff_redis_timeouts t = *dflt;
	*out = NULL;
	int rc = parse_url(r, url, &t);
	if (rc < 0)
		goto fail;
	r->connect_tv = (struct timeval){t.connect_ms / 1000, (t.connect_ms % 1000) * 1000};
	r->command_tv = (struct timeval){t.command_ms / 1000, (t.command_ms % 1000) * 1000};
	r->master_of = ff_xcalloc(NSLOTS, sizeof *r->master_of);
	r->replica_of = ff_xcalloc(NSLOTS, sizeof *r->replica_of);
	r->nodes = ff_xcalloc(1, sizeof *r->nodes);
	r->nodes[0] = (struct node){.host = r->host ? ff_xstrdup(r->host) : NULL, .port = r->port,
				    .path = r->path ? ff_xstrdup(r->path) : NULL};
	r->nnodes = 1;
	r->masters = ff_xcalloc(1, sizeof *r->masters);
	r->nmasters = 1;
	if ((rc = connect_node(r, &r->nodes[0])) < 0) {
		ff_error("%s: %s", r->name, r->err);
		down = rc == FF_REDIS_DOWN;
		goto fail;
	}
	down = 0;
	rc = r->nodes[0].path ? 0 : load_slots(r, 0);
	if (rc < 0)
		goto fail;
	r->cluster = rc;
	if (r->cluster && r->db)
		rc = ff_error("%s: a cluster has database 0 only", r->name);
	if (rc < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	ff_redis_close(r);
	return rc;
}

static void free_replies(struct ff_redis *r)
{
	for (size_t i = 0; i < r->nreplies; i++)
		if (r->replies[i])
			freeReplyObject(r->replies[i]);
	r->nreplies = 0;
}

void ff_redis_close(struct ff_redis *r)
{
	if (!r)
		return;
	free_replies(r);
	for (size_t i = 0; i < r->nnodes; i++) {
		disconnect(&r->nodes[i]);
		free(r->nodes[i].host);
		free(r->nodes[i].path);
	}
	free(r->nodes);
	free(r->master_of);
	free(r->replica_of);
	free(r->masters);
	free(r->cmds);
	free(r->arena);
	free(r->arg_off);
	free(r->arg_len);
	free(r->replies);
	free(r->argv);
	free(r->name);
	free(r->host);
	free(r->path);
	free(r);
}

static size_t route(struct ff_redis *r, int read, unsigned slot)
{
	if (!r->cluster)
		return 0;
	if (read && r->replicas && r->replica_of[slot] != NO_NODE)
		return r->replica_of[slot];
	return r->master_of[slot] != NO_NODE ? r->master_of[slot] : 0;
}

static void queue(struct ff_redis *r, struct cmd c, int argc, const char *const *argv, const size_t *lens)
{
	c.arg0 = r->nargs;
	c.argc = (size_t)argc;
	ff_grow(&r->arg_off, &r->args_cap, r->nargs + (size_t)argc, sizeof *r->arg_off);
	r->arg_len = ff_xrealloc(r->arg_len, r->args_cap * sizeof *r->arg_len);
	for (int i = 0; i < argc; i++) {
		size_t n = lens ? lens[i] : strlen(argv[i]);
		ff_grow(&r->arena, &r->arena_cap, r->arena_len + n + 1, 1);
		memcpy(r->arena + r->arena_len, argv[i], n);
		r->arg_off[r->nargs] = r->arena_len;
		r->arg_len[r->nargs++] = n;
		r->arena_len += n;
	}
	ff_grow(&r->cmds, &r->cmds_cap, r->ncmds + 1, sizeof *r->cmds);
	r->cmds[r->ncmds++] = c;
}

void ff_redis_add(struct ff_redis *r, int read, const char *slot_key, size_t slot_len, int argc,
		  const char *const *argv, const size_t *lens)
{
	struct cmd c = {.read = read, .has_slot = slot_key != NULL};
	c.slot = slot_key ? ff_redis_slot(slot_key, slot_len) : 0;
	c.node = route(r, read, c.slot);
	queue(r, c, argc, argv, lens);
}

void ff_redis_addv(struct ff_redis *r, int read, const char *slot_key, int argc, const char *const *argv)
{
	ff_redis_add(r, read, slot_key, slot_key ? strlen(slot_key) : 0, argc, argv, NULL);
}

void ff_redis_add_master(struct ff_redis *r, size_t m, int argc, const char *const *argv, const size_t *lens)
{
	struct cmd c = {.node = m < r->nmasters ? r->masters[m] : 0};
	queue(r, c, argc, argv, lens);
}

static const char **argv_of(struct ff_redis *r, const struct cmd *c)
{
	ff_grow(&r->argv, &r->argv_cap, c->argc, sizeof *r->argv);
	for (size_t i = 0; i < c->argc; i++)
		r->argv[i] = r->arena + r->arg_off[c->arg0 + i];
	return r->argv;
}

/* Send every queued command and read the replies. 0, or FF_REDIS_DOWN
 * with the failing node disconnected (not reported). */
static int pipeline(struct ff_redis *r, char *err, size_t errsize)
{
	for (size_t i = 0; i < r->ncmds; i++) {
		struct cmd *c = &r->cmds[i];
		if (c->has_slot)
			c->node = route(r, c->read, c->slot); /* the map may have changed */
		struct node *n = &r->nodes[c->node];
		if ((!n->c || n->c->err) && connect_node(r, n) < 0) {
			snprintf(err, errsize, "%s", r->err);
			/* Commands queued on the other nodes would go with the next
			 * try's: drop them with their connections. */
			for (size_t k = 0; k < r->nnodes; k++)
				disconnect(&r->nodes[k]);
			return FF_REDIS_DOWN;
		}
		redisAppendCommandArgv(n->c, (int)c->argc, argv_of(r, c), r->arg_len + c->arg0);
	}
	/* Every node's commands on their way before the first reply is read:
	 * the nodes work at the same time. */
	for (size_t k = 0; k < r->nnodes; k++) {
		struct node *n = &r->nodes[k];
		int done = 0;
		while (n->c && !n->c->err && !done)
			if (redisBufferWrite(n->c, &done) != REDIS_OK)
				break;
	}
	for (size_t i = 0; i < r->ncmds; i++) {
		struct node *n = &r->nodes[r->cmds[i].node];
		void *rep = NULL;
		if (!n->c || redisGetReply(n->c, &rep) != REDIS_OK || !rep) {
			snprintf(err, errsize, "%s", n->c && n->c->errstr[0] ? n->c->errstr : "connection lost");
			if (n->c && n->c->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK))
				snprintf(err, errsize, "no answer within the timeout");
			for (size_t k = 0; k < r->nnodes; k++)
				disconnect(&r->nodes[k]); /* their replies are out of step now */
			return FF_REDIS_DOWN;
		}
		r->replies[r->nreplies++] = rep;
	}
	return 0;
}

/* MOVED SLOT HOST:PORT or ASK SLOT HOST:PORT: follow it for command i. */
static int redirect(struct ff_redis *r, size_t i)
{
	for (int hop = 0; hop < MAX_REDIRECTS; hop++) {
		redisReply *rep = r->replies[i];
		if (rep->type != REDIS_REPLY_ERROR)
			return 0;
		int moved = strncmp(rep->str, "MOVED ", 6) == 0, ask = strncmp(rep->str, "ASK ", 4) == 0;
		if (!moved && !ask)
			return 0;
		const char *addr = strchr(rep->str + (moved ? 6 : 4), ' ');
		const char *colon = addr ? strrchr(addr, ':') : NULL;
		if (!colon)
			return 0;
		size_t node = node_of(r, addr + 1, (size_t)(colon - addr - 1), atoi(colon + 1), 0);
		struct node *n = &r->nodes[node];
		if (connect_node(r, n) < 0)
			return FF_REDIS_DOWN;
		if (moved) {
			/* The map is out of date: take it again from the node named. */
			if (load_slots(r, node) < 0)
				return FF_REDIS_DOWN;
			n = &r->nodes[node];
		}
		if (ask) {
			redisReply *a = redisCommand(n->c, "ASKING");
			if (!a)
				return FF_REDIS_DOWN;
			freeReplyObject(a);
		}
		const struct cmd *c = &r->cmds[i];
		redisReply *again = redisCommandArgv(n->c, (int)c->argc, argv_of(r, c), r->arg_len + c->arg0);
		if (!again)
			return FF_REDIS_DOWN;
		freeReplyObject(rep);
		r->replies[i] = again;
	}
	return 0;
}

int ff_redis_run(struct ff_redis *r, redisReply ***replies)
{
	free_replies(r);
	ff_grow(&r->replies, &r->replies_cap, r->ncmds ? r->ncmds : 1, sizeof *r->replies);
	char err[700] = "";
	int rc = 0;
	/* A connection lost since the last run (a restart, an idle timeout)
	 * is opened again and the commands sent once more. */
	for (int attempt = 0; attempt < 2; attempt++) {
		free_replies(r);
		if ((rc = pipeline(r, err, sizeof err)) == 0)
			break;
		/* A node failed over: the map from any node that answers. */
		for (size_t k = 0; r->cluster && attempt == 0 && k < r->nnodes; k++)
			if (!r->nodes[k].replica && connect_node(r, &r->nodes[k]) == 0 &&
			    load_slots(r, k) > 0)
				break;
	}
	for (size_t i = 0; rc == 0 && r->cluster && i < r->ncmds; i++)
		if (r->replies[i]->type == REDIS_REPLY_ERROR && redirect(r, i) < 0) {
			snprintf(err, sizeof err, "a redirection failed");
			rc = FF_REDIS_DOWN;
		}
	r->ncmds = 0;
	r->nargs = 0;
	r->arena_len = 0;
	down = rc < 0;
	if (rc < 0) {
		free_replies(r);
		return ff_error("%s: %s", r->name, err), FF_REDIS_DOWN;
	}
	*replies = r->replies;
	return 0;
}
