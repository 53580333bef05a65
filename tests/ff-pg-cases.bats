#!/usr/bin/env bats
# Hard cases of the PostgreSQL store: shards' appends read as of every
# version, the merge that copies the latest day first, the push that builds
# a table's key again, shards of N other than 2, odd keys and times. Each
# test makes the same writes into a SQLite store, the reference, and
# compares whole outputs.

load test_helper/common
load test_helper/postgres
load test_helper/redis
bats_require_minimum_version 1.5.0

setup_file() { pg_start; }
teardown_file() { pg_stop; }
teardown() { redis_stop_all; }

setup() {
	common_setup
	pg_newdb "a${BATS_TEST_NUMBER}"
	TBL=(--table t --time ts --key k --window 1h --slide 30m --feature 'n=count(*)' --feature 's=sum(v)')
	cat > train.spec <<-'SPEC'
	lookup    t
	key       k
	timestamp ts
	features  n,s
	label     v
	inputs    k
	SPEC
}

# events FROM TO STEP KEYS SEED: CSV events ts,k,v every STEP seconds from
# epoch FROM (inclusive) to TO (exclusive), each for one of the keys
# k01..kKEYS chosen by a fixed hash of the time and SEED, v from both.
events() {
	mawk -v from="$1" -v to="$2" -v step="$3" -v keys="$4" -v seed="$5" 'BEGIN {
		print "ts,k,v"
		for (t = from; t < to; t += step) {
			x = (t / step * 7 + seed * 13) % keys; if (x < 0) x += keys
			printf "%s,k%02d,%d\n", strftime("%Y-%m-%d %H:%M:%S", t, 1), x + 1, (t / step + seed) % 97
		}
	}'
}

# grid FROM TO KEYS: a lookup of every key every 30 min in [FROM, TO).
grid() {
	mawk -v from="$1" -v to="$2" -v keys="$3" 'BEGIN {
		print "ts,k,v"
		for (t = from; t < to; t += 1800)
			for (k = 1; k <= keys; k++)
				printf "%s,k%02d,0\n", strftime("%Y-%m-%d %H:%M:%S", t, 1), k
	}'
}

# both ARGS...: ff-compute ARGS into sqlite.db, then into PostgreSQL.
both() {
	ff-compute -q -s sqlite.db "$@"
	ff-compute -q -s "$PG_URL" "$@"
}

# same_as_of V TABLE: table as of version V in both stores, by the SQL form
# (ff-sync-online --full, ff-monitor) and the C merge (ff-train-set over
# grid.csv): the same bytes.
same_as_of() {
	rm -f want.db got.db
	ff-sync-online -q -s sqlite.db --online want.db --full --as-of "$1" "$2"
	ff-sync-online -q -s "$PG_URL" --online got.db --full --as-of "$1" "$2"
	diff -u <(sqlite3 want.db "SELECT * FROM $2 ORDER BY 1, 2") <(sqlite3 got.db "SELECT * FROM $2 ORDER BY 1, 2")
	# (A widened table's columns come in another order: sorted, as ff-pg.bats does.)
	diff -u <(ff-monitor profile -s sqlite.db --as-of "$1" "$2" | tail -n +2 | ${MONITOR_SORT:-cat}) \
		<(ff-monitor profile -s "$PG_URL" --as-of "$1" "$2" | tail -n +2 | ${MONITOR_SORT:-cat})
	diff -u <(ff-train-set -q -s sqlite.db -f train.spec -b want.bp --as-of "$1" grid.csv) \
		<(ff-train-set -q -s "$PG_URL" -f train.spec -b got.bp --as-of "$1" grid.csv)
}

D=86400
T0=1514764800 # 2018-01-01

# wait_read: until a run started in the background has read t (its
# session holds a lock on it), or 5 s.
wait_read() {
	local i
	for i in $(seq 50); do
		[ "$(pg_sql "SELECT count(*) FROM pg_locks WHERE relation = 't'::regclass AND pid <> pg_backend_pid()")" -eq 0 ] ||
			return 0
		sleep 0.1
	done
}

