#!/usr/bin/env bats
# Names that become SQL identifiers (tables, features, keys, models): one
# rule and one limit, FF_NAME_MAX = 128 bytes (ff_db.h), checked where a
# name enters; a longer name is refused with the limit in the message and
# nothing written, never truncated into another table's name.

load test_helper/common
bats_require_minimum_version 1.5.0

setup() { common_setup; }

HDR=tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,fare_amount,pickup_zip,dropoff_zip

# name N [CHAR]: N bytes, 't' then CHAR (default a) repeated.
name() { printf 't%*s' "$(($1 - 1))" '' | tr ' ' "${2:-a}"; }

trips() {
	cat > trips.csv <<EOF
$HDR
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,a,X
2018-01-01 10:15:00,2018-01-01 10:30:00,1.0,20,b,X
EOF
}

# compute STORE TABLE: one hourly count per pickup zip into TABLE.
compute() {
	ff-compute -q -s "$1" --table "$2" --time tpep_pickup_datetime --key pickup_zip \
		--window 1h --feature 'n=count(*)' trips.csv
}

@test "a 321-byte table name is refused with the limit, and nothing is written" {
	trips
	long=$(name 321)
	run --separate-stderr compute store.db "$long"
	[ "$status" -eq 1 ] || [ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ "$stderr" == *"321 bytes long, more than the 128 a name may have"* ]]
	[ ! -e store.db ]
	ls -A > files
	diff -u <(echo files; echo trips.csv) files
}

@test "two 200-byte names are both refused; nothing collides in the store" {
	trips
	compute store.db ok
	for c in a b; do
		run --separate-stderr compute store.db "$(name 200 "$c")"
		[ "$status" -ne 0 ]
		[[ "$stderr" == *"200 bytes long, more than the 128 a name may have"* ]]
	done
	run q store.db "SELECT name FROM ff_catalog"
	assert_output ok
	run q store.db "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name LIKE '%aaaa%'"
	assert_output 0
}

@test "two 128-byte names that differ in their last byte are two tables, two change feeds" {
	trips
	a=$(name 127)a b=$(name 127)b
	compute store.db "$a"
	compute store.db "$b"
	run q store.db "SELECT name FROM ff_catalog ORDER BY name"
	assert_output "$a
$b"
	run q store.db "SELECT count(*) FROM sqlite_schema WHERE name IN ('$a', '$b', 'ff_changes_$a', 'ff_changes_$b')"
	assert_output 4
	ff-sync-online -s store.db --online online.db
	run q online.db "SELECT name, rows FROM ff_online_tables ORDER BY name"
	assert_output "$a|2
$b|2"
}

@test "a feature or key name longer than 128 bytes is refused" {
	trips
	run --separate-stderr ff-compute -s store.db --table t --time tpep_pickup_datetime \
		--key pickup_zip --window 1h --feature "$(name 129)=count(*)" trips.csv
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"feature name 'taaaaaaaaaaaaaaaaaaaaaaa...' is 129 bytes long, more than the 128 a name may have"* ]]
	run --separate-stderr ff-compute -s store.db --table t --time tpep_pickup_datetime \
		--key "$(name 129)=pickup_zip" --window 1h --feature 'n=count(*)' trips.csv
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"key name 'taaaaaaaaaaaaaaaaaaaaaaa...' is 129 bytes long"* ]]
	[ ! -e store.db ]
}

@test "a lookup of a table name longer than 128 bytes is refused" {
	trips
	run -2 --separate-stderr ff-join -s store.db --lookup "$(name 300)" --key pickup_zip trips.csv
	[ -z "$output" ]
	[[ "$stderr" == *"lookup table 'taaaaaaaaaaaaaaaaaaaaaaa...' is 300 bytes long, more than the 128 a name may have"* ]]
}

@test "a model name longer than 128 bytes is refused by the registry" {
	run -2 --separate-stderr ff-models -r models.db register "$(name 129)" /dev/null
	[ -z "$output" ]
	[[ "$stderr" == "ff-models: model name 'taaaaaaaaaaaaaaaaaaaaaaa...' is 129 bytes long, more than the 128 a name may have"* ]]
	[ ! -e models.db ]
	run -2 --separate-stderr ff-models -r models.db show "models:/$(name 129)/1"
	[[ "$stderr" == *"a model name longer than 128 bytes"* ]]
}
