#!/usr/bin/env bats
# ff-store and time travel (ff-store(1), ff-store(5) History): every reader
# of a table as of a version gives the rows the table held at that version,
# checked against a copy of the table taken right after each write.

load test_helper/common
bats_require_minimum_version 1.5.0

EVENTS=$BATS_TEST_DIRNAME/fixtures/join/events.csv

setup() {
	common_setup
	cat > small.spec <<'EOF'
derive    r=ceil(when, 15m)
lookup    zone
key       zip
timestamp r
features  total,n
label     fare
exclude   r
inputs    dist,zip
EOF
	cat > small.csv <<'EOF'
id,when,zip,dist,fare
1,2018-01-01 10:15:00,10001,1.5,12
2,2018-01-01 10:20:00,10002,2,8.5
3,2018-01-01 10:50:00,10001,0.5,
4,2018-01-01 09:00:00,10003,3,20
5,2018-01-01 12:20:00,10002,3,20
EOF
	# m1: a late trip into a stored window and a new window (an append);
	# m2: a late trip into a stored window and one into a new past window;
	# ow: the only trip of 10:00-11:00 once that range is recomputed.
	printf 'time,zip,vendor,fare\n2018-01-01 10:07:00,10001,v1,30\n2018-01-01 12:05:00,10002,v1,9\n' > m1.csv
	printf 'time,zip,vendor,fare\n2018-01-01 10:21:00,10002,v1,100\n2018-01-01 09:05:00,10003,v1,5\n' > m2.csv
	printf 'time,zip,vendor,fare\n2018-01-01 10:30:00,10001,v1,1\n' > ow.csv
}

# compute ARGS...: the zone table of the join tests, 15 min windows.
compute() {
	ff-compute -q -s store.db --table zone --time time --key zip --timestamp-key t_end \
		--window 15m --feature 'n=count(*)' --feature 'total=sum(fare)' \
		--feature 'mean=mean(fare)' --lateness unbounded "$@"
}

COLS="zip, t_end, n, total, mean, yyyy_mm"

# snap V [COLUMNS]: the rows of zone now, as version V's oracle.
snap() { q store.db "SELECT ${2:-$COLS} FROM zone ORDER BY t_end, zip" > "v$1.rows"; }

# as_of V [COLUMNS]: the rows of zone as of V, read through ff-sync-online --full --as-of.
as_of() {
	rm -f online.db
	ff-sync-online -q -s store.db --online online.db --full --as-of "$1" zone
	q online.db "SELECT ${2:-$COLS} FROM zone ORDER BY t_end, zip"
}

# The five versions: create, merge, merge, overwrite of a range, widened by a feature.
history_of_zone() {
	compute "$EVENTS" && snap 1
	compute m1.csv && snap 2
	compute m2.csv && snap 3
	compute --mode overwrite --start '2018-01-01 10:00:00' --end '2018-01-01 11:00:00' ow.csv && snap 4
	ff-compute -q -s store.db --table zone --time time --key zip --timestamp-key t_end \
		--window 15m --feature 'n=count(*)' --feature 'total=sum(fare)' \
		--feature 'mean=mean(fare)' --feature 'top=max(fare)' --lateness unbounded \
		--mode overwrite "$EVENTS" m1.csv m2.csv && snap 5 "$COLS, top"
}

@test "every version reads back as the table was right after its write" {
	history_of_zone
	[ "$(q store.db "SELECT group_concat(operation, ' ') FROM ff_versions")" = \
		"create merge merge overwrite overwrite" ]
	for v in 1 2 3 4; do
		as_of $v | diff -u "v$v.rows" - || fail "version $v"
		# Earlier versions read the added feature as NULL.
		[ "$(as_of $v 'count(top)')" = 0 ]
	done
	as_of 5 "$COLS, top" | diff -u v5.rows -
}