@test "shards of 2 and of 4 interleaved with unsharded merges, late updates of a shard's rows and an overwrite: every version as in SQLite" {
	grid $T0 $((T0 + 7 * D)) 12 > grid.csv
	events $T0 $((T0 + D)) 600 12 1 > e1.csv
	events $((T0 + D)) $((T0 + 2 * D)) 700 12 2 > e2.csv
	# Late events of day 2 (every key: updates of the rows shard 1 appended,
	# inserts among them for shard 2's) and day 3.
	events $((T0 + D + 300)) $((T0 + 3 * D)) 1900 12 3 > e3.csv
	{ events $((T0 + D)) $((T0 + 2 * D)) 1100 12 4; events $((T0 + 3 * D)) $((T0 + 4 * D)) 900 12 4 | tail -n +2; } > e4.csv
	{ events $((T0 + 4 * D)) $((T0 + 5 * D)) 800 12 5; events $T0 $((T0 + D)) 5000 12 5 | tail -n +2; } > e5.csv
	events $((T0 + D)) $((T0 + 2 * D)) 1300 12 6 > e6.csv
	events $((T0 + 4 * D)) $((T0 + 6 * D)) 650 12 7 > e7.csv
	events $((T0 + 5 * D)) $((T0 + 7 * D)) 1000 12 8 > e8.csv
	both "${TBL[@]}" e1.csv
	both "${TBL[@]}" --shard 1/2 e2.csv
	both "${TBL[@]}" e3.csv
	both "${TBL[@]}" --shard 2/2 e4.csv
	both "${TBL[@]}" --shard 2/4 e5.csv
	# A training set of version 5 from PostgreSQL, reproduced at the end.
	ff-train-set -q -s "$PG_URL" -f train.spec -b v5.bp -o v5.csv grid.csv
	sleep 1
	both "${TBL[@]}" --mode overwrite --start '2018-01-02' --end '2018-01-02 12:00:00' e6.csv
	both "${TBL[@]}" --shard 3/4 e7.csv
	both "${TBL[@]}" --shard 4/4 e7.csv
	both "${TBL[@]}" e8.csv
	# The shards' versions are appends of their keys (2/4 and 3/4 among
	# the times of rows of other keys).
	run pg_sql "SELECT version, coalesce(shard, '-'), appended_from IS NOT NULL FROM ff_versions ORDER BY 1"
	assert_output $'1|-|t\n2|1/2|t\n3|-|t\n4|2/2|t\n5|2/4|t\n6|-|f\n7|3/4|t\n8|4/4|t\n9|-|t'
	for v in 1 2 3 4 5 6 7 8 9; do
		same_as_of $v t
	done
	ff-train-set -q --reproduce v5.bp -s "$PG_URL" -o again.csv grid.csv
	cmp v5.csv again.csv
	# As of the time version 5 was committed: version 5.
	at=$(pg_sql "SELECT to_char(committed_at, 'YYYY-MM-DD HH24:MI:SS') FROM ff_versions WHERE version = 5")
	cmp <(ff-train-set -q -s "$PG_URL" -f train.spec -b bp --as-of "$at" grid.csv) v5.csv
	# A vacuum keeping 3 versions: the same pruning, the same reads.
	ff-store vacuum --keep-versions 3 sqlite.db
	ff-store vacuum --keep-versions 3 "$PG_URL"
	for v in 7 8 9; do
		same_as_of $v t
	done
	run -1 ff-train-set -q -s "$PG_URL" -f train.spec -b bp --as-of 6 -o x.csv grid.csv
}

# same_all TABLE: the table now and as of every version: the same.
same_all() {
	local v last
	last=$(sqlite3 sqlite.db "SELECT max(version) FROM ff_versions WHERE table_name = '$1'")
	[ "$last" = "$(pg_sql "SELECT max(version) FROM ff_versions WHERE table_name = '$1'")" ]
	for v in $(seq 1 "$last"); do
		same_as_of "$v" "$1"
	done
	diff -u <(ff-train-set -q -s sqlite.db -f train.spec -b want.bp grid.csv) \
		<(ff-train-set -q -s "$PG_URL" -f train.spec -b got.bp grid.csv)
}

