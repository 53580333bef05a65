#!/usr/bin/env bats
# ff-predict --online: features looked up row by row in an online store
# (ff-sync-online), answered as each request arrives; --stats; --skew-check.
# Online answers are checked against the offline ones of the same data
# (ff-semantics(7), "Online lookups": identical results = no skew), fallbacks
# against the blueprint's mean lines.

load test_helper/common
bats_require_minimum_version 1.5.0

TRIPS_HEADER=tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,fare_amount,pickup_zip,dropoff_zip
FEATURES=mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,count_trips_window_30m_dropoff_zip,dropoff_is_weekend
ALL_FELL_BACK="mean_fare_window_1h_pickup_zip count_trips_window_1h_pickup_zip count_trips_window_30m_dropoff_zip dropoff_is_weekend"

# For the whole file, in $BATS_FILE_TMPDIR: trips.csv, 3000 generated trips
# over 3 days; off.db, their two taxi tables; bp and model.json, a model
# trained on them; on.db, off.db synced online; other.db, the tables of the
# same trips each taken twice with the fare raised by 100 (every feature but
# dropoff_is_weekend differs from off.db's).
setup_file() {
	cd "$BATS_FILE_TMPDIR" || return 1
	ff-gen-trips -n 3000 --days 3 -o trips.csv
	ff-compute -q -s off.db -f "$EXAMPLES/pickup_features.spec" -f "$EXAMPLES/dropoff_features.spec" trips.csv
	ff-train-set -q -s off.db -f "$EXAMPLES/training_set.spec" -b bp -o ts.csv trips.csv
	ff-train -q -b bp -o model.json --rounds 5 ts.csv
	ff-sync-online -s off.db --online on.db
	awk -F, -v OFS=, 'NR == 1 { print; next } { $4 += 100; print; print }' trips.csv > other.csv
	ff-compute -q -s other.db -f "$EXAMPLES/pickup_features.spec" -f "$EXAMPLES/dropoff_features.spec" other.csv
}

setup() {
	common_setup
	local f
	for f in trips.csv off.db on.db other.db bp model.json; do
		cp "$BATS_FILE_TMPDIR/$f" .
	done
	unset FF_REGISTRY
}

# requests N: the first N trips, as requests.
requests() { head -n "$(($1 + 1))" trips.csv; }

# blueprint_value KIND FEATURE [KEY]: the blueprint's mean (KIND mean) or
# key-mean (KIND key-mean) of FEATURE.
blueprint_value() {
	if [ "$1" = mean ]; then
		awk -v f="$2" '$1 == "mean" && $2 == f { print $3 }' bp
	else
		awk -v f="$2" -v k="$3" '$1 == "key-mean" && $2 == f && $5 == k { print $3 }' bp
	fi
}

# close_to A B: the numbers A and B agree to 1e-6 relative (the vector holds
# floats).
close_to() {
	awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; m = (b < 0 ? -b : b);
		exit !(d <= 1e-6 * (m > 1 ? m : 1)) }' || fail "$1 is not $2"
}

# field ROW COL FILE: one field of a CSV file without quotes.
field() { awk -F, -v r="$1" -v c="$2" 'NR == r { print $c }' "$3"; }

# ---- online answers ----------------------------------------------------

@test "--online gives the offline answers, byte for byte" {
	requests 400 > req.csv
	ff-predict -m model.json -s off.db --with-features --with-fallbacks req.csv > offline.csv
	run --separate-stderr ff-predict -m model.json --online on.db --with-features --with-fallbacks req.csv
	assert_success
	[ -z "$stderr" ]
	diff -u offline.csv <(printf '%s\n' "$output")
	[ "$(wc -l < offline.csv)" = 401 ]
}

@test "--online answers each request as it arrives (a coprocess)" {
	requests 5 > req.csv
	ff-predict -m model.json --online on.db req.csv > expected.csv
	mapfile -t lines < <(tail -n +2 req.csv)
	coproc PREDICT { ff-predict -m model.json --online on.db - 2>&1; }
	echo "$TRIPS_HEADER" >&"${PREDICT[1]}"
	local line answer header= got=()
	for line in "${lines[@]}"; do
		# one request written, one answer read, before the next request
		echo "$line" >&"${PREDICT[1]}"
		if [ -z "$header" ]; then
			IFS= read -r -t 10 header <&"${PREDICT[0]}" || fail "no header within 10 s"
			got+=("$header")
		fi
		IFS= read -r -t 10 answer <&"${PREDICT[0]}" || fail "no answer to '$line' within 10 s"
		got+=("$answer")
	done
	local pid=$PREDICT_PID
	exec {PREDICT[1]}>&-
	wait "$pid"
	printf '%s\n' "${got[@]}" | diff -u expected.csv -
}

