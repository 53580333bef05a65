#!/usr/bin/env bats
# How input times are written (ff-semantics(7), Input time format): the
# input-time-format directive and --input-time-format option of ff-compute,
# ff-join and ff-train-set: text (the default), date (a date alone is
# midnight), epoch-s and epoch-ms. The blueprint carries it to ff-predict.

load test_helper/common
bats_require_minimum_version 1.5.0

PICKUP=$EXAMPLES/pickup_features.spec

# stderr_is REGEX: the last run's stderr is one line matching REGEX.
stderr_is() {
	[[ "$stderr" != *$'\n'* && "$stderr" =~ $1 ]] || { printf 'stderr was:\n%s\n' "$stderr" >&2; return 1; }
}

setup() {
	common_setup
	ff-gen-trips -n 300 --days 2 -o text.csv
	# The same trips with their times as seconds and milliseconds since the epoch.
	awk -F, -v OFS=, 'NR == 1 { print; next }
		function epoch(t) { gsub(/[-:]/, " ", t); return mktime(t) }
		{ $1 = epoch($1); $2 = epoch($2); print }' text.csv > epoch_s.csv
	awk -F, -v OFS=, 'NR == 1 { print; next } { $1 = $1 "000"; $2 = $2 "000"; print }' epoch_s.csv > epoch_ms.csv
	grep -v '^#' "$PICKUP" > pickup.spec
}

@test "ff-compute: epoch seconds and milliseconds give the table of text times" {
	ff-compute -s text.db -f pickup.spec text.csv
	{ cat pickup.spec; echo 'input-time-format epoch-s'; } > s.spec
	{ cat pickup.spec; echo 'input-time-format epoch-ms'; } > ms.spec
	ff-compute -s s.db -f s.spec epoch_s.csv
	ff-compute -s ms.db -f ms.spec epoch_ms.csv
	q text.db 'SELECT * FROM trip_pickup_features' > expected
	[ -s expected ]
	diff -u expected <(q s.db 'SELECT * FROM trip_pickup_features')
	diff -u expected <(q ms.db 'SELECT * FROM trip_pickup_features')
	# Without the directive an epoch is not a time, naming file and line.
	run -1 --separate-stderr ff-compute -s x.db -f pickup.spec epoch_s.csv
	stderr_is "^ff-compute: epoch_s\.csv:2: column 'tpep_pickup_datetime': bad timestamp '15"
	# A text time in an epoch file is bad input too.
	sed -n 2p text.csv >> epoch_s.csv
	run -1 --separate-stderr ff-compute -s x.db -f s.spec epoch_s.csv
	stderr_is "^ff-compute: epoch_s\.csv:302: column 'tpep_pickup_datetime': bad timestamp "
}

@test "ff-compute: with date, a date alone is midnight; without, it is refused" {
	printf '%s\n' tpep_pickup_datetime,fare_amount,pickup_zip 2018-03-01,10,A '2018-03-01 00:00:00,20,A' > d.csv
	run -1 --separate-stderr ff-compute --table t --time tpep_pickup_datetime --key pickup_zip \
		--window 1d --feature 'm=mean(fare_amount)' d.csv
	stderr_is "^ff-compute: d\.csv:2: column 'tpep_pickup_datetime': bad timestamp '2018-03-01'"
	run -0 ff-compute --table t --time tpep_pickup_datetime --key pickup_zip --window 1d \
		--feature 'm=mean(fare_amount)' --feature 'n=count(*)' --input-time-format date d.csv
	assert_output - <<'EOF'
pickup_zip,window_end,m,n,yyyy_mm
A,2018-03-02 00:00:00,15,2,2018-03
EOF
	run -2 ff-compute --table t --time tpep_pickup_datetime --key pickup_zip --window 1d \
		--feature 'n=count(*)' --input-time-format unix d.csv
}

@test "ff-join and the blueprint: epoch inputs are read as their spec says, and ff-predict reads requests so" {
	ff-compute -q -s off.db -f pickup.spec text.csv
	ff-join -s off.db --lookup trip_pickup_features --key pickup_zip --timestamp tpep_pickup_datetime \
		text.csv | cut -d, -f7- > expected
	ff-join -s off.db --lookup trip_pickup_features --key pickup_zip --timestamp tpep_pickup_datetime \
		--input-time-format epoch-s epoch_s.csv | cut -d, -f7- > actual
	[ "$(wc -l < expected)" -eq 301 ]
	diff -u expected actual
	cat > ts.spec <<'EOF'
derive rounded_pickup_datetime=ceil(tpep_pickup_datetime, 15m)
lookup trip_pickup_features
key pickup_zip
timestamp rounded_pickup_datetime
label fare_amount
exclude rounded_pickup_datetime
inputs trip_distance,pickup_zip
EOF
	ff-train-set -q -s off.db -f ts.spec -b text.blueprint -o text_ts.csv text.csv
	ff-train-set -q -s off.db -f ts.spec --input-time-format epoch-ms -b ms.blueprint -o ms_ts.csv epoch_ms.csv
	grep -qx 'input-time-format epoch-ms' ms.blueprint
	diff -u <(cut -d, -f3- text_ts.csv) <(cut -d, -f3- ms_ts.csv)
	ff-train -q -b ms.blueprint -o model.json --rounds 5 ms_ts.csv
	run -0 ff-predict -q -m model.json epoch_ms.csv
	[ "${#lines[@]}" -eq 301 ]
	run -1 --separate-stderr ff-predict -q -m model.json text.csv
}