@test "a merge whose shard's keys are rare: the doubling search back, late windows of a rare key, boundaries at midnight" {
	# k01..k12 every day for 6 days; r01..r06 on the first day only.
	{ events $T0 $((T0 + 6 * D)) 900 12 1; events $T0 $((T0 + D)) 3000 6 2 | tail -n +2 | sed 's/,k/,r/'; } > e1.csv
	grid $T0 $((T0 + 8 * D)) 12 > grid.csv
	grid $T0 $((T0 + 8 * D)) 6 | tail -n +2 | sed 's/,k/,r/' >> grid.csv
	both "${TBL[@]}" e1.csv
	# Each shard of 4: late rare keys of day 1, a row at the last second of
	# day 6 and the first of day 7, and the rare keys again on day 7.
	{ events $((T0 + 600)) $((T0 + D)) 4000 6 3 | sed '2,$s/,k/,r/'
	  printf '2018-01-06 23:59:59,k03,5\n2018-01-07 00:00:00,k03,6\n2018-01-07 00:00:00,r02,7\n'
	  events $((T0 + 6 * D)) $((T0 + 7 * D)) 5000 6 4 | tail -n +2 | sed 's/,k/,r/'; } > e2.csv
	# (Shard 2/3 holds r01..r06 only, 3/3 none of these keys.) Then again
	# (another batch) in 4 shards.
	for s in 2/3 3/3; do
		both "${TBL[@]}" --shard $s e2.csv
	done
	{ cat e2.csv; echo '2018-01-07 01:00:00,k05,1'; } > e2q.csv
	for s in 1/4 2/4 3/4 4/4; do
		both "${TBL[@]}" --shard $s e2q.csv
	done
	# Unsharded: late events exactly at the day boundaries of every day.
	{ echo ts,k,v; for d in 1 2 3 4 5 6 7; do printf '2018-01-0%d 00:00:00,k0%d,9\n2018-01-0%d 00:00:00,r0%d,9\n' $d $d $d $((d % 6 + 1)); done; } > e3.csv
	both "${TBL[@]}" e3.csv
	same_all t
}

# widen_then_append PARTITION: t with n, s; m added between them
# (PostgreSQL's ADD COLUMN puts it last); then four days more, all new and
# more rows than the table holds (the push builds the key again).
widen_then_append() {
	# Three keys: windows of several events (their max is not their sum).
	events $T0 $((T0 + D)) 600 3 1 > e1.csv
	events $((T0 + D + 7200)) $((T0 + 5 * D)) 600 3 2 > e2.csv
	grid $T0 $((T0 + 6 * D)) 3 > grid.csv
	both "${TBL[@]}" --partition "$1" e1.csv
	WIDE=(--table t --time ts --key k --window 1h --slide 30m --feature 'n=count(*)' --feature 'm=max(v)'
		--feature 's=sum(v)' --partition "$1")
	both "${WIDE[@]}" --mode overwrite e1.csv
	both "${WIDE[@]}" e2.csv
	sed -i 's/features  n,s/features  n,m,s/' train.spec
	diff -u <(ff-train-set -q -s sqlite.db -f train.spec -b want.bp grid.csv) \
		<(ff-train-set -q -s "$PG_URL" -f train.spec -b got.bp grid.csv)
}

@test "a widened table (no partition), then many new rows: each value in its column, not m's in s" {
	widen_then_append none
}

@test "a widened table (partition yyyy_mm), then many new rows: the push does not fail" {
	widen_then_append yyyy_mm
}

@test "two keys, one renamed: shards' appends among unsharded late updates, every version as in SQLite" {
	# g: a second key, the key's letter and the hour's parity.
	two() { mawk -F, -v OFS=, 'NR == 1 { print "ts,k,g,v"; next } { print $1, $2, substr($2, 3, 1) (substr($1, 13, 1) % 2), $3 }'; }
	events $T0 $((T0 + 2 * D)) 700 12 1 | two > e1.csv
	events $((T0 + 2 * D)) $((T0 + 3 * D)) 500 12 2 | two > e2.csv
	events $((T0 + D)) $((T0 + 3 * D)) 2300 12 3 | two > e3.csv
	events $((T0 + 3 * D)) $((T0 + 4 * D)) 800 12 4 | two > e4.csv
	events $((T0 + 3 * D + 1234)) $((T0 + 5 * D)) 1700 12 5 | two > e5.csv
	TWO=(--table t --time ts --key k --key grp=g --window 1h --slide 30m --feature 'n=count(*)' --feature 's=sum(v)')
	both "${TWO[@]}" e1.csv
	both "${TWO[@]}" --shard 2/2 e2.csv
	both "${TWO[@]}" e3.csv
	both "${TWO[@]}" --shard 1/2 e2.csv
	both "${TWO[@]}" --shard 1/2 e4.csv
	both "${TWO[@]}" e5.csv
	run pg_sql "SELECT version, coalesce(shard, '-'), appended_from IS NOT NULL FROM ff_versions ORDER BY 1"
	assert_output $'1|-|t\n2|2/2|t\n3|-|f\n4|1/2|t\n5|1/2|t\n6|-|t'
	for v in 1 2 3 4 5 6; do
		rm -f want.db got.db
		ff-sync-online -q -s sqlite.db --online want.db --full --as-of $v
		ff-sync-online -q -s "$PG_URL" --online got.db --full --as-of $v
		diff -u <(sqlite3 want.db "SELECT * FROM t ORDER BY 1, 2, 3") <(sqlite3 got.db "SELECT * FROM t ORDER BY 1, 2, 3")
		diff -u <(ff-monitor profile -s sqlite.db --as-of $v t | tail -n +2) \
			<(ff-monitor profile -s "$PG_URL" --as-of $v t | tail -n +2)
	done
}

