#!/usr/bin/env bats
# The online store in Redis (ff-online(5), Redis): ff-sync-online full,
# incremental and with retention, ff-predict --online and --skew-check,
# ff-serve, on real servers each test starts (test_helper/redis.bash): a
# standalone one on a loopback port or a unix socket, and a cluster of three
# masters. The answers are checked byte for byte against the SQLite online
# store synced from the same offline store, and the faults: Redis down at
# start or in the middle, a sync that fails before it publishes.

load test_helper/common
load test_helper/redis
bats_require_minimum_version 1.5.0

PICKUP=trip_pickup_features

# For the whole file, in $BATS_FILE_TMPDIR: trips.csv (3000 generated trips
# over 3 days) and later.csv (400 trips of the day after); off.db, the two
# taxi tables of trips.csv; bp and model.json, a model trained on them;
# all.csv, both sets of trips as requests.
setup_file() {
	cd "$BATS_FILE_TMPDIR" || return 1
	ff-gen-trips -n 3000 --days 3 -o trips.csv
	ff-gen-trips -n 400 --seed 2 --start 2018-01-04 --days 1 -o later.csv
	ff-compute -q -s off.db -f "$EXAMPLES/pickup_features.spec" -f "$EXAMPLES/dropoff_features.spec" trips.csv
	ff-train-set -q -s off.db -f "$EXAMPLES/training_set.spec" -b bp -o ts.csv trips.csv
	ff-train -q -b bp -o model.json --rounds 5 ts.csv
	{ cat trips.csv; tail -n +2 later.csv; } > all.csv
}

setup() {
	need_redis
	common_setup
	local f
	for f in trips.csv later.csv all.csv off.db bp model.json; do
		cp "$BATS_FILE_TMPDIR/$f" .
	done
	unset FF_REGISTRY
	: > "$BATS_TEST_TMPDIR/pids"
}

teardown() {
	local pid
	for pid in $(cat "$BATS_TEST_TMPDIR/pids" 2>/dev/null); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	redis_stop_all
}

# later: fold the trips of the day after into off.db (version 2).
later() {
	ff-compute -q -s off.db -f "$EXAMPLES/pickup_features.spec" -f "$EXAMPLES/dropoff_features.spec" later.csv
}

# synced_then_later PORT: on.db and the Redis on PORT synced at version 1,
# then the trips of the day after folded into off.db (version 2).
synced_then_later() {
	ff-sync-online -s off.db --online on.db
	ff-sync-online -s off.db --online "redis://127.0.0.1:$1"
	later
}

# members GEN: the members of the pickup table's generation GEN in the
# Redis on $port.
members() {
	local k n=0
	for k in $(redis-cli -p "$port" --scan --pattern "ff:$PICKUP:$1:*"); do
		n=$((n + $(redis-cli -p "$port" zcard "$k")))
	done
	echo "$n"
}

# same_as_sqlite ONLINE [ARGS...]: ff-predict --online ONLINE gives, byte for
# byte, what it gives on on.db (the SQLite store synced alike), features
# included.
same_as_sqlite() {
	local online=$1
	shift
	ff-predict -m model.json --online on.db --with-features "$@" all.csv > sqlite.csv
	ff-predict -m model.json --online "$online" --with-features "$@" all.csv > redis.csv
	[ "$(wc -l < redis.csv)" = 3401 ] || fail "$(wc -l < redis.csv) lines"
	cmp sqlite.csv redis.csv || diff -u sqlite.csv redis.csv | head -20
}

# start_server ARGS...: ff-serve ARGS on a free port, in the background;
# sets SPID, URL, SERR.
start_server() {
	local pf=$BATS_TEST_TMPDIR/port i
	rm -f "$pf"
	SERR=$BATS_TEST_TMPDIR/serve.err
	ff-serve -p 0 --port-file "$pf" -t 2 "$@" 2>"$SERR" 3>&- &
	SPID=$!
	echo "$SPID" >> "$BATS_TEST_TMPDIR/pids"
	for i in $(seq 200); do
		[ -s "$pf" ] && break
		kill -0 "$SPID" 2>/dev/null || fail "ff-serve exited before serving: $(cat "$SERR")"
		sleep 0.05
	done
	URL="http://127.0.0.1:$(cat "$pf")"
}

