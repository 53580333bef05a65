#!/usr/bin/env bats
# ff-sync-online: full and incremental copies of offline feature tables into
# an online store. Every sync is checked against the offline table itself
# and against a full copy made afresh; the rows an incremental sync touches
# are logged by triggers in the online store and compared with the offline
# change feed (ff-store(5)).

load test_helper/common
bats_require_minimum_version 1.5.0

PICKUP=$EXAMPLES/pickup_features.spec
DROPOFF=$EXAMPLES/dropoff_features.spec
TABLES="trip_dropoff_features trip_pickup_features"

# For the whole file, in $BATS_FILE_TMPDIR: trips.csv, 3000 generated trips
# over 3 days (2018-01-01 .. 2018-01-03), base.db their two taxi tables
# (version 1 each), and fares.csv, the same trips with the fare of every
# 100th trip raised by 7: recomputed over them with --mode overwrite, it
# changes the windows of those trips.
setup_file() {
	cd "$BATS_FILE_TMPDIR" || return 1
	ff-gen-trips -n 3000 --days 3 -o trips.csv
	ff-compute -q -s base.db -f "$PICKUP" -f "$DROPOFF" trips.csv
	awk -F, -v OFS=, 'NR > 1 && (NR - 1) % 100 == 0 { $4 += 7 } 1' trips.csv > fares.csv
}

setup() {
	common_setup
	cp "$BATS_FILE_TMPDIR"/{trips,fares}.csv .
	cp "$BATS_FILE_TMPDIR/base.db" off.db
}

# compute ARGS...: ff-compute both taxi specs into off.db.
compute() { ff-compute -s off.db -f "$PICKUP" -f "$DROPOFF" "$@"; }

# rows STORE TABLE: every row of TABLE, keys first.
rows() { sqlite3 -batch "$1" "SELECT * FROM $2 ORDER BY 1, 2"; }

# agree OFFLINE ONLINE...: each online store holds exactly the rows of every
# table of the offline store.
agree() {
	local off=$1 t on
	shift
	for t in $TABLES; do
		rows "$off" "$t" > "expected.$t"
		for on; do
			rows "$on" "$t" | diff -u "expected.$t" - || return 1
		done
	done
}

# version STORE TABLE: the version the online store last synced.
version() { q "$1" "SELECT version FROM ff_online_tables WHERE name = '$2'"; }

# log_changes ONLINE: record in the table touched every row that a sync
# inserts (or replaces) or deletes in the pickup table.
log_changes() {
	sqlite3 -batch "$1" "CREATE TABLE touched (op TEXT, zip TEXT, t INTEGER);
	CREATE TRIGGER log_insert AFTER INSERT ON trip_pickup_features BEGIN
	  INSERT INTO touched VALUES ('upsert', new.pickup_zip, new.rounded_pickup_datetime); END;
	CREATE TRIGGER log_delete AFTER DELETE ON trip_pickup_features BEGIN
	  INSERT INTO touched VALUES ('delete', old.pickup_zip, old.rounded_pickup_datetime); END;"
}

# counts_of TABLE: "INSERTED UPDATED DELETED" from the ff-compute -v line of
# TABLE in $stderr.
counts_of() {
	sed -n "s/^ff-compute: $1: version [0-9]*: \([0-9]*\) inserted, \([0-9]*\) updated, \([0-9]*\) deleted, .*/\1 \2 \3/p" \
		<<<"$stderr"
}