@test "appends cost no history; updates and deletes keep the rows they replace" {
	compute "$EVENTS"
	printf 'time,zip,vendor,fare\n2018-01-01 12:05:00,10002,v1,9\n' > append.csv
	compute append.csv
	[ "$(q store.db 'SELECT count(*) FROM ff_history_zone')" = 0 ]
	compute m2.csv
	# One update (10002 10:30) and one insert into the stored range (10003
	# 09:15): a key absent before has a NULL state beside its history row.
	q store.db "SELECT zip, t_end, ff_valid_to, s.ff_valid_to IS NULL OR s.state IS NOT NULL, n
		FROM ff_history_zone LEFT JOIN ff_histstate_zone AS s USING (zip, t_end, ff_valid_to)
		ORDER BY t_end" > got
	diff -u - got <<'EOF'
10003|1514798100|3|0|
10002|1514802600|3|1|2
EOF
	# The partition column is the month of the time: history rows omit it.
	[ "$(q store.db "SELECT count(*) FROM pragma_table_info('ff_history_zone') WHERE name = 'yyyy_mm'")" = 0 ]
}

@test "a history written before ff_histstate_ is brought to today's form by the next write" {
	compute "$EVENTS" && snap 1
	compute m1.csv && snap 2
	compute m2.csv && snap 3
	# The form of before: the partition column, ff_present and ff_state in the rows.
	q store.db "CREATE TABLE old (zip TEXT NOT NULL, t_end INTEGER NOT NULL, n INTEGER, total REAL,
			mean REAL, yyyy_mm TEXT, ff_valid_to INTEGER NOT NULL, ff_present INTEGER NOT NULL,
			ff_state BLOB, PRIMARY KEY (t_end, zip, ff_valid_to)) WITHOUT ROWID;
		INSERT INTO old SELECT h.zip, h.t_end, n, total, mean, strftime('%Y-%m', h.t_end, 'unixepoch'),
			h.ff_valid_to, s.ff_valid_to IS NULL OR s.state IS NOT NULL, s.state
			FROM ff_history_zone AS h LEFT JOIN ff_histstate_zone AS s USING (zip, t_end, ff_valid_to);
		DROP TABLE ff_history_zone; DROP TABLE ff_histstate_zone; ALTER TABLE old RENAME TO ff_history_zone"
	[ "$(q store.db 'SELECT sum(ff_present) || "/" || count(*) FROM ff_history_zone')" = 2/3 ]
	run -1 --separate-stderr ff-sync-online -q -s store.db --online online.db --full --as-of 1 zone
	[ "$stderr" = "ff-sync-online: store.db: table zone: its history has the form of an earlier ff: write the table once with this one (ff-compute) to read its earlier versions" ]
	# A late trip into a stored window: an update kept in the new form.
	printf 'time,zip,vendor,fare\n2018-01-01 10:22:00,10001,v1,7\n' > m3.csv
	compute m3.csv && snap 4
	for v in 1 2 3 4; do
		as_of $v | diff -u "v$v.rows" - || fail "version $v"
	done
	[ "$(q store.db "SELECT count(*) FROM pragma_table_info('ff_history_zone') WHERE name = 'ff_present'")" = 0 ]
}

@test "--as-of a time reads the version current then; versions out of reach fail clearly" {
	compute "$EVENTS"
	q store.db "UPDATE ff_versions SET committed_at = '2020-01-01 00:00:00'"
	compute m1.csv
	ff-join -s store.db -f small.spec --as-of 1 small.csv > v1.csv
	ff-join -s store.db -f small.spec --as-of '2020-06-01' small.csv > t.csv
	diff -u v1.csv t.csv
	ff-join -s store.db -f small.spec small.csv > latest.csv
	! diff -q v1.csv latest.csv
	run -1 --separate-stderr ff-join -s store.db -f small.spec --as-of 2019-12-31 small.csv
	[ "$stderr" = "ff-join: store.db: table zone had no version yet at 2019-12-31 00:00:00" ]
	run -1 --separate-stderr ff-join -s store.db -f small.spec --as-of 3 small.csv
	[ "$stderr" = "ff-join: store.db: table zone has no version 3: its latest is 2" ]
	run -2 --separate-stderr ff-join -s store.db -f small.spec --as-of yesterday small.csv
	[[ "$stderr" == "ff-join: --as-of: 'yesterday' is neither a version nor a time"* ]]
	run -2 --separate-stderr ff-sync-online -s store.db --online o.db --as-of 1
	[[ "$stderr" == "ff-sync-online: --as-of copies tables whole: give --full, without --follow"* ]]
	compute --replace --feature 'x=max(fare)' "$EVENTS"
	run -1 --separate-stderr ff-join -s store.db -f small.spec --as-of 1 small.csv
	[ "$stderr" = "ff-join: store.db: table zone: version 1 is gone: the table was replaced at version 3, the oldest one kept" ]
}