stop_server() {
	local rc=0
	kill -TERM "$SPID"
	wait "$SPID" || rc=$?
	[ "$rc" = 0 ] || fail "ff-serve exited $rc: $(cat "$SERR")"
}

# score ROWS_FILE: POST the CSV rows; sets STATUS and BODY.
score() {
	BODY=$(curl -sS -w '\n%{http_code}' -H 'Content-Type: text/csv' --data-binary @"$1" "$URL/invocations")
	STATUS=${BODY##*$'\n'}
	BODY=${BODY%$'\n'*}
	BODY=${BODY%$'\n'}
}

@test "a full sync into Redis answers byte for byte as the SQLite online store, skew check 0" {
	port=$(redis_start "$BATS_TEST_TMPDIR/r")
	ff-sync-online -s off.db --online on.db
	run ff-sync-online -v -s off.db --online "redis://127.0.0.1:$port"
	assert_success
	assert_output "ff-sync-online: trip_dropoff_features: full copy, version 0 -> 1: 2236 upserted, 0 deleted, 0 expired
ff-sync-online: trip_pickup_features: full copy, version 0 -> 1: 7198 upserted, 0 deleted, 0 expired"
	same_as_sqlite "redis://127.0.0.1:$port"
	same_as_sqlite "redis://127.0.0.1:$port" --fallback missing
	run ff-predict -m model.json --online "redis://127.0.0.1:$port" --skew-check trips.csv
	assert_success
	assert_output "3000 rows, 7 features each, 0 differences"
	# The catalog record, as ff-online(5) says.
	[ "$(redis-cli -p "$port" hget 'ff:{catalog}:ptr' $PICKUP)" = "1 1" ]
	[ "$(redis-cli -p "$port" hget "ff:{catalog}:table:$PICKUP" rows)" = 7198 ]
	[ "$(redis-cli -p "$port" hget "ff:{catalog}:table:$PICKUP" source)" = "$PWD/off.db" ]
	[ "$(redis-cli -p "$port" --scan --pattern "ff:$PICKUP:1:{*}" | wc -l)" -gt 100 ]
	# What each table was last synced to, beside the offline store's tables.
	run ff-store ls --format csv --online "redis://127.0.0.1:$port" off.db
	assert_success
	assert_line --regexp "^trip_pickup_features,1,7198,.*,1,[0-9-]+ [0-9:]+$"
}

@test "an incremental sync writes the change feed's rows, the next one removes what they superseded" {
	port=$(redis_start "$BATS_TEST_TMPDIR/r")
	synced_then_later "$port"
	ff-sync-online -s off.db --online on.db
	run ff-sync-online -v -s off.db --online "redis://127.0.0.1:$port"
	assert_success
	assert_output "ff-sync-online: trip_dropoff_features: changes of version 1 -> 2: 360 upserted, 0 deleted, 0 expired
ff-sync-online: trip_pickup_features: changes of version 1 -> 2: 1265 upserted, 0 deleted, 0 expired"
	same_as_sqlite "redis://127.0.0.1:$port"
	[ "$(redis-cli -p "$port" llen "ff:{catalog}:dirty:$PICKUP")" = 1265 ]
	for t in $PICKUP trip_dropoff_features; do
		[ "$(redis-cli -p "$port" hget "ff:{catalog}:table:$t" rows)" = \
		  "$(sqlite3 on.db "SELECT rows FROM ff_online_tables WHERE name = '$t'")" ] || fail "rows of $t"
	done
	# Nothing new: nothing written, the superseded members gone.
	run ff-sync-online -v -s off.db --online "redis://127.0.0.1:$port"
	assert_success
	assert_output ""
	[ "$(redis-cli -p "$port" llen "ff:{catalog}:dirty:$PICKUP")" = 0 ]
	[ "$(members 1)" = "$(sqlite3 on.db "SELECT count(*) FROM $PICKUP")" ]
	same_as_sqlite "redis://127.0.0.1:$port"
}

@test "ff-sync-online into Redis after a version that only appended: the new rows, as a full copy gives" {
	port=$(redis_start "$BATS_TEST_TMPDIR/redis")
	TBL=(--table t --time ts --key k --window 1h --feature 'n=count(*)')
	printf 'ts,k\n2018-01-01 00:10:00,a\n2018-01-01 00:20:00,b\n' > d1.csv
	printf 'ts,k\n2018-01-02 00:10:00,a\n' > d2.csv
	ff-compute -q -s s.db "${TBL[@]}" d1.csv
	ff-sync-online -q -s s.db --online "redis://127.0.0.1:$port/1"
	# Day 2 is later than every stored row: no change feed, an append.
	ff-compute -q -s s.db "${TBL[@]}" d2.csv
	[ "$(sqlite3 s.db 'SELECT count(*) FROM ff_changes_t')" -eq 0 ]
	run --separate-stderr ff-sync-online -s s.db --online "redis://127.0.0.1:$port/1"
	assert_success
	ff-sync-online -q -s s.db --online "redis://127.0.0.1:$port/2" --full
	# The times (scores) of key a's rows: both days', as the full copy's
	# (members carry a generation of their own: not compared).
	times() {
		redis-cli -p "$port" -n "$1" zrange "$(redis-cli -p "$port" -n "$1" --scan --pattern 'ff:t:*:{a}')" 0 -1 \
			withscores | mawk 'NR % 2 == 0'
	}
	[ "$(times 2 | wc -l)" -eq 2 ]
	diff -u <(times 2) <(times 1)
}

@test "an incremental sync over several versions writes each changed row once, as SQLite does" {
	port=$(redis_start "$BATS_TEST_TMPDIR/r")
	synced_then_later "$port"
	# The same trips changed twice more: their rows in versions 3 and 4.
	local i
	for i in 1 2; do
		awk -F, -v OFS=, -v d="$i" 'NR == 1 || NR % 10 == 0 { if (NR > 1) $4 = $4 + d; print }' trips.csv > "c$i.csv"
		ff-compute -q -s off.db -f "$EXAMPLES/pickup_features.spec" -f "$EXAMPLES/dropoff_features.spec" "c$i.csv"
	done
	run ff-sync-online -v -s off.db --online on.db
	assert_success
	local sqlite=$output
	run ff-sync-online -v -s off.db --online "redis://127.0.0.1:$port"
	assert_success
	assert_output "$sqlite"
	assert_output --partial "changes of version 1 -> 4"
	same_as_sqlite "redis://127.0.0.1:$port"
	# Then a run with nothing new removes what they superseded.
	ff-sync-online -s off.db --online "redis://127.0.0.1:$port"
	[ "$(members 1)" = "$(sqlite3 on.db "SELECT count(*) FROM $PICKUP")" ]
	same_as_sqlite "redis://127.0.0.1:$port"
}

@test "a full sync makes a new generation; the next sync removes the old one" {
	port=$(redis_start "$BATS_TEST_TMPDIR/r")
	ff-sync-online -s off.db --online "redis://127.0.0.1:$port"
	ff-sync-online -s off.db --online "redis://127.0.0.1:$port" --full
	[ "$(redis-cli -p "$port" hget 'ff:{catalog}:ptr' $PICKUP)" = "2 1" ]
	[ "$(redis-cli -p "$port" --scan --pattern "ff:$PICKUP:1:*" | wc -l)" -gt 0 ]
	ff-sync-online -s off.db --online on.db
	same_as_sqlite "redis://127.0.0.1:$port"
	ff-sync-online -s off.db --online "redis://127.0.0.1:$port"
	[ "$(redis-cli -p "$port" --scan --pattern "ff:$PICKUP:1:*" | wc -l)" = 0 ]
	same_as_sqlite "redis://127.0.0.1:$port"
}

@test "--full --as-of copies a past version into Redis as into SQLite" {
	port=$(redis_start "$BATS_TEST_TMPDIR/r")
	later
	run ff-sync-online -v -s off.db --online "redis://127.0.0.1:$port" --full --as-of 1
	assert_success
	assert_line "ff-sync-online: trip_pickup_features: full copy, version 0 -> 1: 7198 upserted, 0 deleted, 0 expired"
	ff-sync-online -s off.db --online on.db --full --as-of 1
	same_as_sqlite "redis://127.0.0.1:$port"
}

@test "retention in Redis keeps what it keeps in SQLite" {
	port=$(redis_start "$BATS_TEST_TMPDIR/r")
	later
	ff-sync-online -s off.db --online on.db --retention 1d
	run ff-sync-online -v -s off.db --online "redis://127.0.0.1:$port" --retention 1d
	assert_success
	assert_output "ff-sync-online: trip_dropoff_features: full copy, version 0 -> 2: 2595 upserted, 0 deleted, 2169 expired
ff-sync-online: trip_pickup_features: full copy, version 0 -> 2: 8461 upserted, 0 deleted, 7161 expired"
	[ "$(redis-cli -p "$port" hget "ff:{catalog}:table:$PICKUP" rows)" = \
	  "$(sqlite3 on.db "SELECT rows FROM ff_online_tables WHERE name = '$PICKUP'")" ]
	same_as_sqlite "redis://127.0.0.1:$port"
}

@test "--key-ttl gives the keys of a sync a time to live" {
	port=$(redis_start "$BATS_TEST_TMPDIR/r")
	ff-sync-online -s off.db --online "redis://127.0.0.1:$port" --key-ttl 1h
	key=$(redis-cli -p "$port" --scan --pattern "ff:$PICKUP:1:*" | head -1)
	ttl=$(redis-cli -p "$port" ttl "$key")
	[ "$ttl" -gt 3500 ] && [ "$ttl" -le 3600 ] || fail "ttl $ttl"
	run ff-sync-online -s off.db --online on.db --key-ttl 1h
	assert_failure 2
	assert_output --partial "--key-ttl is for a Redis online store"
}

@test "a unix socket and a database number" {
	redis_start_unix "$BATS_TEST_TMPDIR/u"
	sock=$BATS_TEST_TMPDIR/u/redis.sock
	ff-sync-online -s off.db --online on.db
	ff-sync-online -s off.db --online "unix://$sock?db=3"
	[ "$(redis-cli -s "$sock" -n 3 hget 'ff:{catalog}:ptr' $PICKUP)" = "1 1" ]
	[ "$(redis-cli -s "$sock" -n 0 dbsize)" = 0 ]
	same_as_sqlite "unix://$sock?db=3"
	run ff-predict -m model.json --online "unix://$sock" all.csv
	assert_failure
	assert_output --partial "unix://$sock: no table trip_pickup_features in the online store: run ff-sync-online"
}

@test "the skew check finds a difference planted in Redis" {
	port=$(redis_start "$BATS_TEST_TMPDIR/r")
	ff-sync-online -s off.db --online "redis://127.0.0.1:$port"
	# Zip 142 loses its pickup rows: its requests fall back.
	[ "$(redis-cli -p "$port" del "ff:$PICKUP:1:{142}")" = 1 ]
	head -1 trips.csv > req.csv
	grep ',142,' trips.csv | head -3 >> req.csv
	n=$(grep -c ',142,[0-9]*$' req.csv)
	run ff-predict -m model.json --online "redis://127.0.0.1:$port" --skew-check req.csv
	assert_failure 1
	assert_line --partial "req.csv:2: mean_fare_window_1h_pickup_zip: offline"
	assert_line --regexp "^3 rows, 7 features each, [1-9][0-9]* differences$"
	[ "$n" -ge 1 ]
}

@test "bad addresses are refused with the reason" {
	run ff-predict -m model.json --online redis://127.0.0.1:notaport all.csv
	assert_failure
	assert_output "ff-predict: redis://127.0.0.1:notaport: bad port"
	run ff-predict -m model.json --online 'redis://127.0.0.1:1?speed=9' all.csv
	assert_failure
	assert_output --partial "bad option 'speed=9'"
	run ff-sync-online -s off.db --online unix://relative.sock
	assert_failure
	assert_output --partial "give the socket's absolute path"
}

@test "ff-predict --online: Redis down at start fails; lost in the middle names the request" {
	port=$(redis_start "$BATS_TEST_TMPDIR/r")
	redis_stop "$BATS_TEST_TMPDIR/r"
	run ff-predict -m model.json --online "redis://127.0.0.1:$port" all.csv
	assert_failure 1
	assert_output "ff-predict: redis://127.0.0.1:$port: cannot connect to 127.0.0.1:$port: Connection refused"
	port=$(redis_start "$BATS_TEST_TMPDIR/r2")
	ff-sync-online -s off.db --online "redis://127.0.0.1:$port"
	# A coprocess: a request, the server gone, another request.
	mkfifo in
	ff-predict -m model.json --online "redis://127.0.0.1:$port" in > out.csv 2> err &
	pid=$!
	exec 4> in
	head -2 trips.csv >&4
	for i in $(seq 100); do [ "$(wc -l < out.csv)" = 2 ] && break; sleep 0.05; done
	redis_stop "$BATS_TEST_TMPDIR/r2"
	sed -n 3p trips.csv >&4
	exec 4>&-
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" = 1 ] || fail "exit $rc"
	[ "$(wc -l < out.csv)" = 2 ]
	run cat err
	assert_line "ff-predict: in:3: the lookups of this request failed"
	assert_line --partial "cannot connect to 127.0.0.1:$port"
}

@test "a sync that fails before it publishes leaves readers on the old version; a rerun resumes from it" {
	port=$(redis_start "$BATS_TEST_TMPDIR/r")
	synced_then_later "$port"
	# The rows of version 2 go in, then the publication is refused.
	redis-cli -p "$port" acl setuser default -eval > /dev/null
	run ff-sync-online -s off.db --online "redis://127.0.0.1:$port"
	assert_failure 1
	assert_output --partial "publishing the sync failed: NOPERM"
	[ "$(redis-cli -p "$port" hget 'ff:{catalog}:ptr' $PICKUP)" = "1 1" ]
	[ "$(redis-cli -p "$port" exists 'ff:{catalog}:lock')" = 0 ]
	same_as_sqlite "redis://127.0.0.1:$port"
	# Refused again: what the first failure left is not taken for the
	# leftovers of a published sync (the rows of version 1 stay).
	run ff-sync-online -s off.db --online "redis://127.0.0.1:$port"
	assert_failure 1
	[ "$(members 1)" = $((7198 + 1265)) ] || fail "$(members 1) members"
	same_as_sqlite "redis://127.0.0.1:$port"
	redis-cli -p "$port" acl setuser default +eval > /dev/null
	run ff-sync-online -v -s off.db --online "redis://127.0.0.1:$port"
	assert_success
	assert_line "ff-sync-online: trip_pickup_features: changes of version 1 -> 2: 1265 upserted, 0 deleted, 0 expired"
	ff-sync-online -s off.db --online on.db
	same_as_sqlite "redis://127.0.0.1:$port"
	# Redis gone: the sync fails cleanly.
	redis_stop "$BATS_TEST_TMPDIR/r"
	run ff-sync-online -s off.db --online "redis://127.0.0.1:$port"
	assert_failure 1
	assert_output "ff-sync-online: redis://127.0.0.1:$port: cannot connect to 127.0.0.1:$port: Connection refused"
}

@test "a sync whose lock expires before it ends publishes nothing; a rerun converges" {
	port=$(redis_start "$BATS_TEST_TMPDIR/r")
	synced_then_later "$port"
	# A lock of 1 ms: gone before the first batch; another run could hold
	# it by then, so nothing may be published.
	FF_REDIS_LOCK_MS=1 run ff-sync-online -s off.db --online "redis://127.0.0.1:$port"
	assert_failure 1
	assert_output "ff-sync-online: redis://127.0.0.1:$port: this sync's lock expired before it ended (another run may be writing the store): nothing published; run it again"
	[ "$(redis-cli -p "$port" hget 'ff:{catalog}:ptr' $PICKUP)" = "1 1" ]
	run ff-sync-online -v -s off.db --online "redis://127.0.0.1:$port"
	assert_success
	assert_line "ff-sync-online: trip_pickup_features: changes of version 1 -> 2: 1265 upserted, 0 deleted, 0 expired"
	ff-sync-online -s off.db --online on.db
	same_as_sqlite "redis://127.0.0.1:$port"
}

@test "syncs of one Redis take turns; --follow syncs again until SIGTERM" {
	port=$(redis_start "$BATS_TEST_TMPDIR/r")
	redis-cli -p "$port" set 'ff:{catalog}:lock' someone-else > /dev/null
	run ff-sync-online --wait 0.5 -s off.db --online "redis://127.0.0.1:$port"
	assert_failure 1
	assert_output "ff-sync-online: redis://127.0.0.1:$port: another ff run is writing this store (waited 0.5 s); try again or raise --wait"
	redis-cli -p "$port" del 'ff:{catalog}:lock' > /dev/null
	ff-sync-online -s off.db --online "redis://127.0.0.1:$port" --follow --interval 1s 2> follow.err &
	pid=$!
	echo "$pid" >> "$BATS_TEST_TMPDIR/pids"
	for i in $(seq 100); do
		[ "$(redis-cli -p "$port" hget 'ff:{catalog}:ptr' $PICKUP)" = "1 1" ] && break
		sleep 0.05
	done
	later
	for i in $(seq 100); do
		[ "$(redis-cli -p "$port" hget 'ff:{catalog}:ptr' $PICKUP)" = "1 2" ] && break
		sleep 0.1
	done
	[ "$(redis-cli -p "$port" hget 'ff:{catalog}:ptr' $PICKUP)" = "1 2" ]
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" = 0 ] || fail "exit $rc: $(cat follow.err)"
	[ "$(redis-cli -p "$port" exists 'ff:{catalog}:lock')" = 0 ]
	ff-sync-online -s off.db --online on.db
	same_as_sqlite "redis://127.0.0.1:$port"
}

@test "ff-serve on Redis: 503 and not ready while it is down, recovers by itself, and waits for it at start" {
	port=$(redis_start "$BATS_TEST_TMPDIR/r")
	ff-sync-online -s off.db --online "redis://127.0.0.1:$port"
	ff-sync-online -s off.db --online on.db
	head -3 trips.csv > req.csv
	want=$(ff-predict -m model.json --online on.db req.csv | tail -n +2 | awk -F, '{ printf "%s%s", (NR > 1 ? "," : ""), $NF }')
	start_server --online "redis://127.0.0.1:$port" -m model.json
	score req.csv
	[ "$STATUS" = 200 ] || fail "$STATUS $BODY"
	[ "$BODY" = "{\"predictions\":[$want]}" ] || fail "$BODY"
	redis_stop "$BATS_TEST_TMPDIR/r"
	score req.csv
	[ "$STATUS" = 503 ] || fail "$STATUS $BODY"
	[ "$(jq -r .error_code <<<"$BODY")" = TEMPORARILY_UNAVAILABLE ]
	[[ $(jq -r .message <<<"$BODY") == *"cannot connect to 127.0.0.1:$port"* ]] || fail "$BODY"
	run curl -sS -w ' %{http_code}' "$URL/health"
	assert_output --partial '"status":"not ready"'
	assert_output --partial ' 503'
	REDIS_PORT=$port redis_start "$BATS_TEST_TMPDIR/r2" > /dev/null
	ff-sync-online -s off.db --online "redis://127.0.0.1:$port"
	run curl -sS -w ' %{http_code}' "$URL/health"
	assert_output '{"status":"ready","models":1}
 200'
	score req.csv
	[ "$STATUS" = 200 ] && [ "$BODY" = "{\"predictions\":[$want]}" ] || fail "$STATUS $BODY"
	stop_server
	# Down at start: up and answering 503 until Redis comes.
	redis_stop "$BATS_TEST_TMPDIR/r2"
	start_server --online "redis://127.0.0.1:$port" -m model.json
	score req.csv
	[ "$STATUS" = 503 ] || fail "$STATUS $BODY"
	run curl -sS "$URL/health"
	assert_output --partial 'the models are not loaded yet'
	REDIS_PORT=$port redis_start "$BATS_TEST_TMPDIR/r3" > /dev/null
	ff-sync-online -s off.db --online "redis://127.0.0.1:$port"
	for i in $(seq 60); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/health")" = 200 ] && break
		sleep 0.1
	done
	score req.csv
	[ "$STATUS" = 200 ] && [ "$BODY" = "{\"predictions\":[$want]}" ] || fail "$STATUS $BODY"
	stop_server
	grep -q 'the online store answers again: models loaded' "$SERR"
}