@test "times before 1970: a merge's copy of the latest day and late windows of earlier days, as in SQLite" {
	E=$((-4 * D))
	grid $E $((2 * D)) 5 > grid.csv
	events $E $((-D)) 700 5 1 > e1.csv
	# Late windows of every earlier day, a row at the epoch, new days.
	{ events $((E + 100)) $((-D)) 9000 5 2; printf '1970-01-01 00:00:00,k02,4\n1969-12-31 23:59:59,k03,5\n'
	  events 0 $D 1300 5 3 | tail -n +2; } > e2.csv
	events $((E + 200)) $D 11000 5 4 > e3.csv
	both "${TBL[@]}" e1.csv
	both "${TBL[@]}" e2.csv
	both "${TBL[@]}" --shard 1/2 e3.csv
	both "${TBL[@]}" --shard 2/2 e3.csv
	same_all t
}

@test "a database whose TimeZone is not UTC, a table whose windows are in a zone: a merge's copy and late windows as in SQLite" {
	grid $T0 $((T0 + 5 * D)) 6 > grid.csv
	ZONE=(--table t --time ts --key k --window 1d --slide 6h --timezone America/New_York
		--feature 'n=count(*)' --feature 's=sum(v)')
	events $T0 $((T0 + 3 * D)) 1000 6 1 > e1.csv
	# Late events around UTC and New York midnights, then a day more.
	{ echo ts,k,v; for d in 1 2 3; do printf '2018-01-0%d 23:59:59,k01,1\n2018-01-0%d 04:59:59,k02,2\n2018-01-0%d 05:00:00,k03,3\n' $d $d $d; done
	  events $((T0 + 3 * D)) $((T0 + 4 * D)) 1500 6 2 | tail -n +2; } > e2.csv
	for spec in TBL ZONE; do
		declare -n s=$spec
		pg_newdb "a${BATS_TEST_NUMBER}${spec,,}"
		psql -X -q -d postgres -c "ALTER DATABASE $PGDATABASE SET timezone = 'America/New_York'"
		rm -f sqlite.db
		both "${s[@]}" e1.csv
		both "${s[@]}" e2.csv
		same_all t
	done
}

@test "a widened table, then late events (through the key): the table and its earlier versions as in SQLite" {
	events $T0 $((T0 + 2 * D)) 600 3 1 > e1.csv
	events $((T0 + 1000)) $((T0 + 2 * D)) 3000 3 2 > e2.csv
	grid $T0 $((T0 + 3 * D)) 3 > grid.csv
	both "${TBL[@]}" --partition none e1.csv
	WIDE=(--table t --time ts --key k --window 1h --slide 30m --feature 'n=count(*)' --feature 'm=max(v)'
		--feature 's=sum(v)' --partition none)
	both "${WIDE[@]}" --mode overwrite e1.csv
	both "${WIDE[@]}" e2.csv
	sed -i 's/features  n,s/features  n,m,s/' train.spec
	MONITOR_SORT=sort same_all t
}