@test "a store made before versions had shards reads its earlier versions as before" {
	compute "$EVENTS"
	ff-join -s store.db -f small.spec small.csv > v1.csv
	compute m1.csv
	q store.db "ALTER TABLE ff_versions DROP COLUMN shard"
	ff-join -s store.db -f small.spec --as-of 1 small.csv | diff -u v1.csv -
	compute m2.csv
	ff-join -s store.db -f small.spec --as-of 1 small.csv | diff -u v1.csv -
	run q store.db "SELECT count(*) FROM pragma_table_info('ff_versions') WHERE name = 'shard'"
	assert_output 0
}

@test "a training set reproduced byte for byte after merges, an overwrite and a new feature" {
	compute "$EVENTS"
	ff-train-set -q -s store.db -f small.spec -b bp -o ts.csv small.csv
	compute m1.csv
	compute m2.csv
	compute --mode overwrite --start '2018-01-01 10:00:00' --end '2018-01-01 11:00:00' ow.csv
	ff-compute -q -s store.db --table zone --time time --key zip --timestamp-key t_end \
		--window 15m --feature 'n=count(*)' --feature 'total=sum(fare)' \
		--feature 'mean=mean(fare)' --feature 'top=max(fare)' --lateness unbounded \
		--mode overwrite "$EVENTS" m1.csv m2.csv
	# The tables moved on: the same spec now gives another training set.
	ff-train-set -q -s store.db -f small.spec -b bp2 -o now.csv small.csv
	! diff -q ts.csv now.csv
	run -0 --separate-stderr ff-train-set --reproduce bp small.csv
	diff -u ts.csv <(printf '%s\n' "$output")
	ff-train-set --reproduce bp -o again.csv small.csv
	cmp ts.csv again.csv
	# Another input: not the training set the blueprint recorded.
	sed 's/12$/13/' small.csv > other.csv
	run -1 --separate-stderr ff-train-set --reproduce bp -o x.csv other.csv
	[[ "$stderr" == "ff-train-set: bp: the input is not the one the blueprint's training set was made from (input-hash xxh3-128:"* ]]
	[ ! -e x.csv ]
	# A vacuum that keeps 2 versions removes version 1: reproducing fails, saying so.
	run -0 ff-store vacuum --keep-versions 2 store.db
	assert_output - <<'EOF'
table  oldest_version  history_rows_removed  feed_rows_removed
zone                4                     6                  6
EOF
	run -1 --separate-stderr ff-train-set --reproduce bp -o x.csv small.csv
	[ "$stderr" = "ff-train-set: $PWD/store.db: table zone: version 1 was removed by vacuum; the oldest version kept is 4" ]
	[ ! -e x.csv ]
	ff-train-set --reproduce bp2 -o again2.csv small.csv
	cmp now.csv again2.csv
}

@test "--reproduce takes only -s, -o and --format; a blueprint without versions is refused" {
	compute "$EVENTS"
	ff-train-set -q -s store.db -f small.spec -b bp -o ts.csv small.csv
	run -2 --separate-stderr ff-train-set --reproduce bp -f small.spec small.csv
	[[ "$stderr" == "ff-train-set: --reproduce takes its spec, versions and options from the blueprint: give only -s, -o and --format"* ]]
	grep -v '^table-' bp > old-bp
	run -1 --separate-stderr ff-train-set --reproduce old-bp small.csv
	[ "$stderr" = "ff-train-set: old-bp: the blueprint records no table versions: it cannot be reproduced" ]
}

@test "ls: tables, versions, rows, keys, windows and bytes; --online the versions synced" {
	compute "$EVENTS"
	compute m1.csv
	ff-sync-online -q -s store.db --online online.db --full --as-of 1
	run -0 ff-store ls --format csv store.db
	[ "${lines[0]}" = "table,version,rows,keys,first_window,last_window,last_write,bytes,history_bytes" ]
	[[ "${lines[1]}" =~ ^zone,2,5,2,"2018-01-01 10:15:00","2018-01-01 12:15:00",20[0-9-]{8}\ [0-9:]{8},[1-9][0-9]*,[1-9][0-9]*$ ]]
	run -0 ff-store ls --online online.db --format json store.db
	[[ "$output" == *'"online_version": 1, "synced_at": "'* ]]
	run -0 ff-store ls store.db
	[[ "${lines[0]}" == "table  version  rows  keys  first_window "* ]]
}