# wait_for SECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds,
# for at most SECONDS.
wait_for() {
	local n=$(($1 * 10))
	shift
	until "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}

# ---- full copy ---------------------------------------------------------

@test "a first sync copies every table of the catalog whole" {
	run --separate-stderr ff-sync-online -v -s off.db --online on.db
	assert_success
	assert_output ""
	diff -u - <(printf '%s\n' "$stderr") <<EOF
ff-sync-online: trip_dropoff_features: full copy, version 0 -> 1: $(q off.db 'SELECT count(*) FROM trip_dropoff_features') upserted, 0 deleted, 0 expired
ff-sync-online: trip_pickup_features: full copy, version 0 -> 1: $(q off.db 'SELECT count(*) FROM trip_pickup_features') upserted, 0 deleted, 0 expired
EOF
	agree off.db on.db
	# The online catalog: the source, version, definition and columns.
	diff -u <(q off.db "SELECT name, version, definition FROM ff_catalog ORDER BY name") \
		<(q on.db "SELECT name, version, definition FROM ff_online_tables ORDER BY name")
	diff -u <(q off.db "SELECT table_name, position, name, type, role FROM ff_columns ORDER BY 1, 2") \
		<(q on.db "SELECT table_name, position, name, type, role FROM ff_online_columns ORDER BY 1, 2")
	run q on.db "SELECT name, source, rows, retention IS NULL FROM ff_online_tables ORDER BY name"
	local src
	src=$(realpath off.db)
	assert_output "trip_dropoff_features|$src|$(q off.db 'SELECT count(*) FROM trip_dropoff_features')|1
trip_pickup_features|$src|$(q off.db 'SELECT count(*) FROM trip_pickup_features')|1"
	[ "$(q on.db 'PRAGMA application_id')" = $((0x66660003)) ]
	[ "$(q on.db 'PRAGMA journal_mode')" = wal ]
}

@test "the online tables are keyed by key, then time" {
	ff-sync-online -s off.db --online on.db
	run q on.db "SELECT name, pk FROM pragma_table_info('trip_pickup_features') WHERE pk > 0 ORDER BY pk"
	assert_output "pickup_zip|1
rounded_pickup_datetime|2"
}

@test "a full copy of a table with two keys, odd text and NULL features: the offline rows, values and types" {
	# Keys that sort differently as text and as numbers, a quote, a leading
	# zero; a mean that is NULL where every fare is empty.
	{
		echo time,zip,vendor,fare
		awk 'BEGIN { for (i = 0; i < 3000; i++)
			printf "2018-01-%02d %02d:%02d:00,%s,%d,%s\n", 1 + int(i / 200), int(i / 10) % 24, i % 60,
				(i % 7 == 0 ? "0701" : (i % 5 == 0 ? "\"z\"\"q\"" : 9 + i % 13)), (i % 3) - 1 + (i % 11) * 1000,
				(i % 17 == 0 ? "" : (i % 9) + 0.5) }' | sort
		# A key of 300 bytes; a time past 2038 (beyond 32 bits), 200
		# trips in a window (a count past 127).
		printf '2018-01-20 10:00:00,%0300d,7,3.5\n' 1
		for i in $(seq 200); do echo "2040-06-01 10:00:00,10001,7,1.25"; done
	} > pair.csv
	ff-compute -q -s pair.db --table pair --time time --key zip --key vendor --timestamp-key t_end \
		--window 15m --partition none --feature 'n=count(*)' --feature 'mean=mean(fare)' \
		--lateness unbounded pair.csv
	ff-sync-online -s pair.db --online on.db
	all='SELECT zip, vendor, t_end, n, mean, typeof(zip), typeof(vendor), typeof(t_end), typeof(n), typeof(mean)
		FROM pair ORDER BY zip, vendor, t_end'
	diff -u <(q pair.db "$all") <(q on.db "$all")
	[ "$(q on.db 'SELECT count(*) FROM pair WHERE mean IS NULL')" -gt 0 ]
	[ "$(q on.db "SELECT count(DISTINCT zip) FROM pair WHERE zip IN ('0701', 'z\"q', '10', '9')")" = 4 ]
	[ "$(q on.db 'SELECT max(length(zip)), max(t_end) > 2147483647, max(n) FROM pair')" = "300|1|200" ]
	[ "$(q on.db 'PRAGMA integrity_check')" = ok ]
}