@test "a shard computing does not stall another shard's push of many new rows, nor the readers" {
	events $T0 $((T0 + 3 * D)) 300 12 1 > e1.csv
	events $((T0 + 3 * D)) $((T0 + 4 * D)) 300 12 2 > e2.csv
	grid $T0 $((T0 + 5 * D)) 12 > grid.csv
	ff-compute -q -s "$PG_URL" "${TBL[@]}" --shard 1/2 e1.csv
	# Shard 1 reads the store, then waits for its events (a pipe).
	mkfifo events.fifo
	ff-compute -q -s "$PG_URL" "${TBL[@]}" --shard 1/2 events.fifo &
	first=$!
	wait_read
	# Shard 2: all its rows new, more than the table holds (the key built
	# again); a reader meanwhile.
	timeout 20 ff-compute -q -s "$PG_URL" "${TBL[@]}" --shard 2/2 e1.csv &
	second=$!
	sleep 3
	read=0
	timeout 5 ff-train-set -q -s "$PG_URL" -f train.spec -b bp -o read.csv grid.csv || read=$?
	pushed=0
	wait "$second" || pushed=$?
	cat e2.csv > events.fifo
	wait "$first"
	echo "shard 2's push: exit $pushed, the reader: exit $read (124: timed out)"
	[ "$pushed" -eq 0 ]
	[ "$read" -eq 0 ]
	ff-compute -q -s sqlite.db "${TBL[@]}" --shard 1/2 e1.csv
	ff-compute -q -s sqlite.db "${TBL[@]}" --shard 1/2 e2.csv
	ff-compute -q -s sqlite.db "${TBL[@]}" --shard 2/2 e1.csv
	diff -u <(ff-train-set -q -s sqlite.db -f train.spec -b want.bp grid.csv) \
		<(ff-train-set -q -s "$PG_URL" -f train.spec -b got.bp grid.csv)
}

@test "a push of many new rows while a reader holds the table: through the key, without waiting for the reader" {
	events $T0 $((T0 + 3 * D)) 300 12 1 > e1.csv
	grid $T0 $((T0 + 4 * D)) 12 > grid.csv
	both "${TBL[@]}" --shard 1/2 e1.csv
	# A reader's transaction on t for 8 s.
	pg_sql "BEGIN; LOCK TABLE t IN ACCESS SHARE MODE; SELECT pg_sleep(8); COMMIT" >/dev/null &
	reader=$!
	wait_read
	SECONDS=0
	timeout 6 ff-compute -q -s "$PG_URL" "${TBL[@]}" --shard 2/2 e1.csv
	[ "$SECONDS" -lt 6 ]
	ff-compute -q -s sqlite.db "${TBL[@]}" --shard 2/2 e1.csv
	wait "$reader"
	run pg_sql "SELECT count(*) FROM pg_constraint WHERE contype = 'p' AND conrelid = 't'::regclass"
	assert_output 1
	diff -u <(ff-train-set -q -s sqlite.db -f train.spec -b want.bp grid.csv) \
		<(ff-train-set -q -s "$PG_URL" -f train.spec -b got.bp grid.csv)
}

@test "two tables in one run, windows handed out again (small lateness), one table's rows all new (the key built again)" {
	cat > t.spec <<-'SPEC'
	table   t
	time    ts
	key     k
	window  1h
	slide   30m
	feature n=count(*)
	feature s=sum(v)
	SPEC
	cat > u.spec <<-'SPEC'
	table   u
	time    ts
	key     k
	window  2h
	feature m=max(v)
	feature c=count(*)
	SPEC
	events $T0 $((T0 + 2 * D)) 500 12 1 > e1.csv
	events $T0 $((T0 + 7200)) 500 12 5 > e0.csv
	both -f u.spec e1.csv
	both -f t.spec e0.csv
	# Then both tables: t's rows all new (more than it holds), u's late
	# windows of day 1 merged; day 3, then its first half again after it,
	# lateness 1 h: windows handed out again.
	{ events $((T0 + 6 * 3600)) $((T0 + D)) 3000 12 6
	  events $((T0 + 2 * D)) $((T0 + 3 * D)) 400 12 2 | tail -n +2
	  events $((T0 + 2 * D + 100)) $((T0 + 2 * D + D / 2)) 2500 12 3 | tail -n +2; } > e2.csv
	both -f t.spec -f u.spec --lateness 1h e2.csv
	events $((T0 + 1000)) $((T0 + 3 * D)) 7000 12 4 > e3.csv
	both -f t.spec -f u.spec --lateness 1h e3.csv
	grid $T0 $((T0 + 4 * D)) 12 > grid.csv
	same_all t
	sed -i 's/^lookup    t/lookup    u/; s/features  n,s/features  m,c/' train.spec
	same_all u
}