@test "history: each version's operation, counts, range and what it read" {
	compute "$EVENTS"
	compute --batch late-1 m1.csv
	compute --mode overwrite --start '2018-01-01 10:00:00' --end '2018-01-01 11:00:00' ow.csv
	run -0 ff-store history --format csv store.db zone
	[ "$(cut -d, -f10,11 <<<"${lines[2]}")" = "late-1,m1.csv=xxh3-128:$(q store.db "SELECT input_hash FROM ff_batches WHERE batch = 'late-1'")" ]
	# A restore forgets the batches after the version it restores.
	ff-store restore store.db zone 1 > /dev/null
	run -0 ff-store history --format csv store.db zone
	cut -d, -f1,3-9 <<<"$output" > got
	diff -u - got <<'EOF'
version,operation,inserted,updated,deleted,range_start,range_end,appended_from
1,create,4,0,0,,,2018-01-01 10:15:00
2,merge,1,1,0,,,2018-01-01 12:15:00
3,overwrite,0,1,2,2018-01-01 10:00:00,2018-01-01 11:00:00,
4,restore,2,1,1,,,
EOF
	[ "$(cut -d, -f10,11 <<<"${lines[2]}")" = "," ]
	run -1 --separate-stderr ff-store history store.db nosuch
	[ "$stderr" = "ff-store: store.db: no table nosuch in the store" ]
}

@test "show prints the table's spec, which computes the same table" {
	compute "$EVENTS"
	run -0 ff-store show store.db zone
	assert_output - <<'EOF'
table zone
time time
key zip
timestamp-key t_end
window 15m
slide 15m
timezone UTC
partition yyyy_mm
feature n=count(*)
feature total=sum(fare)
feature mean=mean(fare)
EOF
	printf '%s\n' "$output" > zone.spec
	ff-compute -q -s again.db -f zone.spec --lateness unbounded "$EVENTS"
	diff <(q store.db 'SELECT * FROM zone') <(q again.db 'SELECT * FROM zone')
}

@test "restore rolls a table back as a new version; the batches after it may be fed again" {
	compute "$EVENTS" && snap 1
	compute m1.csv
	compute m2.csv
	run -0 ff-store restore --format csv store.db zone 1
	assert_output - <<'EOF'
table,restored,version,inserted,updated,deleted
zone,1,4,0,2,2
EOF
	q store.db "SELECT * FROM zone ORDER BY t_end, zip" | diff -u v1.rows -
	# The rollback is a version like any: restoring version 3 undoes it.
	compute m1.csv
	compute m2.csv
	[ "$(q store.db "SELECT version FROM ff_catalog")" = 6 ]
	as_of 3 > v3.rows
	q store.db "SELECT * FROM zone ORDER BY t_end, zip" | diff -u v3.rows -
	run -1 --separate-stderr ff-store restore store.db zone 9
	[ "$stderr" = "ff-store: store.db: table zone has no version 9: its latest is 6" ]
}

@test "vacuum: --keep-versions or --keep; the feed is pruned and a sync from before it copies all" {
	compute "$EVENTS"
	ff-sync-online -q -s store.db --online online.db
	compute m1.csv
	compute m2.csv
	run -0 ff-store vacuum --keep 3650d store.db
	assert_output - <<'EOF'
table  oldest_version  history_rows_removed  feed_rows_removed
zone                1                     0                  0
EOF
	run -0 ff-store vacuum --keep-versions 1 --format json store.db
	assert_output '[
  {"table": "zone", "oldest_version": 3, "history_rows_removed": 3, "feed_rows_removed": 3}
]'
	[ "$(q store.db 'SELECT count(*) FROM ff_history_zone')" = 0 ]
	run -1 --separate-stderr ff-store restore store.db zone 2
	[ "$stderr" = "ff-store: store.db: table zone: version 2 was removed by vacuum; the oldest version kept is 3" ]
	# The online store saw version 1, whose feed is gone: it is asked to copy all.
	run -1 --separate-stderr ff-sync-online -s store.db --online online.db
	[[ "$stderr" == *"run ff-sync-online --full to copy it again"* ]]
}