@test "two ff-serve replicas share one Redis and follow a full sync" {
	port=$(redis_start "$BATS_TEST_TMPDIR/r")
	ff-sync-online -s off.db --online "redis://127.0.0.1:$port"
	head -50 trips.csv > req.csv
	start_server --online "redis://127.0.0.1:$port" -m model.json
	url1=$URL pid1=$SPID
	start_server --online "redis://127.0.0.1:$port" -m model.json
	score req.csv
	b2=$BODY
	URL=$url1
	score req.csv
	[ "$BODY" = "$b2" ] && [ "$STATUS" = 200 ] || fail "$BODY / $b2"
	# A full sync under them: a new generation, the old one removed by the
	# next sync; the servers follow the pointer.
	ff-sync-online -s off.db --online "redis://127.0.0.1:$port" --full
	ff-sync-online -s off.db --online "redis://127.0.0.1:$port"
	[ "$(redis-cli -p "$port" --scan --pattern "ff:$PICKUP:1:*" | wc -l)" = 0 ]
	score req.csv
	[ "$BODY" = "$b2" ] && [ "$STATUS" = 200 ] || fail "after a full sync: $STATUS $BODY"
	stop_server
	SPID=$pid1
	stop_server
}

@test "a Redis Cluster of three masters: keys spread, answers as SQLite, MOVED followed after a reshard" {
	port=$(redis_cluster_start "$BATS_TEST_TMPDIR/c")
	ff-sync-online -s off.db --online on.db
	ff-sync-online -s off.db --online "redis://127.0.0.1:$port"
	for p in $(redis-cli -p "$port" cluster nodes | sed 's/^[^ ]* [^:]*:\([0-9]*\)@.*/\1/'); do
		[ "$(redis-cli -p "$p" dbsize)" -gt 10 ] || fail "node $p holds $(redis-cli -p "$p" dbsize) keys"
	done
	same_as_sqlite "redis://127.0.0.1:$port"
	same_as_sqlite "redis://127.0.0.1:$port?replicas=1"
	later
	ff-sync-online -s off.db --online on.db
	ff-sync-online -s off.db --online "redis://127.0.0.1:$port"
	same_as_sqlite "redis://127.0.0.1:$port"
	# A server keeps its map of slots: move every slot of the first node
	# to the second, and its lookups meet MOVED answers.
	head -200 all.csv > req.csv
	start_server --online "redis://127.0.0.1:$port" -m model.json
	score req.csv
	before=$BODY
	from=$(redis-cli -p "$port" cluster myid)
	to=$(redis-cli -p "$port" cluster nodes | awk -v me="$from" '$1 != me && /master/ { print $1; exit }')
	redis-cli --cluster reshard "127.0.0.1:$port" --cluster-from "$from" --cluster-to "$to" \
		--cluster-slots 16384 --cluster-yes > reshard.log 2>&1 || fail "$(tail reshard.log)"
	[ "$(redis-cli -p "$port" dbsize)" = 0 ]
	score req.csv
	[ "$STATUS" = 200 ] && [ "$BODY" = "$before" ] || fail "$STATUS $BODY"
	stop_server
}

@test "replicas=1 reads a cluster's replicas, with the same answers" {
	port=$(redis_cluster_start "$BATS_TEST_TMPDIR/c" 1)
	ff-sync-online -s off.db --online on.db
	ff-sync-online -s off.db --online "redis://127.0.0.1:$port"
	# Until every replica holds its master's keys.
	for p in $(redis-cli -p "$port" cluster nodes | awk '/slave/ { split($2, a, "[:@]"); print a[2] }'); do
		for i in $(seq 100); do
			[ "$(redis-cli -p "$p" dbsize)" -gt 0 ] && break
			sleep 0.1
		done
	done
	replica_commands() {
		redis-cli -p "$port" cluster nodes | awk '/slave/ { split($2, a, "[:@]"); print a[2] }' |
			while read -r p; do redis-cli -p "$p" info stats | tr -d '\r' | awk -F: '/^total_commands_processed/ { print $2 }'; done |
			awk '{ n += $1 } END { print n }'
	}
	before=$(replica_commands)
	same_as_sqlite "redis://127.0.0.1:$port?replicas=1"
	[ "$(replica_commands)" -gt $((before + 3400)) ] || fail "the replicas took $(($(replica_commands) - before)) commands"
}