# shard_history WRITE: the same writes by WRITE (both, or a function that
# calls it): a day, a shard's append, late events of every key, the other
# shard's, an overwrite of half a day, and three shards of 4.
shard_history() {
	events $T0 $((T0 + D)) 600 12 1 > e1.csv
	events $((T0 + D)) $((T0 + 2 * D)) 700 12 2 > e2.csv
	events $((T0 + D + 300)) $((T0 + 3 * D)) 1900 12 3 > e3.csv
	{ events $((T0 + D)) $((T0 + 2 * D)) 1100 12 4; events $((T0 + 3 * D)) $((T0 + 4 * D)) 900 12 4 | tail -n +2; } > e4.csv
	events $((T0 + D)) $((T0 + 2 * D)) 1300 12 6 > e6.csv
	events $((T0 + 4 * D)) $((T0 + 6 * D)) 650 12 7 > e7.csv
	"$1" "${TBL[@]}" e1.csv
	"$1" "${TBL[@]}" --shard 1/2 e2.csv
	"$1" "${TBL[@]}" e3.csv
	"$1" "${TBL[@]}" --shard 2/2 e4.csv
	"$1" "${TBL[@]}" --mode overwrite --start '2018-01-02' --end '2018-01-02 12:00:00' e6.csv
	"$1" "${TBL[@]}" --shard 3/4 e7.csv
	"$1" "${TBL[@]}" --shard 1/4 e7.csv
	"$1" "${TBL[@]}" --shard 2/4 e7.csv
}

@test "an incremental sync after each of shards' appends, unsharded late updates and an overwrite: the SQLite store's online copy" {
	step() {
		both "$@"
		ff-sync-online -q -s sqlite.db --online want.db
		ff-sync-online -q -s "$PG_URL" --online got.db
		diff -u <(sqlite3 want.db "SELECT * FROM t ORDER BY 1, 2") <(sqlite3 got.db "SELECT * FROM t ORDER BY 1, 2")
	}
	shard_history step
	# And the same as a full copy.
	rm -f full.db
	ff-sync-online -q -s sqlite.db --online full.db --full
	diff -u <(sqlite3 full.db "SELECT * FROM t ORDER BY 1, 2") <(sqlite3 got.db "SELECT * FROM t ORDER BY 1, 2")
}

@test "an overwrite whose rows are all new and many (the key built again) after it deleted the range's rows: as in SQLite, as of every version" {
	events $T0 $((T0 + 2 * D)) 900 6 1 > e1.csv
	# The same range with other keys (k07..k12): every stored row goes.
	events $T0 $((T0 + 2 * D)) 300 6 2 | sed '2,$s/,k0\([1-6]\)/,k1\1/' > e2.csv
	grid $T0 $((T0 + 3 * D)) 16 > grid.csv
	both "${TBL[@]}" e1.csv
	both "${TBL[@]}" --mode overwrite --start 2018-01-01 --end 2018-01-03 e2.csv
	run pg_sql "SELECT version, inserted > 0, updated, deleted > 0 FROM ff_versions ORDER BY 1"
	assert_output $'1|t|0|f\n2|t|0|t'
	same_all t
}