# ---- fallbacks ---------------------------------------------------------

# fallback_requests: a request whose zips no table has, then one at keys
# the tables have, before their first rows ($PZ: a pickup zip, $DZ: a
# dropoff zip, both with key means in the blueprint).
fallback_requests() {
	PZ=$(awk '$1 == "key-mean" && $2 == "mean_fare_window_1h_pickup_zip" { print $5; exit }' bp)
	DZ=$(awk '$1 == "key-mean" && $2 == "count_trips_window_30m_dropoff_zip" { print $5; exit }' bp)
	[ -n "$PZ" ] && [ -n "$DZ" ]
	cat > req.csv <<EOF
$TRIPS_HEADER
2018-01-02 10:01:00,2018-01-02 10:11:00,2.0,9.0,99999,99998
2017-12-31 23:00:00,2017-12-31 23:10:00,2.0,9.0,$PZ,$DZ
EOF
}

@test "fallbacks: an unknown key takes the feature's mean, a time before the key's first row the key's mean; --with-fallbacks names them" {
	fallback_requests
	run --separate-stderr ff-predict -m model.json --online on.db --with-features --with-fallbacks -o out.csv req.csv
	assert_success
	[ "$(head -1 out.csv)" = "$TRIPS_HEADER,prediction,$FEATURES,fallbacks" ]
	[ "$(wc -l < out.csv)" = 3 ]
	local i f
	IFS=, read -ra names <<<"$FEATURES"
	for i in 0 1 2 3; do
		f=${names[i]}
		close_to "$(field 2 $((8 + i)) out.csv)" "$(blueprint_value mean "$f")"
	done
	close_to "$(field 3 8 out.csv)" "$(blueprint_value key-mean mean_fare_window_1h_pickup_zip "$PZ")"
	close_to "$(field 3 9 out.csv)" "$(blueprint_value key-mean count_trips_window_1h_pickup_zip "$PZ")"
	close_to "$(field 3 10 out.csv)" "$(blueprint_value key-mean count_trips_window_30m_dropoff_zip "$DZ")"
	close_to "$(field 3 11 out.csv)" "$(blueprint_value key-mean dropoff_is_weekend "$DZ")"
	[ "$(field 2 12 out.csv)" = "$ALL_FELL_BACK" ]
	[ "$(field 3 12 out.csv)" = "$ALL_FELL_BACK" ]
	# The same as offline.
	ff-predict -m model.json -s off.db --with-features --with-fallbacks req.csv | diff -u - out.csv
}

@test "--fallback missing leaves the missed features missing" {
	fallback_requests
	run --separate-stderr ff-predict -m model.json --online on.db --fallback missing --with-features --with-fallbacks req.csv
	assert_success
	missing=$(ff-predict -m model.json -s off.db --fallback missing req.csv | awk -F, 'NR == 2 { print $7 }')
	diff -u - <(printf '%s\n' "$output") <<EOF
$TRIPS_HEADER,prediction,$FEATURES,fallbacks
2018-01-02 10:01:00,2018-01-02 10:11:00,2.0,9.0,99999,99998,$missing,,,,,
2017-12-31 23:00:00,2017-12-31 23:10:00,2.0,9.0,$PZ,$DZ,$missing,,,,,
EOF
}

@test "--stats reports latency percentiles, lookups, misses and fallbacks on stderr" {
	fallback_requests
	requests 3 | tail -n +2 >> req.csv
	run --separate-stderr ff-predict -m model.json --online on.db --stats -o out.csv req.csv
	assert_success
	[ "$(wc -l < out.csv)" = 6 ]
	local us='[0-9]+\.[0-9] us'
	[[ $stderr =~ ^ff-predict:\ 5\ requests:\ latency\ p50\ $us,\ p90\ $us,\ p99\ $us,\ max\ $us\;\ 10\ lookups,\ 4\ misses,\ 8\ fallbacks\;\ table\ versions\ trip_pickup_features\ 1\ \(model\ 1,\ \+0\),\ trip_dropoff_features\ 1\ \(model\ 1,\ \+0\)\;\ scorer\ ff_trees$ ]] ||
		fail "stderr: $stderr"
	run --separate-stderr ff-predict -m model.json --online on.db --stats --fallback missing -o out.csv req.csv
	[[ $stderr =~ \;\ 10\ lookups,\ 4\ misses,\ 0\ fallbacks\;\ table\ versions\ .*\;\ scorer\ ff_trees$ ]] || fail "stderr: $stderr"
	# without --stats, nothing
	run --separate-stderr ff-predict -m model.json --online on.db -o out.csv req.csv
	[ -z "$stderr" ]
}

