/* ff_redis: a Redis client for the online store (ff-online(5)) over
 * hiredis: one server or a Redis Cluster, commands queued and sent in one
 * pipeline per node, the replies read back in the order queued.
 *
 * Addresses: redis://HOST[:PORT][/DB] or unix:///PATH[?db=N], with options
 * after '?', joined by '&': connect-timeout=MS and timeout=MS (of each
 * round trip), replicas=1 (cluster reads from a replica of the slot). A
 * cluster is found by asking the first node for its slots; MOVED answers
 * refresh the map and ASK answers are followed. A connection lost or
 * refused is opened again and the pipeline sent once more (each command
 * ff sends is idempotent); a second failure is reported as the store down.
 * Not thread-safe: one struct per thread (ff-serve: one per worker). */
#ifndef FF_REDIS_H
#define FF_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

struct ff_redis;

/* 1 if s names a Redis store (redis:// or unix://), else 0 (a file). */
int ff_redis_is_url(const char *s);

/* Default timeouts in milliseconds, overridden by the address's options. */
struct ff_redis_timeouts {
	int connect_ms, command_ms;
};

/* Parse the address and connect to its first node. Returns 0, -1 on a
 * bad address or a reply that makes no sense (reported), or
 * FF_REDIS_DOWN when no server answers (reported). */
#define FF_REDIS_DOWN (-2)
int ff_redis_open(const char *url, const struct ff_redis_timeouts *t, struct ff_redis **out);
void ff_redis_close(struct ff_redis *r);
/* The address without its options, for messages. */
const char *ff_redis_name(const struct ff_redis *r);
int ff_redis_is_cluster(const struct ff_redis *r);

/* Queue a command (arguments copied). slot_key is the key that places it
 * in a cluster (NULL: any node); reads may go to a replica when the
 * address asks for it. */
void ff_redis_add(struct ff_redis *r, int read, const char *slot_key, size_t slot_len, int argc,
		  const char *const *argv, const size_t *lens);
/* The same with NUL-terminated arguments. */
void ff_redis_addv(struct ff_redis *r, int read, const char *slot_key, int argc, const char *const *argv);
/* Queue a command for master m of ff_redis_masters (SCAN of each node). */
void ff_redis_add_master(struct ff_redis *r, size_t m, int argc, const char *const *argv, const size_t *lens);
size_t ff_redis_masters(struct ff_redis *r);
size_t ff_redis_queued(const struct ff_redis *r);

/* Send the queued commands and read their replies: (*replies)[i] is the
 * reply of the i-th queued command, valid until the next ff_redis_run.
 * An error reply of a command is no failure here: the caller reads it.
 * Returns 0, or FF_REDIS_DOWN (reported, and ff_redis_down() is 1 in this
 * thread until a run succeeds). */
int ff_redis_run(struct ff_redis *r, redisReply ***replies);

/* 1 if this thread's last run failed for want of a server. */
int ff_redis_down(void);

/* Cluster key slot of a key (CRC16 of its hash tag, as Redis computes it). */
unsigned ff_redis_slot(const char *key, size_t len);

#endif