@test "backup: a copy with the store's identity; during a running ff-compute, never a mix" {
	ff-gen-trips -q -n 60000 --days 2 -o trips.csv
	head -1000 trips.csv > first.csv
	ff-compute -q -s store.db -f "$EXAMPLES/pickup_features.spec" -f "$EXAMPLES/dropoff_features.spec" first.csv
	ff-store backup store.db copy.db
	[ "$(q copy.db 'SELECT id FROM ff_store_info')" = "$(q store.db 'SELECT id FROM ff_store_info')" ]
	diff <(q store.db 'SELECT * FROM trip_pickup_features') <(q copy.db 'SELECT * FROM trip_pickup_features')
	run -1 --separate-stderr ff-store backup store.db copy.db
	[ "$stderr" = "ff-store: copy.db: exists; a backup goes to a new file" ]
	tail -n +1001 trips.csv | sed '1i tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,fare_amount,pickup_zip,dropoff_zip' > rest.csv
	ff-compute -q -s store.db -f "$EXAMPLES/pickup_features.spec" -f "$EXAMPLES/dropoff_features.spec" rest.csv &
	pid=$!
	n=0
	while kill -0 $pid 2> /dev/null; do
		ff-store backup store.db "b$n.db"
		n=$((n + 1))
	done
	wait $pid
	ff-store backup store.db "b$n.db"
	for f in b*.db; do
		# Both tables at one version, each table's rows those its versions wrote.
		[ "$(q "$f" 'SELECT count(DISTINCT version) FROM ff_catalog')" = 1 ] || fail "$f: tables at two versions"
		for t in trip_pickup_features trip_dropoff_features; do
			[ "$(q "$f" "SELECT count(*) FROM $t")" = \
			  "$(q "$f" "SELECT sum(inserted) - sum(deleted) FROM ff_versions WHERE table_name = '$t'")" ] ||
				fail "$f: $t is not whole"
		done
	done
	[ "$(q "b$n.db" 'SELECT version FROM ff_catalog LIMIT 1')" = 2 ]
}

@test "usage errors exit 2" {
	run -2 --separate-stderr ff-store
	[[ "$stderr" == "ff-store: no command: give ls, history, show, backup, restore or vacuum"* ]]
	run -2 --separate-stderr ff-store list store.db
	[[ "$stderr" == "ff-store: unknown command 'list': use ls, history, show, backup, restore or vacuum"* ]]
	run -2 --separate-stderr ff-store history store.db
	[[ "$stderr" == "ff-store: history takes 2 operands: see --help"* ]]
	run -2 --separate-stderr ff-store history --online o.db store.db zone
	[[ "$stderr" == "ff-store: --online goes with ls"* ]]
	run -2 --separate-stderr ff-store vacuum store.db
	[[ "$stderr" == "ff-store: vacuum needs one of --keep-versions N and --keep DURATION"* ]]
	run -2 --separate-stderr ff-store vacuum --keep 1d --keep-versions 2 store.db
	[[ "$stderr" == "ff-store: vacuum needs one of --keep-versions N and --keep DURATION"* ]]
	run -2 --separate-stderr ff-store ls --keep 1d store.db
	[[ "$stderr" == "ff-store: --keep-versions and --keep go with vacuum"* ]]
	run -2 --separate-stderr ff-store vacuum --keep-versions 0 store.db
	[ -n "$stderr" ]
	run -2 --separate-stderr ff-store restore store.db zone soon
	[[ "$stderr" == "ff-store: restore: 'soon' is neither a version nor a time"* ]]
	run -1 --separate-stderr ff-store ls nosuch.db
	[ -n "$stderr" ]
	run -1 --separate-stderr ff-store vacuum --keep-versions 1 nosuch.db
	[ "$stderr" = "ff-store: nosuch.db: No such file or directory" ]
	run -1 --separate-stderr ff-store restore nosuch.db zone 1
	[ "$stderr" = "ff-store: nosuch.db: No such file or directory" ]
	[ ! -e nosuch.db ]
}