# ---- skew check --------------------------------------------------------

@test "--skew-check finds no difference after a sync" {
	requests 300 > req.csv
	run --separate-stderr ff-predict -m model.json --online on.db --skew-check req.csv
	assert_success
	assert_output "300 rows, 7 features each, 0 differences"
	[ -z "$stderr" ]
}

@test "--skew-check finds a difference planted online, naming file:line and the feature, exit 1" {
	requests 5 > req.csv
	# The pickup row request 3 (line 4) looks up, as of its rounded time.
	zip=$(field 4 5 req.csv)
	t=$(field 4 1 req.csv)
	[ "$(awk -F, -v z="$zip" 'NR > 1 && $5 == z' req.csv | wc -l)" = 1 ]
	at=$(q on.db "SELECT max(rounded_pickup_datetime) FROM trip_pickup_features WHERE pickup_zip = '$zip'
		AND rounded_pickup_datetime <= (CAST(strftime('%s', '$t') AS INTEGER) + 899) / 900 * 900")
	was=$(q on.db "SELECT mean_fare_window_1h_pickup_zip FROM trip_pickup_features
		WHERE pickup_zip = '$zip' AND rounded_pickup_datetime = $at")
	q on.db "UPDATE trip_pickup_features SET mean_fare_window_1h_pickup_zip = 999
		WHERE pickup_zip = '$zip' AND rounded_pickup_datetime = $at"
	run --separate-stderr ff-predict -m model.json --online on.db --skew-check req.csv
	assert_failure 1
	[ -z "$stderr" ]
	[ "${#lines[@]}" = 2 ]
	[[ ${lines[0]} =~ ^req\.csv:4:\ mean_fare_window_1h_pickup_zip:\ offline\ ([0-9.]+),\ online\ 999$ ]] ||
		fail "line: ${lines[0]}"
	close_to "${BASH_REMATCH[1]}" "$was"
	[ "${lines[1]}" = "5 rows, 7 features each, 1 differences" ]
}

@test "--skew-check refuses stdin" {
	requests 5 > req.csv
	run -3 ff-predict -m model.json --online on.db --skew-check - < req.csv
	assert_output "ff-predict: the skew check reads its requests twice: give them as files, not stdin"
	run -3 ff-predict -m model.json --online on.db --skew-check < req.csv
	assert_output "ff-predict: the skew check reads its requests twice: give them as files"
}

@test "--skew-check with a missing offline store fails cleanly (valgrind)" {
	command -v valgrind > /dev/null || skip "no valgrind"
	local bin=$TOP/build/ff-predict
	[ -x "$bin" ] || skip "no $bin: run make"
	requests 5 > req.csv
	run valgrind -q --error-exitcode=99 "$bin" -m model.json -s nope.db --online on.db --skew-check req.csv
	assert_output "ff-predict: nope.db, given with --store: No such file or directory"
	assert_failure 3
}

@test "--skew-check exits 3 when it cannot compare, 1 only for differences" {
	requests 5 > req.csv
	run -3 --separate-stderr ff-predict -m model.json --online on.db --skew-check nope.csv
	assert_equal "$stderr" "ff-predict: nope.csv: No such file or directory"
	run -3 --separate-stderr ff-predict -m model.json --online nope.db --skew-check req.csv
	run -3 --separate-stderr ff-predict -m nope.json --online on.db --skew-check req.csv
	run -3 --separate-stderr ff-predict -m model.json --online on.db --skew-check -o /dev/full req.csv
	assert_equal "$stderr" "ff-predict: /dev/full: write error: No space left on device"
	run -2 ff-predict -m model.json --skew-check req.csv
}

# ---- retention ---------------------------------------------------------

@test "after --retention, a key's latest row kept still answers later requests, as of" {
	ff-sync-online --retention 1d -s off.db --online ret.db
	max=$(q ret.db "SELECT max(rounded_pickup_datetime) FROM trip_pickup_features")
	# A pickup zip whose latest row is older than the horizon and not its only row.
	read -r zip latest < <(q off.db "SELECT pickup_zip, max(rounded_pickup_datetime) FROM trip_pickup_features
		GROUP BY pickup_zip HAVING max(rounded_pickup_datetime) < $max - 86400 AND count(*) > 1
		ORDER BY 1 LIMIT 1" | tr '|' ' ')
	[ -n "$zip" ]
	[ "$(q ret.db "SELECT rounded_pickup_datetime FROM trip_pickup_features WHERE pickup_zip = '$zip'")" = "$latest" ]
	# Requests for it at its latest row, later, and at the newest window:
	# the kept row, as offline.
	{
		echo "$TRIPS_HEADER"
		for t in $latest $((latest + 3600)) $max; do
			d=$(date -u -d "@$t" '+%F %T')
			echo "$d,$d,1.0,5.0,$zip,$zip"
		done
	} > req.csv
	run ff-predict -m model.json --online ret.db --skew-check req.csv
	assert_success
	assert_output "3 rows, 7 features each, 0 differences"
	ff-predict -m model.json --online ret.db --with-features --with-fallbacks req.csv > online.csv
	ff-predict -m model.json -s off.db --with-features --with-fallbacks req.csv | diff -u - online.csv
	[ "$(cut -d, -f8 online.csv | sort -u | wc -l)" = 2 ] # the header, and one value
	[ -z "$(cut -d, -f12 online.csv | tail -n +2 | grep mean_fare)" ]
}

# ---- while syncs apply -------------------------------------------------

@test "ff-predict --online in a loop while syncs apply never errors and never mixes versions" {
	requests 150 > req.csv
	ff-predict -m model.json -s off.db --with-features req.csv > a.csv
	# other.db is another store than the model's: --any-store, and its warnings.
	ff-predict -m model.json -s other.db --any-store --with-features req.csv > b.csv 2> /dev/null
	# Every feature differs between the two stores, on every row.
	[ "$(paste -d'|' a.csv b.csv | awk -F'|' 'NR > 1 { split($1, x, ","); split($2, y, ",");
		if (x[8] == y[8] || x[9] == y[9] || x[10] == y[10]) n++ } END { print n + 0 }')" = 0 ]
	# Syncs in turns, whole, from one store then the other.
	(
		n=0
		while [ ! -e stop ]; do
			ff-sync-online --full -s other.db --online on.db || exit 1
			ff-sync-online --full -s off.db --online on.db || exit 1
			echo $((n += 2)) > syncs
		done
	) 3>&- &
	local syncer=$! runs=0 errors=0 end=$((SECONDS + 8))
	while [ $SECONDS -lt $end ]; do
		runs=$((runs + 1))
		ff-predict -m model.json --online on.db --any-store --with-features req.csv > "out.$runs" 2> "err.$runs" ||
			errors=$((errors + 1))
	done
	touch stop
	wait "$syncer"
	[ "$errors" = 0 ] || fail "$errors of $runs runs failed: $(cat err.*)"
	[ "$(cat syncs)" -ge 2 ]
	local out
	for out in out.*; do
		diff -q <(wc -l < "$out") <(wc -l < a.csv) > /dev/null || fail "$out is short"
		# each table's features come from one version ...
		paste -d'|' "$out" a.csv b.csv | awk -F'|' '{ split($1, o, ","); split($2, a, ","); split($3, b, ",");
			p = o[8] "," o[9]; d = o[10] "," o[11]
			if ((p != a[8] "," a[9] && p != b[8] "," b[9]) || (d != a[10] "," a[11] && d != b[10] "," b[11]))
				{ print FILENAME ": row " NR ": " $1; bad = 1 } } END { exit bad }' ||
			fail "a table mixed versions within a row"
	done
	# ... and every row's features, all tables together, come from one version
	local mixed
	mixed=$(for out in out.*; do paste -d'|' "$out" a.csv b.csv | awk -F'|' -v f="$out" \
		'$1 != $2 && $1 != $3 { print f ": row " NR ": " $1 }'; done)
	[ -z "$mixed" ] || fail "$(wc -l <<<"$mixed") rows in $runs runs mixed two syncs, such as
$(head -n 3 <<<"$mixed")
(from off.db: $(sed -n 2p a.csv); from other.db: $(sed -n 2p b.csv))"
}

# ---- errors ------------------------------------------------------------

@test "--skew-check without --online exits 2" {
	requests 5 > req.csv
	run -2 ff-predict -m model.json --skew-check req.csv
	assert_output "ff-predict: --skew-check compares with an online store: give --online FILE
Try 'ff-predict --help' for more information."
}

@test "a missing online store, or a table it lacks, exits 1" {
	requests 5 > req.csv
	run -1 ff-predict -m model.json --online nope.db req.csv
	assert_output "ff-predict: nope.db: unable to open database file"
	[ ! -e nope.db ]
	ff-sync-online -s off.db --online part.db trip_pickup_features
	run -1 ff-predict -m model.json --online part.db req.csv
	assert_output "ff-predict: part.db: no table trip_dropoff_features in the online store: run ff-sync-online"
}

@test "online predictions are the batch ones byte for byte, deep trees and missing values included" {
	# Online scoring walks the trees itself (ff_trees); batch scoring asks
	# XGBoost. A deeper model, and requests whose lookups miss (--fallback
	# missing keeps NaN), exercise default directions too.
	ff-train -q -b bp -o deep.json --rounds 40 --depth 8 --subsample 0.8 "$BATS_FILE_TMPDIR/ts.csv"
	{ requests 500; awk -F, -v OFS=, 'NR > 1 && NR <= 50 { $5 = "999"; $6 = "998"; print }' trips.csv; } > req.csv
	ff-predict -m deep.json --fallback missing -o batch.csv req.csv
	ff-predict -m deep.json --fallback missing --online on.db -o online.csv req.csv
	[ "$(wc -l < online.csv)" -eq 550 ]
	cmp batch.csv online.csv
}

@test "a pretty-printed or re-saved model is scored by ff_trees, byte for byte the same" {
	# ff_trees parses the model's JSON: its layout (indentation, spaces
	# after colons, keys in another order, numbers re-written) does not
	# send it back to XGBoost's slower path. (jq 1.6 cannot make one:
	# it writes 0E0 as 0, which XGBoost 1.7 refuses as an integer.)
	requests 200 > req.csv
	ff-predict -m model.json --online on.db --stats -o plain.csv req.csv 2> plain.err
	[[ "$(cat plain.err)" == *"; scorer ff_trees" ]] || fail "$(cat plain.err)"
	python3 -c 'import json, sys; json.dump(json.load(sys.stdin), sys.stdout, indent=2)' \
		< model.json > pretty.json
	python3 -c 'import json, sys; json.dump(json.load(sys.stdin), sys.stdout, sort_keys=True)' \
		< model.json > sorted.json
	grep -q '^  "learner": {' pretty.json
	for m in pretty sorted; do
		run -0 --separate-stderr ff-predict -m $m.json --online on.db --stats -o $m.csv req.csv
		[[ "$stderr" == *"; scorer ff_trees" ]] || fail "$m: $stderr"
		cmp plain.csv $m.csv
	done
	ff-predict -m model.json -s off.db -o batch.csv req.csv
	cmp plain.csv batch.csv
}

@test "a model ff_trees does not take is scored by XGBoost, and --stats says why" {
	requests 20 > req.csv
	python3 -c 'import json, sys; m = json.load(sys.stdin)
m["learner"]["objective"]["name"] = "reg:absoluteerror"; json.dump(m, sys.stdout)' \
		< model.json > other.json
	run -0 --separate-stderr ff-predict -m other.json --online on.db --stats -o got.csv req.csv
	[[ "$stderr" == *"; scorer XGBoost, one row at a time (ff_trees does not take objective reg:absoluteerror)" ]] ||
		fail "$stderr"
	[[ "$stderr" != *$'\n'* ]]
	run -0 --separate-stderr ff-predict -m model.json -s off.db --stats -o got.csv req.csv
	[[ "$stderr" == *"; scorer XGBoost, in batches" ]] || fail "$stderr"
}

@test "a write error is one line with the errno of the write, batch and online" {
	[ -w /dev/full ] || skip "no /dev/full"
	requests 50 > req.csv
	# The store's clean-up (SQLite) sets errno after the failed write: the
	# message must still say why the write failed, once.
	run -1 --separate-stderr bash -c 'ff-predict -m model.json -s off.db req.csv > /dev/full'
	assert_equal "$stderr" "ff-predict: write error on standard output: No space left on device"
	run -1 --separate-stderr bash -c 'ff-predict -m model.json --online on.db req.csv > /dev/full'
	assert_equal "$stderr" "ff-predict: write error on standard output: No space left on device"
	run -1 --separate-stderr ff-predict -m model.json -s off.db -o /dev/full req.csv
	assert_equal "$stderr" "ff-predict: /dev/full: write error: No space left on device"
	# a reader that stops, SIGPIPE ignored: no message
	requests 3000 > big.csv
	run --separate-stderr bash -c 'trap "" PIPE; ff-predict -m model.json -s off.db big.csv | head -1'
	assert_equal "$stderr" ""
}