@test "the tables named are the only ones synced" {
	ff-sync-online -s off.db --online on.db trip_pickup_features
	run q on.db "SELECT name FROM ff_online_tables"
	assert_output trip_pickup_features
	run q on.db "SELECT count(*) FROM sqlite_schema WHERE name = 'trip_dropoff_features'"
	assert_output 0
}

# ---- incremental sync --------------------------------------------------

@test "after a merge, an incremental sync, a full copy and the offline table agree" {
	ff-sync-online -s off.db --online on.db
	compute -q --mode overwrite fares.csv
	ff-sync-online -s off.db --online on.db
	ff-sync-online -s off.db --online full.db
	agree off.db on.db full.db
	[ "$(version on.db trip_pickup_features)" = 2 ]
	[ "$(version on.db trip_dropoff_features)" = 1 ]
}

@test "a merge that updates 1% of the trips syncs exactly the rows it updated, and nothing else" {
	ff-sync-online -s off.db --online on.db
	log_changes on.db
	run --separate-stderr compute -v --mode overwrite fares.csv
	assert_success
	read -r ins upd del <<<"$(counts_of trip_pickup_features)"
	[ "$ins $del" = "0 0" ] && [ "$upd" -gt 0 ]
	# The fare feeds only the pickup table: the dropoff table has no new version.
	[ "$(counts_of trip_dropoff_features)" = "0 0 0" ]
	[ "$(q off.db "SELECT count(*) FROM ff_changes_trip_pickup_features WHERE version = 2")" = "$upd" ]

	run --separate-stderr ff-sync-online -v -s off.db --online on.db
	assert_success
	diff -u <(echo "ff-sync-online: trip_pickup_features: changes of version 1 -> 2: $upd upserted, 0 deleted, 0 expired") \
		<(printf '%s\n' "$stderr")
	# Touched: the rows of the change feed, each once.
	diff -u <(q off.db "SELECT 'upsert', pickup_zip, rounded_pickup_datetime FROM ff_changes_trip_pickup_features
		WHERE version = 2 ORDER BY 2, 3") <(q on.db "SELECT * FROM touched ORDER BY 2, 3")
	agree off.db on.db
}

@test "two merges between syncs that update the same rows sync each row once" {
	ff-sync-online -s off.db --online on.db
	log_changes on.db
	run --separate-stderr compute -v --mode overwrite fares.csv
	read -r _ upd _ <<<"$(counts_of trip_pickup_features)"
	# and back to the old fares: the same rows change again (version 3)
	compute -q --mode overwrite trips.csv
	[ "$(q off.db "SELECT count(*) FROM ff_changes_trip_pickup_features WHERE version = 3")" = "$upd" ]

	run --separate-stderr ff-sync-online -v -s off.db --online on.db
	assert_success
	agree off.db on.db
	diff -u <(echo "ff-sync-online: trip_pickup_features: changes of version 1 -> 3: $upd upserted, 0 deleted, 0 expired") \
		<(printf '%s\n' "$stderr")
	[ "$(q on.db 'SELECT count(*) FROM touched')" = "$upd" ]
}

@test "appended windows sync through the appended range" {
	rm off.db
	compute -q --end '2018-01-02 12:00:00' trips.csv
	ff-sync-online -s off.db --online on.db
	log_changes on.db
	run --separate-stderr compute -v --start '2018-01-02 12:00:00' trips.csv
	assert_success
	read -r pins pupd pdel <<<"$(counts_of trip_pickup_features)"
	read -r dins dupd ddel <<<"$(counts_of trip_dropoff_features)"
	[ "$pupd $pdel $dupd $ddel" = "0 0 0 0" ] && [ "$pins" -gt 0 ] && [ "$dins" -gt 0 ]
	# The feed lists none of them one by one: they are the appended range.
	[ "$(q off.db 'SELECT count(*) FROM ff_changes_trip_pickup_features')" = 0 ]
	from=$(q off.db "SELECT appended_from FROM ff_versions WHERE table_name = 'trip_pickup_features' AND version = 2")

	run --separate-stderr ff-sync-online -v -s off.db --online on.db
	assert_success
	diff -u - <(printf '%s\n' "$stderr") <<EOF
ff-sync-online: trip_dropoff_features: changes of version 1 -> 2: $dins upserted, 0 deleted, 0 expired
ff-sync-online: trip_pickup_features: changes of version 1 -> 2: $pins upserted, 0 deleted, 0 expired
EOF
	[ "$(q on.db "SELECT count(*), min(t) >= $from FROM touched")" = "$pins|1" ]
	ff-sync-online -s off.db --online full.db
	agree off.db on.db full.db
}

@test "rows deleted offline are deleted online" {
	ff-sync-online -s off.db --online on.db
	log_changes on.db
	awk 'NR == 1 || NR % 2 == 0' trips.csv > half.csv
	run --separate-stderr compute -v --mode overwrite --start '2018-01-02 00:00:00' --end '2018-01-02 12:00:00' half.csv
	assert_success
	read -r pins pupd pdel <<<"$(counts_of trip_pickup_features)"
	read -r dins dupd ddel <<<"$(counts_of trip_dropoff_features)"
	[ "$pdel" -gt 0 ] && [ "$ddel" -gt 0 ]

	run --separate-stderr ff-sync-online -v -s off.db --online on.db
	assert_success
	diff -u - <(printf '%s\n' "$stderr") <<EOF
ff-sync-online: trip_dropoff_features: changes of version 1 -> 2: $((dins + dupd)) upserted, $ddel deleted, 0 expired
ff-sync-online: trip_pickup_features: changes of version 1 -> 2: $((pins + pupd)) upserted, $pdel deleted, 0 expired
EOF
	[ "$(q on.db "SELECT count(*) FROM touched WHERE op = 'delete'")" = "$pdel" ]
	ff-sync-online -s off.db --online full.db
	agree off.db on.db full.db
}

@test "running the same sync twice changes nothing the second time" {
	ff-sync-online -s off.db --online on.db
	compute -q --mode overwrite fares.csv
	ff-sync-online -s off.db --online on.db
	sqlite3 on.db .dump > first
	sleep 1 # a second later: a rewritten synced_at would show
	run --separate-stderr ff-sync-online -v -s off.db --online on.db
	assert_success
	assert_output ""
	[ -z "$stderr" ]
	sqlite3 on.db .dump | diff -u first -
}

@test "running the same sync with --retention twice changes nothing the second time" {
	ff-sync-online --retention 1d -s off.db --online on.db
	sqlite3 on.db .dump > first
	sleep 1
	run --separate-stderr ff-sync-online -v --retention 1d -s off.db --online on.db
	assert_success
	sqlite3 on.db .dump | diff -u first -
	[ -z "$stderr" ]
}

# ---- schema changes and other stores -----------------------------------

@test "a table replaced offline: an incremental sync fails and asks for --full, which propagates it" {
	ff-sync-online -s off.db --online on.db
	rows on.db trip_pickup_features > before
	sqlite3 on.db .dump > dump.before
	# another window, and one more feature
	sed 's/^window .*/window 2h/' "$PICKUP" > pickup2.spec
	echo 'feature  max_fare=max(fare_amount)' >> pickup2.spec
	ff-compute -q --replace -s off.db -f pickup2.spec trips.csv

	run --separate-stderr ff-sync-online -s off.db --online on.db
	assert_failure 1
	assert_output ""
	diff -u <(echo "ff-sync-online: on.db: table trip_pickup_features was replaced at offline version 2, after version 1 synced here: run ff-sync-online --full to copy it again") \
		<(printf '%s\n' "$stderr")
	sqlite3 on.db .dump | diff -u dump.before -

	run --separate-stderr ff-sync-online -v --full -s off.db --online on.db
	assert_success
	agree off.db on.db
	[ "$(version on.db trip_pickup_features)" = 2 ]
	diff -u <(q off.db "SELECT position, name, type, role FROM ff_columns WHERE table_name = 'trip_pickup_features' ORDER BY 1") \
		<(q on.db "SELECT position, name, type, role FROM ff_online_columns WHERE table_name = 'trip_pickup_features' ORDER BY 1")
	q on.db "SELECT max_fare FROM trip_pickup_features LIMIT 1"
	# and the next incremental sync is fine again
	run ff-sync-online -s off.db --online on.db
	assert_success
}

@test "an incremental sync from another offline store than the one synced refuses and asks for --full" {
	ff-sync-online -s off.db --online on.db
	# other.db: the same tables from other fares, one more version
	awk -F, -v OFS=, 'NR > 1 { $4 += 1 } 1' trips.csv > other.csv
	ff-compute -q -s other.db -f "$PICKUP" -f "$DROPOFF" other.csv
	ff-compute -q -s other.db -f "$PICKUP" -f "$DROPOFF" fares.csv
	sqlite3 on.db .dump > dump.before
	run ff-sync-online -s other.db --online on.db
	assert_failure 1
	assert_output --partial "run ff-sync-online --full"
	sqlite3 on.db .dump | diff -u dump.before -
}

# ---- a sync cut short --------------------------------------------------

# killed_midway SIGNAL: on 200,000 trips, a full sync of the pickup table to
# a new version, killed by SIGNAL while it writes, leaves the online store as
# it was; the next sync completes it.
killed_midway() {
	ff-gen-trips -n 200000 --days 30 -o big.csv
	rm off.db
	compute -q --end 2018-01-20 big.csv
	ff-sync-online -s off.db --online on.db trip_pickup_features
	sqlite3 on.db .dump > dump.before
	compute -q --start 2018-01-20 big.csv
	[ "$(q off.db "SELECT version FROM ff_catalog WHERE name = 'trip_pickup_features'")" = 2 ]

	ff-sync-online --full -s off.db --online on.db trip_pickup_features 3>&- &
	local pid=$!
	# Midway: a megabyte of the new copy is in the write-ahead log.
	wait_for 20 eval '[ "$(stat -c %s on.db-wal 2>/dev/null || echo 0)" -gt 1000000 ]' || true
	kill -0 "$pid" || fail "the sync ended before it could be killed"
	kill "-$1" "$pid"
	local status=0
	wait "$pid" || status=$?
	[ "$status" -gt 128 ] || fail "the sync exited $status: killed too late"

	sqlite3 on.db .dump | diff -u dump.before -
	[ "$(version on.db trip_pickup_features)" = 1 ]
	ff-sync-online -s off.db --online on.db trip_pickup_features
	[ "$(version on.db trip_pickup_features)" = 2 ]
	diff -u <(rows off.db trip_pickup_features) <(rows on.db trip_pickup_features)
}

@test "a sync killed with SIGKILL midway leaves the online store at the previous version" {
	killed_midway KILL
}

@test "a sync killed with SIGTERM midway leaves the online store at the previous version" {
	killed_midway TERM
}

# ---- retention ---------------------------------------------------------

# kept STORE TABLE KEY TS SECONDS: the rows of TABLE not older than its
# newest minus SECONDS, and each key's latest row.
kept() {
	sqlite3 -batch "$1" "SELECT * FROM $2 AS x WHERE $4 >= (SELECT max($4) FROM $2) - $5
		OR $4 = (SELECT max($4) FROM $2 AS y WHERE y.$3 = x.$3) ORDER BY 1, 2"
}

@test "--retention keeps the rows newer than the horizon and each key's latest row" {
	run --separate-stderr ff-sync-online -v --retention 1d -s off.db --online on.db
	assert_success
	kept off.db trip_pickup_features pickup_zip rounded_pickup_datetime 86400 > pickup.kept
	kept off.db trip_dropoff_features dropoff_zip rounded_dropoff_datetime 86400 > dropoff.kept
	diff -u pickup.kept <(rows on.db trip_pickup_features)
	diff -u dropoff.kept <(rows on.db trip_dropoff_features)
	# Something went, and some key kept only a row older than the horizon.
	np=$(q off.db 'SELECT count(*) FROM trip_pickup_features')
	nd=$(q off.db 'SELECT count(*) FROM trip_dropoff_features')
	kp=$(wc -l < pickup.kept) kd=$(wc -l < dropoff.kept)
	[ "$kp" -lt "$np" ] && [ "$kd" -lt "$nd" ]
	[ "$(q on.db "SELECT count(*) FROM trip_pickup_features AS x WHERE rounded_pickup_datetime <
		(SELECT max(rounded_pickup_datetime) FROM trip_pickup_features) - 86400")" -gt 0 ]
	diff -u - <(printf '%s\n' "$stderr") <<EOF
ff-sync-online: trip_dropoff_features: full copy, version 0 -> 1: $nd upserted, 0 deleted, $((nd - kd)) expired
ff-sync-online: trip_pickup_features: full copy, version 0 -> 1: $np upserted, 0 deleted, $((np - kp)) expired
EOF
	run q on.db "SELECT name, rows, retention FROM ff_online_tables ORDER BY name"
	assert_output "trip_dropoff_features|$kd|86400
trip_pickup_features|$kp|86400"
}

@test "--retention applies again as incremental syncs move the table forward" {
	rm off.db
	compute -q --end '2018-01-02 12:00:00' trips.csv
	ff-sync-online --retention 12h -s off.db --online on.db
	compute -q --start '2018-01-02 12:00:00' fares.csv
	ff-sync-online --retention 12h -s off.db --online on.db
	diff -u <(kept off.db trip_pickup_features pickup_zip rounded_pickup_datetime 43200) \
		<(rows on.db trip_pickup_features)
	diff -u <(kept off.db trip_dropoff_features dropoff_zip rounded_dropoff_datetime 43200) \
		<(rows on.db trip_dropoff_features)
}

# ---- --follow ----------------------------------------------------------

# follow SIGNAL: --follow syncs at once, picks a new offline version up
# within a few intervals, and exits 0 on SIGNAL.
follow() {
	ff-sync-online -v --follow --interval 1s -s off.db --online on.db 2> follow.err 3>&- &
	local pid=$!
	wait_for 10 eval '[ "$(version on.db trip_pickup_features)" = 1 ]'
	compute -q --mode overwrite fares.csv
	wait_for 5 eval '[ "$(version on.db trip_pickup_features)" = 2 ]'
	kill -0 "$pid"
	kill "-$1" "$pid"
	local status=0
	wait "$pid" || status=$?
	[ "$status" = 0 ]
	agree off.db on.db
	upd=$(q off.db "SELECT updated FROM ff_versions WHERE table_name = 'trip_pickup_features' AND version = 2")
	diff -u - follow.err <<EOF
ff-sync-online: trip_dropoff_features: full copy, version 0 -> 1: $(q off.db 'SELECT count(*) FROM trip_dropoff_features') upserted, 0 deleted, 0 expired
ff-sync-online: trip_pickup_features: full copy, version 0 -> 1: $(q off.db 'SELECT count(*) FROM trip_pickup_features') upserted, 0 deleted, 0 expired
ff-sync-online: trip_pickup_features: changes of version 1 -> 2: $upd upserted, 0 deleted, 0 expired
EOF
}

@test "--follow picks up a new offline version and stops cleanly on SIGTERM" {
	follow TERM
}

@test "--follow picks up a new offline version and stops cleanly on SIGINT" {
	follow INT
}

# ---- errors ------------------------------------------------------------

@test "usage errors exit 2" {
	local try="Try 'ff-sync-online --help' for more information."
	run -2 ff-sync-online --online on.db
	assert_output "ff-sync-online: no offline store: give -s STORE
$try"
	run -2 ff-sync-online -s off.db
	assert_output "ff-sync-online: no online store: give --online ONLINE
$try"
	for bad in 7 abc 0d -1d ''; do
		run -2 ff-sync-online -s off.db --online on.db --retention "$bad"
		assert_output "ff-sync-online: bad --retention '$bad': a duration such as 7d or 12h
$try"
		run -2 ff-sync-online -s off.db --online on.db --follow --interval "$bad"
		assert_output "ff-sync-online: bad --interval '$bad': a duration such as 1s or 1m
$try"
	done
	[ ! -e on.db ]
}

@test "-o is --output everywhere: ff-sync-online has no -o, and -o - makes no file named -" {
	run -2 --separate-stderr ff-sync-online -s off.db -o -
	[ -z "$output" ]
	[ "$stderr" = "ff-sync-online: unknown option '-o'
Try 'ff-sync-online --help' for more information." ]
	[ ! -e ./- ]
}

@test "a missing offline store or table exits 1" {
	run -1 ff-sync-online -s nope.db --online on.db
	assert_output "ff-sync-online: nope.db: No such file or directory"
	run -1 ff-sync-online -s off.db --online on.db no_such_table
	assert_output "ff-sync-online: off.db: no table no_such_table in the store"
	run -1 ff-sync-online -s trips.csv --online on.db
	assert_output "ff-sync-online: trips.csv: cannot read the store: file is not a database"
}

@test "a missing offline store is reported as such when tables are named" {
	run -1 ff-sync-online -s nope.db --online on.db trip_pickup_features
	assert_output "ff-sync-online: nope.db: No such file or directory"
}

@test "an offline store whose name holds # or ? syncs like any other" {
	cp off.db 'a#1.db'
	cp off.db 'b?1.db'
	run ff-sync-online -s 'a#1.db' --online on1.db
	assert_success
	run ff-sync-online -s 'b?1.db' --online on2.db
	assert_success
	agree off.db on1.db on2.db
	# and no stray database appears under a part of the name
	[ ! -e a ] && [ ! -e b ]
}

@test "an online store that is another SQLite file is refused" {
	sqlite3 other.db 'CREATE TABLE t (x)'
	run -1 ff-sync-online -s off.db --online other.db
	assert_output "ff-sync-online: other.db: not an ff online store"
	run -1 ff-sync-online -s off.db --online off.db
	assert_output "ff-sync-online: off.db: not an ff online store"
}

# --retention 1000000000d overflowed into a negative retention, exit 0:
# durations are at most 100 years (36525d).
@test "--retention over 100 years is refused, exit 2" {
	local d
	for d in 36526d 1000000000d 9223372036854775807s; do
		run -2 --separate-stderr ff-sync-online -s off.db --online on.db --retention "$d"
		[[ ${stderr%%$'\n'*} == "ff-sync-online: bad --retention '$d': a duration such as 7d or 12h" ]] ||
			fail "$stderr"
		[ ! -e on.db ]
	done
	run -0 ff-sync-online -q -s off.db --online on.db --retention 36525d
}

@test "--wait: an online store another run holds is waited for, then named as held" {
	ff-sync-online -s off.db --online on.db
	{ echo 'BEGIN IMMEDIATE;'; sleep 4; echo 'COMMIT;'; } | sqlite3 on.db &
	local holder=$!
	sleep 0.5
	run -1 --separate-stderr ff-sync-online --full --wait 0.5 -s off.db --online on.db
	wait "$holder"
	[ "$stderr" = "ff-sync-online: on.db: another ff run is writing this store (waited 0.5 s); try again or raise --wait" ]
}
