# Redis servers for the tests of the Redis online store (ff-online(5)):
# each started by the test that needs it, on a free loopback port or a unix
# socket in the test's own directory, with no persistence, and stopped by
# redis_stop_all (call it in teardown). A system Redis service is never
# used. Tests skip cleanly when redis-server is not installed.

# need_redis: skip unless redis-server and redis-cli are there.
need_redis() {
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
		skip "redis-server is not installed (scripts/deps test)"
}

# free_port: a TCP port of 127.0.0.1 nothing listens on.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# free_cluster_port: a free port P below 55536 whose cluster bus port,
# P + 10000, is free too.
free_cluster_port() {
	python3 -c '
import random, socket
while True:
    p = random.randint(20000, 50000)
    try:
        for q in (p, p + 10000):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
    except OSError:
        continue
    print(p)
    break'
}

# redis_start DIR [ARGS...]: a redis-server in DIR (made), on a free port
# (or $REDIS_PORT), which it prints; extra ARGS go to redis-server. Waits
# until it answers.
redis_start() {
	local dir=$1 port
	shift
	mkdir -p "$dir"
	port=${REDIS_PORT:-$(free_port)}
	redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
		--daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" "$@" >/dev/null
	redis_wait "$port" || return 1
	echo "$dir/redis.pid" >>"$BATS_TEST_TMPDIR/redis-pids"
	echo "$port"
}

# redis_start_unix DIR: a redis-server on the unix socket DIR/redis.sock only.
redis_start_unix() {
	local dir=$1 i
	mkdir -p "$dir"
	redis-server --port 0 --unixsocket "$dir/redis.sock" --dir "$dir" --save '' --appendonly no \
		--daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
	for i in $(seq 100); do
		redis-cli -s "$dir/redis.sock" ping >/dev/null 2>&1 && break
		sleep 0.05
	done
	echo "$dir/redis.pid" >>"$BATS_TEST_TMPDIR/redis-pids"
}

# redis_wait PORT: until the server on PORT answers (5 s at most).
redis_wait() {
	local i
	for i in $(seq 100); do
		[ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return 0
		sleep 0.05
	done
	return 1
}

# redis_stop DIR: stop the server started in DIR, and wait until it is gone.
redis_stop() {
	local pid i
	pid=$(cat "$1/redis.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || return 0
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null
	return 0
}

# redis_cluster_start DIR: three masters with cluster mode on, slots split
# between them by redis-cli; prints the first node's port.
redis_cluster_start() {
	local dir=$1 ports="" p i nodes=""
	for i in 1 2 3; do
		p=$(REDIS_PORT=$(free_cluster_port) redis_start "$dir/$i" --cluster-enabled yes --cluster-config-file "$dir/$i/nodes.conf" \
			--cluster-node-timeout 2000) || return 1
		ports="$ports $p"
		nodes="$nodes 127.0.0.1:$p"
	done
	# shellcheck disable=SC2086
	redis-cli --cluster create $nodes --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 || return 1
	for p in $ports; do
		for i in $(seq 100); do
			redis-cli -p "$p" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break
			sleep 0.1
		done
	done
	echo "$ports" | awk '{ print $1 }'
}

# redis_stop_all: every server this test started.
redis_stop_all() {
	local f
	[ -f "$BATS_TEST_TMPDIR/redis-pids" ] || return 0
	while read -r f; do
		redis_stop "$(dirname "$f")"
	done <"$BATS_TEST_TMPDIR/redis-pids"
	rm -f "$BATS_TEST_TMPDIR/redis-pids"
}