@test "a spec that only adds features needs an overwrite of the whole table; others --replace" {
	compute "$EVENTS"
	run -1 --separate-stderr compute --feature 'top=max(fare)' m1.csv
	[ "$stderr" = "ff-compute: store.db: table zone gains features: compute them from all the events of the table with --mode overwrite and no --start or --end (or drop the table with --replace)" ]
	run -1 --separate-stderr ff-compute -q -s store.db --table zone --time time --key zip \
		--timestamp-key t_end --window 15m --feature 'n=count(*)' --lateness unbounded "$EVENTS"
	[[ "$stderr" == *"was computed by another definition"*"use --replace"* ]]
	compute --feature 'top=max(fare)' --mode overwrite "$EVENTS"
	[ "$(q store.db 'SELECT group_concat(top) FROM zone')" = "20.0,8.0,6.0" ]
	[ "$(q store.db "SELECT count(*) FROM ff_versions")" = 2 ]
}

@test "property: generated trips, random merges, range overwrites and a restore read back at every version" {
	ff-gen-trips -q -n 6000 --seed 7 --days 3 -o trips.csv
	# Six batches of trips drawn at random: late trips for every window.
	awk -v seed=7 'BEGIN { srand(seed) } NR == 1 { h = $0; for (i = 0; i < 6; i++) print h > ("b" i ".csv"); next }
		{ print > ("b" int(rand() * 6) ".csv") }' trips.csv
	specs=(-f "$EXAMPLES/pickup_features.spec" -f "$EXAMPLES/dropoff_features.spec")
	tables="trip_pickup_features trip_dropoff_features"
	v=0
	snap_all() {
		v=$((v + 1))
		for t in $tables; do
			q store.db "SELECT * FROM $t ORDER BY 2, 1" > "$t.$v"
		done
	}
	ff-compute -q -s store.db "${specs[@]}" b0.csv && snap_all
	ff-compute -q -s store.db "${specs[@]}" b1.csv && snap_all
	ff-compute -q -s store.db "${specs[@]}" --mode overwrite --start 2018-01-02 --end 2018-01-03 b2.csv && snap_all
	ff-compute -q -s store.db "${specs[@]}" b3.csv && snap_all
	for t in $tables; do ff-store restore store.db $t 2 > /dev/null; done && snap_all
	ff-compute -q -s store.db "${specs[@]}" b4.csv b5.csv && snap_all
	[ "$(q store.db 'SELECT group_concat(version) FROM ff_catalog')" = "6,6" ]
	for t in $tables; do
		for i in $(seq 1 $v); do
			rm -f online.db
			ff-sync-online -q -s store.db --online online.db --full --as-of $i $t
			q online.db "SELECT * FROM $t ORDER BY 2, 1" | diff -q "$t.$i" - > /dev/null || fail "$t version $i"
		done
	done
	diff -u trip_pickup_features.2 trip_pickup_features.5
	[ "$(q store.db 'SELECT count(*) FROM ff_history_trip_pickup_features')" -gt 0 ]
}

@test "ff-monitor --as-of profiles a store's table as of a version" {
	compute "$EVENTS"
	compute m1.csv
	run -0 ff-monitor profile -s store.db --as-of 1 --format csv -c zip,n zone
	assert_output - <<'EOF'
source,column,type,rows,nulls,null_rate,distinct,min,max,mean,stddev,p1,p5,p25,p50,p75,p95,p99,top
store.db:zone,zip,text,4,0,0,2,,,,,,,,,,,,"10001 (3), 10002 (1)"
store.db:zone,n,number,4,0,0,2,1,2,1.5,0.5773502691896257,1,1,1,1.5,2,2,2,
EOF
	run -0 ff-monitor profile -s store.db --format csv -c n zone
	[ "${lines[1]}" = "store.db:zone,n,number,5,0,0,3,1,3,1.6,0.8944271909999159,1,1,1,1,2,2.8,2.96," ]
	run -3 --separate-stderr ff-monitor profile --as-of 1 "$EVENTS"
	[[ "$stderr" == *"--as-of reads a table of a store, not a record stream" ]]
	run -2 --separate-stderr ff-monitor lineage --as-of 1 zone
	[ -n "$stderr" ]
}