@test "keys that look like numbers, with spaces, commas, quotes, non-ASCII: shards' appends as of every version" {
	keys=(007 7 7.0 -0 1e3 ' 7' 'a b' é 'x,y' 'q"q' 0x1F NaN)
	# A key per event, round robin, every 10 min over DAYS days from FROM.
	weird() {
		local t i=0
		echo ts,k,v
		for ((t = $1; t < $1 + $2 * D; t += 600)); do
			k=${keys[$((i++ % ${#keys[@]}))]}
			printf '%s,"%s",%d\n' "$(date -u -d @$t '+%F %T')" "${k//\"/\"\"}" $((i % 13))
		done
	}
	weird $T0 1 > e1.csv
	weird $((T0 + D)) 1 > e2.csv
	{ weird $((T0 + 1200)) 2 | mawk 'NR == 1 || NR % 7 == 0'; } > e3.csv
	weird $((T0 + 2 * D)) 1 > e4.csv
	{ echo ts,k,v; for k in "${keys[@]}"; do for h in 0 6 12 18; do for d in 1 2 3 4; do
		printf '2018-01-0%d %02d:00:00,"%s",0\n' $d $h "${k//\"/\"\"}"; done; done; done; } > grid.csv
	both "${TBL[@]}" e1.csv
	both "${TBL[@]}" --shard 1/2 e2.csv
	both "${TBL[@]}" e3.csv
	both "${TBL[@]}" --shard 2/2 e2.csv
	both "${TBL[@]}" --shard 1/3 e4.csv
	both "${TBL[@]}" --shard 2/3 e4.csv
	both "${TBL[@]}" --shard 3/3 e4.csv
	same_all t
}

@test "merges with --start/--end, and late events older than the table's first row (sharded and not): as in SQLite" {
	events $((T0 + 2 * D)) $((T0 + 4 * D)) 700 12 1 > e1.csv
	events $T0 $((T0 + 5 * D)) 1700 12 2 > e2.csv
	events $T0 $((T0 + 2 * D)) 2900 12 3 > e3.csv
	grid $T0 $((T0 + 6 * D)) 12 > grid.csv
	both "${TBL[@]}" e1.csv
	# Windows ending in (day 2 12:00, day 3]: late ones within the table.
	both "${TBL[@]}" --start '2018-01-02 12:00:00' --end 2018-01-03 e2.csv
	# Windows after the table's last row only.
	both "${TBL[@]}" --start 2018-01-05 e2.csv
	# Before the table's first row: one shard, then every key.
	both "${TBL[@]}" --shard 2/2 --end 2018-01-02 e3.csv
	both "${TBL[@]}" --shard 1/2 --end 2018-01-02 e3.csv
	events $((T0 - D)) $((T0 + D)) 4100 12 4 > e4.csv
	both "${TBL[@]}" e4.csv
	same_all t
}

@test "Redis from PostgreSQL after shards' appends: each version in full, as from SQLite" {
	need_redis
	port=$(redis_start "$BATS_TEST_TMPDIR/redis")
	# Each key of table t, then its members and times.
	redis_dump() {
		redis-cli -p "$port" -n "$1" --scan --pattern 'ff:t*' | sort | while read -r k; do
			printf '%s\n' "$k" "$(redis-cli -p "$port" -n "$1" zrange "$k" 0 -1 withscores)"
		done
	}
	shard_history both
	# (An incremental sync into Redis after an append fails from SQLite
	# too: tests/ff-redis-review.bats.)
	for v in 1 2 3 4 5 6 7 8; do
		redis-cli -p "$port" -n 3 flushdb >/dev/null
		redis-cli -p "$port" -n 4 flushdb >/dev/null
		ff-sync-online -q -s sqlite.db --online "redis://127.0.0.1:$port/3" --full --as-of $v
		ff-sync-online -q -s "$PG_URL" --online "redis://127.0.0.1:$port/4" --full --as-of $v
		diff -u <(redis_dump 3) <(redis_dump 4)
	done
	[ "$(redis_dump 4 | wc -l)" -gt 100 ]
}

@test "rows taken for new that PostgreSQL has (written behind ff's back meanwhile): the push fails and leaves the table as it was" {
	events $T0 $((T0 + D)) 900 12 1 > e1.csv
	# (Two hours after the last: no stored window merged, all new.)
	events $((T0 + D + 7200)) $((T0 + 4 * D)) 900 12 2 > e2.csv
	ff-compute -q -s "$PG_URL" "${TBL[@]}" e1.csv
	mkfifo events.fifo
	ff-compute -q -s "$PG_URL" "${TBL[@]}" events.fifo 2> err &
	run_pid=$!
	wait_read
	# A row the run will also compute, put in by hand after it read.
	ff-compute -q -s scratch.db "${TBL[@]}" e2.csv
	row=$(sqlite3 scratch.db "SELECT k, datetime(window_end, 'unixepoch'), yyyy_mm FROM t ORDER BY window_end LIMIT 1 OFFSET 20")
	IFS='|' read -r k end part <<< "$row"
	pg_sql "INSERT INTO t VALUES ('$k', '$end', 999, 999, '$part')"
	before=$(pg_sql "SELECT count(*), sum(n), max(window_end) FROM t")
	cat e2.csv > events.fifo
	rc=0
	wait "$run_pid" || rc=$?
	echo "exit $rc"
	cat err
	[ "$rc" -eq 1 ]
	grep -q 'could not create unique index\|duplicate key' err
	[ "$(pg_sql "SELECT count(*), sum(n), max(window_end) FROM t")" = "$before" ]
	run pg_sql "SELECT count(*) FROM pg_constraint WHERE contype = 'p' AND conrelid = 't'::regclass"
	assert_output 1
	run pg_sql "SELECT max(version) FROM ff_versions"
	assert_output 1
}
