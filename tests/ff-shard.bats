#!/usr/bin/env bats
# ff-compute --shard K/N: the keys split by the documented hash (ff_shard.h,
# ff-compute(1)); N shards written one after another into one store give the
# tables of one unsharded run, each shard a version and a batch of its own.

load test_helper/common
bats_require_minimum_version 1.5.0

PICKUP=$EXAMPLES/pickup_features.spec
DROPOFF=$EXAMPLES/dropoff_features.spec
SPECS=(-f "$PICKUP" -f "$DROPOFF")

setup() {
	common_setup
	ff-gen-trips --rows 6000 --seed 3 --start 2018-01-01 --days 4 -o trips.csv
}

# dump STORE: every feature table and window state, in key order.
dump() {
	local t
	for t in trip_pickup_features trip_dropoff_features; do
		echo "== $t"
		sqlite3 -batch "$1" "SELECT * FROM $t ORDER BY 2, 1"
		echo "== ff_state_$t"
		sqlite3 -batch "$1" "SELECT *, hex(state) FROM ff_state_$t ORDER BY 2, 1"
	done
}

@test "shards run one after another give the tables of one unsharded run" {
	ff-compute -s one.db "${SPECS[@]}" trips.csv
	for k in 1 2 3; do
		ff-compute -s sharded.db --shard "$k/3" "${SPECS[@]}" trips.csv
	done
	dump one.db > one.txt
	dump sharded.db > sharded.txt
	diff -u one.txt sharded.txt
	# Each shard's write is a version of its own.
	run sqlite3 -batch sharded.db "SELECT version, operation FROM ff_versions
		WHERE table_name = 'trip_pickup_features' ORDER BY version"
	assert_output $'1|create\n2|merge\n3|merge'
	run sqlite3 -batch sharded.db "SELECT DISTINCT shard FROM ff_batches ORDER BY shard"
	assert_output $'1/3\n2/3\n3/3'
}

@test "the split is FNV-1a 64 of the key values each followed by NUL, mixed, mod N, as documented" {
	for k in 1 2; do
		ff-compute -f "$PICKUP" --shard "$k/2" trips.csv | tail -n +2 | cut -d, -f1 | sort -u |
			sed "s/\$/,$k/" > "got$k"
	done
	sort got1 got2 > got
	python3 - trips.csv > want <<'PY'
import csv, sys
keys = {row["pickup_zip"] for row in csv.DictReader(open(sys.argv[1]))}
for k in sorted(keys):
    h = 0xcbf29ce484222325
    for b in k.encode() + b"\0":
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    h ^= h >> 33
    h = h * 0xff51afd7ed558ccd & 0xffffffffffffffff
    h ^= h >> 33
    h = h * 0xc4ceb9fe1a85ec53 & 0xffffffffffffffff
    h ^= h >> 33
    print(f"{k},{h % 2 + 1}")
PY
	sort want > want.sorted
	diff -u want.sorted got
	[ "$(wc -l < got)" -gt 10 ]
}

@test "shards of 3 and of 5 over zone ids 1..265 each get a fair part of the keys" {
	# (FNV-1a alone put them 46/79/140 into 3 shards, 46/70/50/0/99 into 5.)
	{ echo ts,k,v; for z in $(seq 1 265); do echo "2018-01-01 00:10:00,$z,1"; done; } > zips.csv
	for n in 3 5; do
		for k in $(seq 1 "$n"); do
			got=$(ff-compute --table t --time ts --key k --window 1h --feature 'n=count(*)' --shard "$k/$n" \
				zips.csv | tail -n +2 | wc -l)
			[ "$got" -ge $((265 * 3 / 4 / n)) ] && [ "$got" -le $((265 * 5 / 4 / n)) ]
		done
	done
}

@test "a shard fed again is exactly once; another shard of the same file is not a repeat" {
	ff-compute -s s.db --shard 1/2 "${SPECS[@]}" trips.csv
	dump s.db > before.txt
	run --separate-stderr ff-compute -s s.db --shard 1/2 "${SPECS[@]}" trips.csv
	assert_success
	[[ "$stderr" == *"already folded"* ]]
	dump s.db > after.txt
	diff -u before.txt after.txt
	ff-compute -s s.db --shard 2/2 "${SPECS[@]}" trips.csv
	run sqlite3 -batch s.db "SELECT max(version) FROM ff_versions"
	assert_output 2
	# ff-store history tells the two shards' versions apart.
	run -0 ff-store history --format csv s.db trip_pickup_features
	[ "$(cut -d, -f1,12 <<<"$output")" = "version,shard
1,1/2
2,2/2" ]
	# The whole file over the same windows would count shard 1's events twice.
	run --separate-stderr ff-compute -s s.db "${SPECS[@]}" trips.csv
	assert_failure 1
	[[ "$stderr" == *"count its events twice"* ]]
	# The message names the split stored and this run's.
	[[ "$stderr" == *", shard 1/2, windows ending in"*"for all keys would count"* ]]
	# So would a split into 4, whose shard 3 meets shard 1 of 2.
	run --separate-stderr ff-compute -s s.db --shard 3/4 "${SPECS[@]}" trips.csv
	assert_failure 1
}

@test "a sharded overwrite deletes only its own keys' rows" {
	ff-compute -s full.db "${SPECS[@]}" trips.csv
	cp full.db both.db
	head -n 1500 trips.csv > part.csv
	range=(--mode overwrite --start 2018-01-01 --end 2018-01-05)
	ff-compute -s both.db "${range[@]}" "${SPECS[@]}" part.csv
	cp full.db sharded.db
	ff-compute -s sharded.db --shard 1/2 "${range[@]}" "${SPECS[@]}" part.csv
	# Shard 2's rows are those of the full run still.
	ff-compute -f "$PICKUP" --shard 2/2 trips.csv | tail -n +2 | cut -d, -f1 | sort -u > keys2
	rows_of() {
		sqlite3 -batch "$1" "SELECT pickup_zip, rounded_pickup_datetime, count_trips_window_1h_pickup_zip
			FROM trip_pickup_features ORDER BY 1, 2" |
			awk -F'|' 'NR == FNR { mine[$1] = 1; next } $1 in mine' keys2 -
	}
	diff -u <(rows_of full.db) <(rows_of sharded.db)
	ff-compute -s sharded.db --shard 2/2 "${range[@]}" "${SPECS[@]}" part.csv
	dump both.db > both.txt
	dump sharded.db > sharded.txt
	diff -u both.txt sharded.txt
}

@test "--shard takes K/N with 1 <= K <= N" {
	for bad in 0/2 3/2 1 1/0 a/b 1/2x -1/2; do
		run -2 ff-compute --shard "$bad" -f "$PICKUP" trips.csv
	done
}

@test "a shard converts only its own keys' rows: a bad row of another shard's key is that shard's to report" {
	ff-compute -f "$PICKUP" --shard 1/2 trips.csv > one.csv
	ff-compute -f "$PICKUP" --shard 2/2 trips.csv > two.csv
	zip=$(sed -n 2p one.csv | cut -d, -f1)
	{ cat trips.csv; echo "2018-01-02 00:00:00,2018-01-02 00:10:00,1.0,oops,$zip,1"; } > bad.csv
	run -1 --separate-stderr ff-compute -f "$PICKUP" --shard 1/2 bad.csv
	[[ "$stderr" == *"bad.csv:6002: "*"fare_amount"* ]]
	ff-compute -f "$PICKUP" --shard 2/2 -o two-bad.csv bad.csv
	diff -u two.csv two-bad.csv
}
