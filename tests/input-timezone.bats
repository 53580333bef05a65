#!/usr/bin/env bats
# The zone of naive input times (ff-semantics(7), Input time zone): the
# input-timezone directive and --input-timezone option of ff-compute,
# ff-join and ff-train-set; the blueprint carries it to ff-predict. DST:
# a wall time the clocks skipped is bad input; one that happens twice is
# its first instant.

load test_helper/common
bats_require_minimum_version 1.5.0

HEADER=tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,fare_amount,pickup_zip,dropoff_zip
NY=America/New_York

setup() {
	common_setup
	grep -v '^#' "$EXAMPLES/dropoff_features.spec" > dropoff.spec
	{ cat dropoff.spec; echo "input-timezone $NY"; } > dropoff_ny.spec
	# Saturday 2018-01-06 02:00 in New York is 07:00 UTC; read as UTC it is
	# Friday 21:00 in New York.
	printf '%s\n' "$HEADER" '2018-01-06 01:50:00,2018-01-06 02:00:00,1.0,5.0,10001,10002' > sat.csv
}

weekend_of() { q "$1" 'SELECT rounded_dropoff_datetime, dropoff_is_weekend FROM trip_dropoff_features'; }

@test "ff-compute: a Saturday 02:00 New York trip is a weekend trip with input-timezone, not without" {
	ff-compute -q -s utc.db -f dropoff.spec sat.csv
	ff-compute -q -s ny.db -f dropoff_ny.spec sat.csv
	[ "$(weekend_of utc.db)" = "1515205800|0" ]  # 2018-01-06 02:30 UTC
	[ "$(weekend_of ny.db)" = "1515223800|1" ]   # 2018-01-06 07:30 UTC
	# The option, for a table defined by options, does the same.
	ff-compute -q -s opt.db --table trip_dropoff_features --time tpep_dropoff_datetime \
		--key dropoff_zip --timestamp-key rounded_dropoff_datetime --window 30m --timezone $NY \
		--input-timezone $NY --feature 'dropoff_is_weekend=is_weekend(window_end)' sat.csv
	[ "$(weekend_of opt.db)" = "1515223800|1" ]
	# A zone is part of the table's definition; UTC, the default, is not written.
	[[ $(q ny.db "SELECT definition FROM ff_catalog") == *"input-timezone $NY"* ]]
	[[ $(q utc.db "SELECT definition FROM ff_catalog") != *input-timezone* ]]
}

@test "ff-compute: a wall time the clocks skipped is bad input" {
	printf '%s\n' "$HEADER" '2018-03-11 02:20:00,2018-03-11 02:30:00,1.0,5.0,10001,10002' > gap.csv
	run -1 --separate-stderr ff-compute -q -s g.db -f dropoff_ny.spec gap.csv
	[[ $stderr == *"gap.csv:2: column 'tpep_dropoff_datetime': '2018-03-11 02:30:00' does not exist in America/New_York (the clocks skipped it)"* ]] ||
		fail "$stderr"
}

@test "ff-join: derive steps and lookups read naive times in the zone; the overlap is its first instant; offsets kept" {
	ff-compute -q -s ny.db -f dropoff_ny.spec sat.csv
	printf '%s\n' t,dropoff_zip '2018-11-04 01:30:00,10002' '2018-01-06 02:00:00,10002' \
		'2018-01-06 02:00:00Z,10002' > j.csv
	run -0 ff-join -s ny.db --derive 'r=ceil(t, 30m)' --lookup trip_dropoff_features --key dropoff_zip \
		--timestamp r --features dropoff_is_weekend --input-timezone $NY j.csv
	diff -u - <(echo "$output") <<-'EOF'
	t,dropoff_zip,r,dropoff_is_weekend
	2018-11-04 01:30:00,10002,2018-11-04 05:30:00,1
	2018-01-06 02:00:00,10002,2018-01-06 07:00:00,
	2018-01-06 02:00:00Z,10002,2018-01-06 02:00:00,
	EOF
	printf '%s\n' t,dropoff_zip '2018-03-11 02:30:00,10002' > g.csv
	run -1 --separate-stderr ff-join -s ny.db --derive 'r=ceil(t, 30m)' --lookup trip_dropoff_features \
		--key dropoff_zip --timestamp r --input-timezone $NY g.csv
	[ "$stderr" = "ff-join: g.csv:2: column 't': '2018-03-11 02:30:00' does not exist in America/New_York (the clocks skipped it)" ] ||
		fail "$stderr"
	run -2 ff-join -s ny.db --lookup trip_dropoff_features --key dropoff_zip --input-timezone Mars/Olympus j.csv
}

@test "the blueprint carries the zone, and ff-predict reads requests in it" {
	ff-gen-trips -n 300 --days 2 -o trips.csv
	ff-compute -q -s s.db -f "$EXAMPLES/pickup_features.spec" -f "$EXAMPLES/dropoff_features.spec" trips.csv
	ff-train-set -q -s s.db -f "$EXAMPLES/training_set.spec" --input-timezone $NY -b bp -o ts.csv trips.csv
	grep -qx "input-timezone $NY" bp
	ff-train -q -b bp -o model.json --rounds 3 ts.csv
	printf '%s\n' "$HEADER" '2018-03-11 02:30:00,2018-03-11 02:40:00,1.0,5.0,10001,10002' > gap.csv
	run -1 --separate-stderr ff-predict -m model.json gap.csv
	[ "$stderr" = "ff-predict: gap.csv:2: column 'tpep_pickup_datetime': '2018-03-11 02:30:00' does not exist in America/New_York (the clocks skipped it)" ] ||
		fail "$stderr"
	# Without the zone, the same request is a time like any other.
	ff-train-set -q -s s.db -f "$EXAMPLES/training_set.spec" -b bp_utc -o ts_utc.csv trips.csv
	! grep -q input-timezone bp_utc
	ff-train -q -b bp_utc -o utc.json --rounds 3 ts_utc.csv
	run -0 ff-predict -m utc.json gap.csv
	# The training sets differ: the derived times moved by the zone's offset.
	! cmp -s ts.csv ts_utc.csv
}
