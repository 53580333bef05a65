#!/usr/bin/env bats
# The PostgreSQL offline store (ff-store(5), "PostgreSQL"): ff-compute writes
# it, every reader reads it, with the results of the SQLite store byte for
# byte. A throwaway PostgreSQL server runs for this file
# (test_helper/postgres.bash); each test has a database of its own.

load test_helper/common
load test_helper/postgres
load test_helper/redis
bats_require_minimum_version 1.5.0

PICKUP=$EXAMPLES/pickup_features.spec
DROPOFF=$EXAMPLES/dropoff_features.spec
SPECS=(-f "$PICKUP" -f "$DROPOFF")
TRAIN=$EXAMPLES/training_set.spec

setup_file() { pg_start; }
teardown_file() { pg_stop; }
teardown() { redis_stop_all; }

setup() {
	common_setup
	pg_newdb "t${BATS_TEST_NUMBER}"
	ff-gen-trips --rows 4000 --seed 5 --start 2018-01-01 --days 4 -o trips.csv
	# Two days of events, the second with late rows of the first.
	{ head -n 1 trips.csv; sed -n '2,2200p' trips.csv; } > day1.csv
	{ head -n 1 trips.csv; tail -n +2201 trips.csv; sed -n '2000,2050p' trips.csv; } > day2.csv
}

# train STORE OUT: the taxi training set from STORE into OUT.
train() {
	ff-train-set -q -s "$1" -f "$TRAIN" -b "$2.blueprint" -o "$2" trips.csv
}

# pg_dump_table TABLE: a feature table's rows in one text form.
pg_dump_table() {
	pg_sql "SELECT * FROM $1 ORDER BY 2, 1" | sed 's/|/,/g'
}

@test "ff-compute into PostgreSQL, then ff-train-set, ff-join and ff-monitor: the SQLite store's results" {
	# A TMPDIR of its own: other runs' private copies are not this test's.
	export TMPDIR=$PWD/tmp
	mkdir -p "$TMPDIR"
	for day in day1 day2; do
		ff-compute -s sqlite.db "${SPECS[@]}" "$day.csv"
		ff-compute -s "$PG_URL" "${SPECS[@]}" "$day.csv"
	done
	train sqlite.db want.csv
	train "$PG_URL" got.csv
	[ "$(wc -l < want.csv)" -eq 4001 ]
	cmp want.csv got.csv
	diff -u <(ff-join -q -s sqlite.db -f "$TRAIN" trips.csv) <(ff-join -q -s "$PG_URL" -f "$TRAIN" trips.csv)
	diff -u <(ff-monitor profile -s sqlite.db trip_pickup_features | tail -n +2) \
		<(ff-monitor profile -s "$PG_URL" trip_pickup_features | tail -n +2)
	# The same versions, change feed and batches.
	run pg_sql "SELECT table_name, version, operation, inserted, updated, deleted FROM ff_versions ORDER BY 1, 2"
	assert_output "$(sqlite3 sqlite.db "SELECT table_name, version, operation, inserted, updated, deleted
		FROM ff_versions ORDER BY 1, 2")"
	run pg_sql "SELECT version, op, extract(epoch FROM rounded_pickup_datetime)::bigint, pickup_zip
		FROM ff_changes_trip_pickup_features ORDER BY 1, 3, 4"
	assert_output "$(sqlite3 sqlite.db "SELECT * FROM ff_changes_trip_pickup_features ORDER BY 1, 3, 4")"
	[ -n "$output" ]
	run pg_sql "SELECT table_name, input_hash, version, rows FROM ff_batches ORDER BY 1, 3"
	assert_output "$(sqlite3 sqlite.db "SELECT table_name, input_hash, version, rows FROM ff_batches ORDER BY 1, 3")"
	# No private copy is left behind.
	run ls "$TMPDIR"
	refute_output --partial "ff-pg-"
}

@test "ff-sync-online from PostgreSQL: a full copy, then the change feed, as from SQLite" {
	online() {
		local t
		for t in trip_pickup_features trip_dropoff_features; do
			sqlite3 -batch "$1" "SELECT * FROM $t ORDER BY 1, 2"
		done
	}
	for day in day1 day2; do
		ff-compute -s sqlite.db "${SPECS[@]}" "$day.csv"
		ff-compute -s "$PG_URL" "${SPECS[@]}" "$day.csv"
		run ff-sync-online -v -s sqlite.db --online want.db
		want=$output
		run ff-sync-online -v -s "$PG_URL" --online got.db
		assert_success
		# (-v says too how many rows it read from PostgreSQL.)
		diff -u <(echo "$want") <(sed 's/; [0-9]* rows read$//' <<< "$output")
		diff -u <(online want.db) <(online got.db)
	done
	[[ "$output" == *"changes of version 1 -> 2"* ]]
	run sqlite3 got.db "SELECT DISTINCT source FROM ff_online_tables"
	assert_output "$PG_URL"
}

@test "ff-store ls, history and show on PostgreSQL: the SQLite store's, but the sizes; backup, restore refused" {
	for day in day1 day2; do
		ff-compute -s sqlite.db "${SPECS[@]}" "$day.csv"
		ff-compute -s "$PG_URL" "${SPECS[@]}" "$day.csv"
	done
	# ls: every column but last_write and the sizes (the server's).
	cols() { ff-store ls --format csv "$1" | cut -d, -f1-6; }
	diff -u <(cols sqlite.db) <(cols "$PG_URL")
	[ "$(cols "$PG_URL" | wc -l)" -eq 3 ]
	run ff-store ls --format csv "$PG_URL"
	assert_success
	# bytes: the table, change feed, window states and history, as SQLite's; history_bytes: the history.
	want=$(pg_sql "SELECT pg_total_relation_size('trip_pickup_features') + pg_total_relation_size('ff_changes_trip_pickup_features')
		+ pg_total_relation_size('ff_state_trip_pickup_features') + pg_total_relation_size('ff_history_trip_pickup_features')
		+ pg_total_relation_size('ff_histstate_trip_pickup_features') || ',' || pg_total_relation_size('ff_history_trip_pickup_features')
		+ pg_total_relation_size('ff_histstate_trip_pickup_features')")
	[[ "${lines[2]}" == trip_pickup_features,*,"$want" ]]
	for t in trip_pickup_features trip_dropoff_features; do
		diff -u <(ff-store history --format csv sqlite.db $t | cut -d, -f1,3-) \
			<(ff-store history --format csv "$PG_URL" $t | cut -d, -f1,3-)
		diff -u <(ff-store show sqlite.db $t) <(ff-store show "$PG_URL" $t)
	done
	[ "$(ff-store history "$PG_URL" trip_pickup_features | wc -l)" -eq 3 ]
	run ff-store show "$PG_URL" nosuch
	assert_failure 1
	assert_output "ff-store: $PG_URL: no table nosuch in the store"
	run ff-store backup "$PG_URL" copy.db
	assert_failure 1
	assert_output "ff-store: $PG_URL: backup works on a SQLite store only: back up a PostgreSQL store with pg_dump"
	[ ! -e copy.db ]
	run ff-store restore "$PG_URL" trip_pickup_features 1
	assert_failure 1
	assert_output "ff-store: $PG_URL: restore works on a SQLite store only: on PostgreSQL read an earlier version with --as-of, recompute a range with ff-compute --mode overwrite, or bring a whole store back with pg_restore"
	# Nothing changed.
	diff -u <(cols sqlite.db) <(cols "$PG_URL")
}

@test "ff-sync-online from PostgreSQL into Redis: a full copy, then the change feed, as from SQLite" {
	need_redis
	port=$(redis_start "$BATS_TEST_TMPDIR/redis")
	# redis_dump DB: every sorted set of the features in Redis database DB.
	redis_dump() {
		local k
		for k in $(redis-cli -p "$port" -n "$1" --scan --pattern 'ff:trip_*' | sort); do
			echo "$k"
			redis-cli -p "$port" -n "$1" zrange "$k" 0 -1 withscores
		done
	}
	for day in day1 day2; do
		ff-compute -s sqlite.db "${SPECS[@]}" "$day.csv"
		ff-compute -s "$PG_URL" "${SPECS[@]}" "$day.csv"
		run ff-sync-online -v -s sqlite.db --online "redis://127.0.0.1:$port/1"
		assert_success
		want=$output
		run ff-sync-online -v -s "$PG_URL" --online "redis://127.0.0.1:$port/2"
		assert_success
		# (-v says too how many rows it read from PostgreSQL.)
		diff -u <(echo "$want") <(sed 's/; [0-9]* rows read$//' <<< "$output")
		diff -u <(redis_dump 1) <(redis_dump 2)
	done
	[[ "$output" == *"changes of version 1 -> 2"* ]]
	[ "$(redis_dump 2 | wc -l)" -gt 1000 ]
	[ "$(redis-cli -p "$port" -n 2 hget 'ff:{catalog}:table:trip_pickup_features' source)" = "$PG_URL" ]
	for f in version rows definition columns; do
		[ "$(redis-cli -p "$port" -n 1 hget 'ff:{catalog}:table:trip_pickup_features' $f)" = \
			"$(redis-cli -p "$port" -n 2 hget 'ff:{catalog}:table:trip_pickup_features' $f)" ]
	done
	diff -u <(ff-store ls --format csv --online "redis://127.0.0.1:$port/1" sqlite.db | cut -d, -f1-6,10) \
		<(ff-store ls --format csv --online "redis://127.0.0.1:$port/2" "$PG_URL" | cut -d, -f1-6,10)
}

@test "psql reads the tables as they are: timestamps in UTC, numbers as numbers, primary keys" {
	ff-compute -s "$PG_URL" "${SPECS[@]}" trips.csv
	ff-compute -s sqlite.db "${SPECS[@]}" trips.csv
	run pg_sql "SELECT column_name, data_type FROM information_schema.columns
		WHERE table_name = 'trip_pickup_features' ORDER BY ordinal_position"
	assert_output "pickup_zip|text
rounded_pickup_datetime|timestamp without time zone
mean_fare_window_1h_pickup_zip|double precision
count_trips_window_1h_pickup_zip|bigint
yyyy_mm|text"
	run pg_sql "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid
		AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'trip_pickup_features'::regclass AND i.indisprimary
		ORDER BY array_position(i.indkey, a.attnum)"
	assert_output $'rounded_pickup_datetime\npickup_zip'
	# (The two shells print reals in their own ways: compare them to 9 places.)
	diff -u <(sqlite3 sqlite.db "SELECT pickup_zip, datetime(rounded_pickup_datetime, 'unixepoch'),
			printf('%.9f', mean_fare_window_1h_pickup_zip), count_trips_window_1h_pickup_zip, yyyy_mm
		FROM trip_pickup_features ORDER BY 2, 1") \
		<(pg_sql "SELECT pickup_zip, rounded_pickup_datetime, round(mean_fare_window_1h_pickup_zip::numeric, 9),
			count_trips_window_1h_pickup_zip, yyyy_mm FROM trip_pickup_features ORDER BY 2, 1")
	for col in name version primary_keys timestamp_key partition_column definition spec created_at; do
		diff -u <(sqlite3 sqlite.db "SELECT $col FROM ff_catalog ORDER BY name" | sed 's/..:..:..$//') \
			<(pg_sql "SELECT $col FROM ff_catalog ORDER BY name" | sed 's/..:..:..$//')
	done
	diff -u <(sqlite3 sqlite.db "SELECT * FROM ff_columns ORDER BY 1, 2") <(pg_sql "SELECT * FROM ff_columns ORDER BY 1, 2")
	# One identity, the same for every reader.
	run pg_sql "SELECT count(*), min(length(id)) FROM ff_store_info"
	assert_output "1|32"
	grep -q "^store-id $(pg_sql 'SELECT id FROM ff_store_info')\$" <(train "$PG_URL" got.csv; cat got.csv.blueprint)
}

@test "two shards in parallel against PostgreSQL give the unsharded SQLite tables" {
	ff-compute -s sqlite.db "${SPECS[@]}" day1.csv
	ff-compute -s sqlite.db "${SPECS[@]}" day2.csv
	for day in day1 day2; do
		ff-compute -s "$PG_URL" --shard 1/2 "${SPECS[@]}" "$day.csv" &
		one=$!
		ff-compute -s "$PG_URL" --shard 2/2 "${SPECS[@]}" "$day.csv" &
		two=$!
		wait "$one"
		wait "$two"
	done
	train sqlite.db want.csv
	train "$PG_URL" got.csv
	cmp want.csv got.csv
	run pg_sql "SELECT version, operation FROM ff_versions WHERE table_name = 'trip_pickup_features' ORDER BY 1"
	assert_output $'1|create\n2|merge\n3|merge\n4|merge'
	run pg_sql "SELECT count(DISTINCT shard), count(*) FROM ff_batches"
	assert_output "2|8"
	# A shard fed again is folded once.
	run --separate-stderr ff-compute -s "$PG_URL" --shard 2/2 "${SPECS[@]}" day2.csv
	assert_success
	[[ "$stderr" == *"already folded"* ]]
	run pg_sql "SELECT max(version) FROM ff_versions"
	assert_output 4
}

@test "a shard written after another: its rows, all new and as many, go in with the key built again" {
	ff-compute -s sqlite.db "${SPECS[@]}" trips.csv
	ff-compute -s "$PG_URL" --shard 1/2 "${SPECS[@]}" trips.csv
	ff-compute -s "$PG_URL" --shard 2/2 "${SPECS[@]}" trips.csv
	train sqlite.db want.csv
	train "$PG_URL" got.csv
	cmp want.csv got.csv
	run pg_sql "SELECT count(*) FROM pg_constraint WHERE contype = 'p'
		AND conrelid IN ('trip_pickup_features'::regclass, 'trip_dropoff_features'::regclass)"
	assert_output 2
	# A day more for every key: through the key (a fare changed: an update).
	awk -F, -v OFS=, 'NR == 2 { $4 = $4 + 1 } 1' day2.csv > day2b.csv
	ff-compute -s sqlite.db "${SPECS[@]}" day2b.csv
	ff-compute -s "$PG_URL" "${SPECS[@]}" day2b.csv
	train sqlite.db want.csv
	train "$PG_URL" got.csv
	cmp want.csv got.csv
}

@test "a merge copies the stored rows of the latest day, and earlier days only when late events reach them" {
	# Four days, then a day more: the copy holds the last day's rows only.
	ff-compute -s "$PG_URL" "${SPECS[@]}" trips.csv
	ff-compute -s sqlite.db "${SPECS[@]}" trips.csv
	ff-gen-trips --rows 800 --seed 6 --start 2018-01-05 --days 1 -o next.csv
	run --separate-stderr ff-compute -v -s "$PG_URL" -f "$PICKUP" next.csv
	assert_success
	copied=$(sed -n 's/^ff-compute: trip_pickup_features: .*; \([0-9]*\) stored rows copied$/\1/p' <<< "$stderr")
	last_day=$(pg_sql "SELECT count(*) FROM trip_pickup_features WHERE rounded_pickup_datetime >=
		(SELECT date_trunc('day', max(rounded_pickup_datetime)) FROM trip_pickup_features WHERE
		 rounded_pickup_datetime < '2018-01-05 05:00')")
	all=$(pg_sql "SELECT count(*) FROM trip_pickup_features WHERE rounded_pickup_datetime < '2018-01-05 05:00'")
	[ "$copied" -gt 0 ] && [ "$copied" -le "$last_day" ] && [ "$last_day" -lt $((all / 2)) ]
	ff-compute -s sqlite.db -f "$PICKUP" next.csv
	# Late events of the first day: its rows are copied, the windows merged.
	{ head -n 1 trips.csv; sed -n '2,40p' trips.csv | awk -F, -v OFS=, '{ $4 = $4 + 3 } 1'; } > late.csv
	run --separate-stderr ff-compute -v -s "$PG_URL" "${SPECS[@]}" late.csv
	assert_success
	[[ "$stderr" == *"trip_pickup_features: version 3: 0 inserted, "*" updated"* ]]
	copied=$(sed -n 's/^ff-compute: trip_pickup_features: .*; \([0-9]*\) stored rows copied$/\1/p' <<< "$stderr")
	[ "$copied" -eq "$(pg_sql 'SELECT count(*) FROM trip_pickup_features')" ]
	ff-compute -s sqlite.db "${SPECS[@]}" late.csv
	train sqlite.db want.csv
	train "$PG_URL" got.csv
	cmp want.csv got.csv
	for v in 1 2; do
		cmp <(ff-train-set -q -s sqlite.db -f "$TRAIN" -b bp --as-of $v trips.csv) \
			<(ff-train-set -q -s "$PG_URL" -f "$TRAIN" -b bp --as-of $v trips.csv)
	done
	# An overwrite copies them all.
	all=$(pg_sql 'SELECT count(*) FROM trip_pickup_features')
	run --separate-stderr ff-compute -v -s "$PG_URL" -f "$PICKUP" --mode overwrite next.csv
	assert_success
	[[ "$stderr" == *"; $all stored rows copied"* ]]
}

@test "two shards that both create a table: the later one's rows go into the earlier one's table" {
	# The catalog first, through another table; then the first shard holds
	# its push for 2 s, and the second reads the store before it commits.
	ff-compute -s "$PG_URL" --table other --time tpep_pickup_datetime --key pickup_zip --window 1h \
		--feature 'n=count(*)' day1.csv
	pg_sql "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN PERFORM pg_sleep(2); RETURN NULL; END\$\$;
		CREATE TRIGGER slow AFTER INSERT ON ff_batches FOR EACH STATEMENT EXECUTE FUNCTION slow()"
	ff-compute -s "$PG_URL" --shard 1/2 "${SPECS[@]}" trips.csv &
	first=$!
	sleep 1
	ff-compute -s "$PG_URL" --shard 2/2 "${SPECS[@]}" trips.csv
	wait "$first"
	run pg_sql "SELECT version, operation, inserted > 0 FROM ff_versions WHERE table_name = 'trip_pickup_features' ORDER BY 1"
	assert_output $'1|create|t\n2|merge|t'
	run pg_sql "SELECT count(*) FROM pg_constraint WHERE contype = 'p'
		AND conrelid IN ('trip_pickup_features'::regclass, 'ff_state_trip_pickup_features'::regclass)"
	assert_output 2
	ff-compute -s sqlite.db "${SPECS[@]}" trips.csv
	train sqlite.db want.csv
	train "$PG_URL" got.csv
	cmp want.csv got.csv
	# The second shard's rows are an append of its keys: no history, no
	# change feed; as of the first version the table holds the first shard's.
	run pg_sql "SELECT version, shard, (SELECT count(*) FROM ff_history_trip_pickup_features),
		(SELECT count(*) FROM ff_changes_trip_pickup_features) FROM ff_versions
		WHERE table_name = 'trip_pickup_features' ORDER BY 1"
	assert_output $'1|1/2|0|0\n2|2/2|0|0'
	ff-compute -s shard1.db --shard 1/2 "${SPECS[@]}" trips.csv
	train shard1.db want1.csv
	ff-train-set -q -s "$PG_URL" -f "$TRAIN" -b bp --as-of 1 -o got1.csv trips.csv
	cmp want1.csv got1.csv
	! cmp -s want1.csv got.csv
}

@test "an overwrite of a range in two shards into PostgreSQL: the unsharded SQLite overwrite" {
	ff-compute -s sqlite.db "${SPECS[@]}" trips.csv
	ff-compute -s "$PG_URL" "${SPECS[@]}" trips.csv
	range=(--mode overwrite --start 2018-01-02 --end 2018-01-04)
	ff-compute -s sqlite.db "${range[@]}" "${SPECS[@]}" day1.csv
	ff-compute -s "$PG_URL" --shard 1/2 "${range[@]}" "${SPECS[@]}" day1.csv
	ff-compute -s "$PG_URL" --shard 2/2 "${range[@]}" "${SPECS[@]}" day1.csv
	train sqlite.db want.csv
	train "$PG_URL" got.csv
	cmp want.csv got.csv
	run pg_sql "SELECT sum(deleted) > 0, count(*) FROM ff_versions WHERE table_name = 'trip_pickup_features'"
	assert_output "t|3"
	for t in trip_pickup_features ff_state_trip_pickup_features; do
		[ "$(pg_sql "SELECT count(*) FROM $t")" = "$(sqlite3 sqlite.db "SELECT count(*) FROM $t")" ]
	done
}

@test "a run that fails while pushing leaves PostgreSQL as it was; run again, it is folded once" {
	ff-compute -s "$PG_URL" "${SPECS[@]}" day1.csv
	ff-compute -s sqlite.db "${SPECS[@]}" day1.csv
	ff-compute -s sqlite.db "${SPECS[@]}" day2.csv
	pg_sql "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'boom'; END\$\$;
		CREATE TRIGGER boom BEFORE INSERT ON ff_batches FOR EACH STATEMENT EXECUTE FUNCTION boom()"
	dump() {
		pg_sql "SELECT * FROM trip_pickup_features ORDER BY 2, 1"
		pg_sql "SELECT *, md5(state) FROM ff_state_trip_pickup_features ORDER BY 1, 2"
		pg_sql "SELECT * FROM ff_changes_trip_pickup_features ORDER BY 1, 3, 4"
		pg_sql "SELECT name, version, updated_at FROM ff_catalog ORDER BY 1"
		pg_sql "SELECT table_name, version FROM ff_versions ORDER BY 1, 2"
	}
	dump > before.txt
	run --separate-stderr ff-compute -s "$PG_URL" "${SPECS[@]}" day2.csv
	assert_failure 1
	[[ "$stderr" == *boom* ]]
	dump > after.txt
	diff -u before.txt after.txt
	pg_sql "DROP TRIGGER boom ON ff_batches"
	ff-compute -s "$PG_URL" "${SPECS[@]}" day2.csv
	train sqlite.db want.csv
	train "$PG_URL" got.csv
	cmp want.csv got.csv
}

@test "a write that another run's write overlapped meanwhile fails and writes nothing" {
	ff-compute -s "$PG_URL" "${SPECS[@]}" day1.csv
	# The first run holds its push for 2 s; the second reads the store before
	# that push commits and pushes after it.
	pg_sql "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN PERFORM pg_sleep(2); RETURN NULL; END\$\$;
		CREATE TRIGGER slow AFTER INSERT ON ff_batches FOR EACH STATEMENT EXECUTE FUNCTION slow()"
	ff-compute -s "$PG_URL" -f "$PICKUP" day2.csv &
	first=$!
	sleep 1
	run --separate-stderr ff-compute -s "$PG_URL" --shard 1/2 -f "$PICKUP" trips.csv --mode overwrite
	wait "$first"
	assert_failure 1
	[[ "$stderr" == *"written by another run since this one read it"*"run again"* ]]
	run pg_sql "SELECT max(version) FROM ff_versions WHERE table_name = 'trip_pickup_features'"
	assert_output 2
}

@test "a password on the command line is refused; a store that is not one is said so; long names" {
	run -1 --separate-stderr ff-compute -s "postgresql://ff:secret@/$PGDATABASE?host=$PGHOST" -f "$PICKUP" trips.csv
	[[ "$stderr" == *"PGPASSFILE"* ]]
	run -1 --separate-stderr ff-train-set -s "$PG_URL" -f "$TRAIN" -b x.blueprint trips.csv
	[[ "$stderr" == *"not an ff store"* ]]
	run -1 --separate-stderr ff-compute -s "postgresql:///nosuchdb?host=$PGHOST&user=ff" -f "$PICKUP" trips.csv
	[[ "$stderr" == *"cannot connect"* ]]
	# A server that is not there: libpq's lines told on one.
	run -1 --separate-stderr ff-compute -s "postgresql:///x?host=$PWD/nosuchdir" -f "$PICKUP" trips.csv
	[[ "$stderr" == "ff-compute: postgresql:///x?host=$PWD/nosuchdir: cannot connect: "*"; Is the server running"* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	# A mistyped scheme is not taken for a file to make.
	run -1 --separate-stderr ff-compute -s "postgresq:///x?host=$PGHOST" -f "$PICKUP" trips.csv
	[ "$stderr" = "ff-compute: postgresq:///x?host=$PGHOST: not a PostgreSQL address (postgresql://...) and no such store file" ]
	[ ! -e postgresq: ]
	# PostgreSQL cuts names at 63 bytes: ff_changes_NAME must fit whole.
	name=t_$(printf 'x%.0s' {1..51})
	run -1 --separate-stderr ff-compute -s "$PG_URL" --table "$name" --time tpep_pickup_datetime \
		--key pickup_zip --window 1h --feature 'n=count(*)' trips.csv
	[ "$stderr" = "ff-compute: $PG_URL: table name $name is 53 bytes long, more than the 52 a PostgreSQL store takes" ]
	ff-compute -s "$PG_URL" --table "${name%x}" --time tpep_pickup_datetime \
		--key pickup_zip --window 1h --feature 'n=count(*)' trips.csv
	run pg_sql "SELECT to_regclass('ff_changes_${name%x}') IS NOT NULL"
	assert_output t
}

@test "the private copies that killed runs left in TMPDIR are removed by the next run" {
	mkdir tmp
	# A process that is gone: a pid beyond pid_max.
	dead=$(( $(cat /proc/sys/kernel/pid_max) + 1 ))
	touch "tmp/ff-pg-$dead-0.db.new-$dead" "tmp/ff-pg-$dead-1.db" "tmp/ff-pg-$$-0.db" tmp/other
	TMPDIR=$PWD/tmp ff-compute -s "$PG_URL" -f "$PICKUP" day1.csv
	run ls tmp
	assert_output "ff-pg-$$-0.db
other"
	# A killed run leaves its copy; the next one removes it.
	TMPDIR=$PWD/tmp ff-compute -s "$PG_URL" -f "$PICKUP" trips.csv --mode overwrite &
	pid=$!
	for _ in $(seq 100); do compgen -G "tmp/ff-pg-$pid-*" >/dev/null && break; sleep 0.02; done
	kill -KILL "$pid"
	wait "$pid" || true
	TMPDIR=$PWD/tmp ff-compute -s "$PG_URL" -f "$PICKUP" day2.csv
	run ls tmp
	assert_output "ff-pg-$$-0.db
other"
}

# pg_store_dump: what a failed or killed run must leave as it was.
pg_store_dump() {
	pg_sql "SELECT * FROM trip_pickup_features ORDER BY 2, 1"
	pg_sql "SELECT *, md5(state) FROM ff_state_trip_pickup_features ORDER BY 1, 2"
	pg_sql "SELECT * FROM ff_changes_trip_pickup_features ORDER BY 1, 3, 4"
	pg_sql "SELECT name, version, updated_at FROM ff_catalog ORDER BY 1"
	pg_sql "SELECT table_name, version FROM ff_versions ORDER BY 1, 2"
	pg_sql "SELECT relname FROM pg_class WHERE relname NOT LIKE 'pg_%' AND relname NOT LIKE 'sql_%' ORDER BY 1"
}

@test "new rows stream into PostgreSQL as the run computes; windows merged again later in the run are sent again" {
	# Enough rows for several COPYs of streamed rows; with a lateness of a
	# minute, the events of the first day appended at the end merge into
	# windows that were written (and streamed) long before: in a table the
	# run creates, then in one it merges into.
	ff-gen-trips --rows 40000 --seed 7 --start 2018-01-01 --days 4 -o big.csv
	{ cat big.csv; sed -n '2,3000p' big.csv; } > late1.csv
	ff-gen-trips --rows 20000 --seed 8 --start 2018-01-05 --days 4 -o big.csv
	{ cat big.csv; sed -n '2,2000p' big.csv; } > late2.csv
	for store in sqlite.db "$PG_URL"; do
		ff-compute -s "$store" --lateness 1m "${SPECS[@]}" late1.csv
		ff-compute -s "$store" --lateness 1m "${SPECS[@]}" late2.csv
	done
	run pg_sql "SELECT table_name, version, operation, inserted, updated, deleted FROM ff_versions ORDER BY 1, 2"
	assert_output "$(sqlite3 sqlite.db "SELECT table_name, version, operation, inserted, updated, deleted
		FROM ff_versions ORDER BY 1, 2")"
	run pg_sql "SELECT count(*) FROM ff_changes_trip_pickup_features WHERE version = 2 AND op = 'update'"
	[ "$output" -gt 10 ]
	for t in trip_pickup_features ff_state_trip_pickup_features trip_dropoff_features; do
		[ "$(pg_sql "SELECT count(*) FROM $t")" = "$(sqlite3 sqlite.db "SELECT count(*) FROM $t")" ]
	done
	for day in late1 late2; do
		ff-train-set -q -s sqlite.db -f "$TRAIN" -b want.blueprint -o want.csv "$day.csv"
		ff-train-set -q -s "$PG_URL" -f "$TRAIN" -b got.blueprint -o got.csv "$day.csv"
		cmp want.csv got.csv
	done
}

@test "a run that fails or is killed while its rows stream into PostgreSQL leaves it as it was" {
	ff-compute -s "$PG_URL" "${SPECS[@]}" day1.csv
	ff-gen-trips --rows 100000 --seed 7 --start 2018-01-05 --days 4 -o big.csv
	pg_store_dump > before.txt
	# A bad row at the end: the rows before it were streamed already.
	{ cat big.csv; echo '2018-01-09 00:00:00,2018-01-09 00:10:00,1.0,oops,7,8'; } > bad.csv
	run --separate-stderr ff-compute -s "$PG_URL" "${SPECS[@]}" bad.csv
	assert_failure 1
	[[ "$stderr" == *"bad.csv:100002: "* ]]
	pg_store_dump > after.txt
	diff -u before.txt after.txt
	# Killed once its rows stream (its COPY seen by the server), while it
	# waits for the rest of its input.
	mkfifo in.fifo
	ff-compute -s "$PG_URL" --lateness 1h "${SPECS[@]}" in.fifo &
	pid=$!
	exec 6>in.fifo
	cat big.csv >&6
	seen=0
	for _ in $(seq 1000); do
		[ "$(pg_sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY ff_stage%'")" != 0 ] && seen=1 && break
		sleep 0.01
	done
	kill -KILL "$pid"
	wait "$pid" || true
	exec 6>&-
	[ "$seen" = 1 ]
	for _ in $(seq 1000); do
		[ "$(pg_sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY ff_stage%'")" = 0 ] && break
		sleep 0.01
	done
	pg_store_dump > after.txt
	diff -u before.txt after.txt
	# Run again: written once, as SQLite has it.
	ff-compute -s "$PG_URL" "${SPECS[@]}" big.csv
	ff-compute -s sqlite.db "${SPECS[@]}" day1.csv
	ff-compute -s sqlite.db "${SPECS[@]}" big.csv
	ff-train-set -q -s sqlite.db -f "$TRAIN" -b want.blueprint -o want.csv big.csv
	ff-train-set -q -s "$PG_URL" -f "$TRAIN" -b got.blueprint -o got.csv big.csv
	cmp want.csv got.csv
}

@test "a write that changes no row of a table leaves no staging table behind" {
	ff-compute -s "$PG_URL" "${SPECS[@]}" trips.csv
	pg_store_dump > before.txt
	# The same events in another order: another batch, the same windows.
	{ head -n 1 trips.csv; tail -n +2 trips.csv | sort -r; } > reversed.csv
	run --separate-stderr ff-compute -v -s "$PG_URL" "${SPECS[@]}" --mode overwrite reversed.csv
	assert_success
	[[ "$stderr" == *"trip_pickup_features: version 1: 0 inserted, 0 updated, 0 deleted"* ]]
	pg_store_dump > after.txt
	diff -u before.txt after.txt
	run pg_sql "SELECT count(*) FROM ff_batches WHERE table_name = 'trip_pickup_features'"
	assert_output 2
}

# The same writes into sqlite.db and PostgreSQL: the first 1500 trips; the
# next 1100 with late ones (rewriting windows); an overwrite of half a day
# with other fares; then the rest of the trips and other fares of early ones
# in two shards (in parallel into PostgreSQL: both append).
history_writes() {
	{ head -n 1 trips.csv; sed -n '2,1501p' trips.csv; } > h1.csv
	{ head -n 1 trips.csv; sed -n '1502,2601p;1400,1450p' trips.csv; } > h2.csv
	awk -F, -v OFS=, 'NR > 1 && NR % 3 == 0 { $4 = $4 + 1 } 1' h1.csv > over.csv
	{ head -n 1 trips.csv; tail -n +2602 trips.csv; sed -n '100,140p' trips.csv |
		awk -F, -v OFS=, '{ $4 = $4 + 2 } 1'; } > h3.csv
	for f in h1 h2; do
		ff-compute -s sqlite.db "${SPECS[@]}" $f.csv
		ff-compute -s "$PG_URL" "${SPECS[@]}" $f.csv
	done
	range=(--mode overwrite --start '2018-01-01 12:00:00' --end 2018-01-02)
	ff-compute -s sqlite.db "${range[@]}" "${SPECS[@]}" over.csv
	ff-compute -s "$PG_URL" "${range[@]}" "${SPECS[@]}" over.csv
	ff-compute -s "$PG_URL" --shard 1/2 "${SPECS[@]}" h3.csv &
	one=$!
	ff-compute -s "$PG_URL" --shard 2/2 "${SPECS[@]}" h3.csv &
	two=$!
	wait "$one"
	wait "$two"
	# The SQLite store's shards in the order PostgreSQL took their pushes.
	for shard in $(pg_sql "SELECT shard FROM ff_batches WHERE table_name = 'trip_pickup_features'
			AND version > 3 ORDER BY version"); do
		ff-compute -s sqlite.db --shard "$shard" "${SPECS[@]}" h3.csv
	done
}

@test "--as-of on PostgreSQL: every earlier version as from the SQLite store after the same writes" {
	history_writes
	run pg_sql "SELECT version, operation FROM ff_versions WHERE table_name = 'trip_pickup_features' ORDER BY 1"
	assert_output $'1|create\n2|merge\n3|overwrite\n4|merge\n5|merge'
	[ "$(pg_sql 'SELECT count(*) FROM ff_history_trip_pickup_features')" -gt 0 ]
	for v in 1 2 3 4; do
		ff-train-set -q -s sqlite.db -f "$TRAIN" -b bp --as-of $v -o want$v.csv trips.csv
		ff-train-set -q -s "$PG_URL" -f "$TRAIN" -b bp --as-of $v -o got$v.csv trips.csv
		cmp want$v.csv got$v.csv
	done
	! cmp -s want1.csv want2.csv
	! cmp -s want2.csv want3.csv
	! cmp -s want3.csv want4.csv
	train sqlite.db want.csv
	train "$PG_URL" got.csv
	cmp want.csv got.csv
	diff -u <(ff-join -q -s sqlite.db -f "$TRAIN" --as-of 2 trips.csv) \
		<(ff-join -q -s "$PG_URL" -f "$TRAIN" --as-of 2 trips.csv)
	diff -u <(ff-monitor profile -s sqlite.db --as-of 1 trip_dropoff_features | tail -n +2) \
		<(ff-monitor profile -s "$PG_URL" --as-of 1 trip_dropoff_features | tail -n +2)
	ff-sync-online -q -s sqlite.db --online want.db --full --as-of 3
	ff-sync-online -q -s "$PG_URL" --online got.db --full --as-of 3
	for t in trip_pickup_features trip_dropoff_features; do
		diff -u <(sqlite3 want.db "SELECT * FROM $t ORDER BY 1, 2") <(sqlite3 got.db "SELECT * FROM $t ORDER BY 1, 2")
	done
	# The history's columns are the table's but the partition, timestamps as timestamp.
	run pg_sql "SELECT column_name, data_type FROM information_schema.columns
		WHERE table_name = 'ff_history_trip_pickup_features' ORDER BY ordinal_position"
	assert_output "pickup_zip|text
rounded_pickup_datetime|timestamp without time zone
mean_fare_window_1h_pickup_zip|double precision
count_trips_window_1h_pickup_zip|bigint
ff_valid_to|bigint"
}

@test "ff-train-set --reproduce from PostgreSQL after merges; a replace ends the history" {
	ff-compute -s "$PG_URL" "${SPECS[@]}" day1.csv
	train "$PG_URL" ts.csv
	ff-compute -s "$PG_URL" "${SPECS[@]}" day2.csv
	ff-compute -s "$PG_URL" "${SPECS[@]}" --mode overwrite trips.csv
	train "$PG_URL" now.csv
	! cmp -s ts.csv now.csv
	ff-train-set --reproduce ts.csv.blueprint -o again.csv trips.csv
	cmp ts.csv again.csv
	sed 's/^window .*/window 30m/' "$PICKUP" > pickup30.spec
	ff-compute -s "$PG_URL" -f pickup30.spec --replace day1.csv
	run -1 --separate-stderr ff-train-set --reproduce ts.csv.blueprint -o x.csv trips.csv
	[ "$stderr" = "ff-train-set: $PG_URL: table trip_pickup_features: version 1 is gone: the table was replaced at version 4, the oldest one kept" ]
	[ "$(pg_sql 'SELECT count(*) FROM ff_history_trip_pickup_features')" -eq 0 ]
}

@test "a PostgreSQL table written before the store kept history is readable from its next write on" {
	for f in day1 day2 trips; do
		ff-compute -s sqlite.db "${SPECS[@]}" $f.csv
	done
	ff-compute -s "$PG_URL" "${SPECS[@]}" day1.csv
	ff-compute -s "$PG_URL" "${SPECS[@]}" day2.csv
	# As an earlier ff left it.
	pg_sql "DROP TABLE ff_history_trip_pickup_features, ff_histstate_trip_pickup_features, ff_retention"
	run -1 --separate-stderr ff-train-set -q -s "$PG_URL" -f "$TRAIN" -b bp --as-of 1 -o x.csv trips.csv
	[ "$stderr" = "ff-train-set: $PG_URL: table trip_pickup_features: version 1 was written before the store kept history; the oldest version kept is 2" ]
	ff-compute -s "$PG_URL" "${SPECS[@]}" trips.csv
	run pg_sql "SELECT * FROM ff_retention"
	assert_output "trip_pickup_features|2|0|start"
	for v in 2 3; do
		cmp <(ff-train-set -q -s sqlite.db -f "$TRAIN" -b bp --as-of $v trips.csv) \
			<(ff-train-set -q -s "$PG_URL" -f "$TRAIN" -b bp --as-of $v trips.csv)
	done
	run -1 --separate-stderr ff-join -q -s "$PG_URL" -f "$TRAIN" --as-of 1 trips.csv
	[ "$stderr" = "ff-join: $PG_URL: table trip_pickup_features: version 1 was written before the store kept history; the oldest version kept is 2" ]
}

@test "a PostgreSQL store made before versions had shards reads as one whose appends are of every key" {
	ff-compute -s "$PG_URL" "${SPECS[@]}" day1.csv
	ff-compute -s "$PG_URL" "${SPECS[@]}" day2.csv
	ff-compute -s sqlite.db "${SPECS[@]}" day1.csv
	pg_sql "ALTER TABLE ff_versions DROP COLUMN shard"
	cmp <(ff-train-set -q -s sqlite.db -f "$TRAIN" -b bp trips.csv) \
		<(ff-train-set -q -s "$PG_URL" -f "$TRAIN" -b bp --as-of 1 trips.csv)
	# Its next write adds the column; the versions before it have none.
	ff-compute -s "$PG_URL" --shard 1/2 "${SPECS[@]}" trips.csv
	run pg_sql "SELECT version, coalesce(shard, '-') FROM ff_versions WHERE table_name = 'trip_pickup_features' ORDER BY 1"
	assert_output $'1|-\n2|-\n3|1/2'
	ff-compute -s sqlite.db "${SPECS[@]}" day2.csv
	cmp <(ff-train-set -q -s sqlite.db -f "$TRAIN" -b bp trips.csv) \
		<(ff-train-set -q -s "$PG_URL" -f "$TRAIN" -b bp --as-of 2 trips.csv)
}

@test "ff-store vacuum on PostgreSQL: the SQLite store's pruning; a vacuumed version fails as there" {
	history_writes
	ff-train-set -q -s sqlite.db -f "$TRAIN" -b want.bp --as-of 1 -o want.csv trips.csv
	ff-train-set -q -s "$PG_URL" -f "$TRAIN" -b got.bp --as-of 1 -o got.csv trips.csv
	cmp want.csv got.csv
	ff-train-set --reproduce got.bp -o again.csv trips.csv
	cmp want.csv again.csv
	run -0 ff-store vacuum --keep-versions 2 sqlite.db
	want=$(awk '{ print $1, $2 }' <<< "$output")
	# The rows it removes: those of the versions it drops. (Fewer than
	# SQLite's: a shard's append into PostgreSQL leaves no mark of its keys.)
	removed=$(pg_sql "SELECT 'trip_dropoff_features', 3, (SELECT count(*) FROM ff_history_trip_dropoff_features
			WHERE ff_valid_to <= 3), (SELECT count(*) FROM ff_changes_trip_dropoff_features WHERE version <= 3)
		UNION ALL SELECT 'trip_pickup_features', 4, (SELECT count(*) FROM ff_history_trip_pickup_features
			WHERE ff_valid_to <= 4), (SELECT count(*) FROM ff_changes_trip_pickup_features WHERE version <= 4)")
	run -0 ff-store vacuum --keep-versions 2 "$PG_URL"
	[ "$(awk '{ print $1, $2 }' <<< "$output")" = "$want" ]
	[ "$(tail -n +2 <<< "$output" | awk '{ print $1 "|" $2 "|" $3 "|" $4 }')" = "$removed" ]
	[ "$(pg_sql 'SELECT count(*) FROM ff_history_trip_pickup_features WHERE ff_valid_to <= 4')" -eq 0 ]
	run pg_sql "SELECT * FROM ff_retention ORDER BY 1"
	assert_output "$(sqlite3 sqlite.db 'SELECT * FROM ff_retention ORDER BY 1')"
	# (One message per table, in the order the tables are read.)
	run -1 --separate-stderr ff-train-set --reproduce want.bp -o x.csv trips.csv
	want=$(sort <<< "${stderr//$PWD\/sqlite.db/STORE}")
	run -1 --separate-stderr ff-train-set --reproduce got.bp -o x.csv trips.csv
	diff -u <(echo "$want") <(sort <<< "${stderr//$PG_URL/STORE}")
	[[ "$want" == *"ff-train-set: STORE: table trip_dropoff_features: version 1 was removed by vacuum; the oldest version kept is 3"* ]]
	run -3 --separate-stderr ff-monitor profile -s sqlite.db --as-of 1 trip_dropoff_features
	want=${stderr//sqlite.db/STORE}
	run -3 --separate-stderr ff-monitor profile -s "$PG_URL" --as-of 1 trip_dropoff_features
	[ "${stderr//$PG_URL/STORE}" = "$want" ]
	[[ "$want" == "ff-monitor: STORE: table trip_dropoff_features: version 1 was removed by vacuum"* ]]
	[ ! -e x.csv ]
	cmp <(ff-train-set -q -s sqlite.db -f "$TRAIN" -b bp --as-of 4 trips.csv) \
		<(ff-train-set -q -s "$PG_URL" -f "$TRAIN" -b bp --as-of 4 trips.csv)
	# The change feed too: a sync from before it copies all, as from SQLite.
	run pg_sql "SELECT min(version) FROM ff_changes_trip_pickup_features"
	assert_output "$(sqlite3 sqlite.db 'SELECT min(version) FROM ff_changes_trip_pickup_features')"
}

@test "an incremental sync from PostgreSQL reads the change feed and the rows it names, not the tables" {
	{ head -n 1 trips.csv; sed -n '2,3961p' trips.csv; } > most.csv
	{ head -n 1 trips.csv; tail -n +3962 trips.csv; } > last.csv
	# Late trips with other fares: windows all over the days are rewritten.
	{ head -n 1 trips.csv; sed -n '500,539p' trips.csv | awk -F, -v OFS=, '{ $4 = $4 + 3 } 1'; } > late.csv
	online() {
		local t
		for t in trip_pickup_features trip_dropoff_features; do
			sqlite3 -batch "$1" "SELECT * FROM $t ORDER BY 1, 2"
		done
	}
	for f in most last late; do
		ff-compute -s sqlite.db "${SPECS[@]}" $f.csv
		ff-compute -s "$PG_URL" "${SPECS[@]}" $f.csv
		run -0 ff-sync-online -v -s sqlite.db --online want.db trip_pickup_features trip_dropoff_features
		want=$output
		run -0 ff-sync-online -v -s "$PG_URL" --online got.db trip_pickup_features trip_dropoff_features
		diff -u <(echo "$want") <(sed 's/; [0-9]* rows read$//' <<< "$output")
		diff -u <(online want.db) <(online got.db)
		echo "$output" >> sync.log
		pg_sql "SELECT count(*) FROM trip_pickup_features" >> rows.log
	done
	cat sync.log
	rows=$(head -n 1 rows.log)
	# The first sync copies every row; then each reads what it writes (and
	# the change feed after the version synced), about 1% of the rows.
	rows_read() { sed -n "${1}p" sync.log | sed 's/.*; \([0-9]*\) rows read$/\1/'; }
	[ "$(rows_read 1)" -ge "$rows" ]
	for n in 3 5; do
		line=$(sed -n "${n}p" sync.log)
		[[ "$line" == *"trip_pickup_features: changes of version"* ]]
		upserted=$(sed 's/.*: \([0-9]*\) upserted.*/\1/' <<< "$line")
		[ "$upserted" -gt 0 ]
		[ "$(rows_read $n)" -ge "$upserted" ]
		[ "$(rows_read $n)" -le $((rows / 25)) ]
	done
	# Copied whole again with --full: the rows, not the change feed.
	run -0 ff-sync-online -v --full -s "$PG_URL" --online got.db trip_pickup_features
	[[ "$output" == *"; $(pg_sql "SELECT count(*) FROM trip_pickup_features") rows read" ]]
}

@test "features added to a PostgreSQL table: its columns, its history's, and the definitions it had, as in SQLite" {
	T=(--table w --time tpep_pickup_datetime --key pickup_zip --window 1h --feature 'n=count(*)' --mode overwrite)
	for st in sqlite.db "$PG_URL"; do
		ff-compute -q -s "$st" "${T[@]}" day1.csv
		ff-compute -q -s "$st" "${T[@]}" --feature 'm=max(fare_amount)' day1.csv day2.csv
		ff-compute -q -s "$st" "${T[@]}" --feature 'm=max(fare_amount)' --feature 'k=min(fare_amount)' trips.csv
	done
	run pg_sql "SELECT * FROM ff_definitions ORDER BY 1, 2"
	assert_output "$(sqlite3 sqlite.db 'SELECT * FROM ff_definitions ORDER BY 1, 2')"
	[ "$(pg_sql 'SELECT count(*) FROM ff_definitions')" -eq 2 ]
	# (The added columns come last in the SQLite table, in the order of the
	# definition in PostgreSQL's copy: the same lines, in another order.)
	for v in 1 2 3; do
		diff -u <(ff-monitor profile -s sqlite.db --as-of $v w | tail -n +2 | sort) \
			<(ff-monitor profile -s "$PG_URL" --as-of $v w | tail -n +2 | sort)
	done
	run pg_sql "SELECT count(*) FROM information_schema.columns WHERE table_name = 'ff_history_w' AND column_name IN ('m', 'k')"
	assert_output 2
}

@test "an incremental sync from PostgreSQL into Redis reads the change feed and the rows it names" {
	need_redis
	port=$(redis_start "$BATS_TEST_TMPDIR/redis")
	{ head -n 1 trips.csv; sed -n '2,3961p' trips.csv; } > most.csv
	{ head -n 1 trips.csv; tail -n +3962 trips.csv; sed -n '500,539p' trips.csv |
		awk -F, -v OFS=, '{ $4 = $4 + 3 } 1'; } > more.csv
	for f in most more; do
		ff-compute -s sqlite.db "${SPECS[@]}" $f.csv
		ff-compute -s "$PG_URL" "${SPECS[@]}" $f.csv
		run -0 ff-sync-online -v -s sqlite.db --online "redis://127.0.0.1:$port/1" trip_pickup_features
		want=$output
		run -0 ff-sync-online -v -s "$PG_URL" --online "redis://127.0.0.1:$port/2" trip_pickup_features
		diff -u <(echo "$want") <(sed 's/; [0-9]* rows read$//' <<< "$output")
	done
	[[ "$output" == *"changes of version 1 -> 2: "*" upserted"* ]]
	read=$(sed 's/.*; \([0-9]*\) rows read$/\1/' <<< "$output")
	upserted=$(sed 's/.*: \([0-9]*\) upserted.*/\1/' <<< "$output")
	[ "$read" -ge "$upserted" ]
	[ "$read" -le $(($(pg_sql "SELECT count(*) FROM trip_pickup_features") / 10)) ]
	diff -u <(ff-store ls --format csv --online "redis://127.0.0.1:$port/1" sqlite.db | cut -d, -f1-6,10 | grep pickup) \
		<(ff-store ls --format csv --online "redis://127.0.0.1:$port/2" "$PG_URL" | cut -d, -f1-6,10 | grep pickup)
}
