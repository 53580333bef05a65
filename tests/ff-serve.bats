#!/usr/bin/env bats
# ff-serve: an HTTP scoring server in MLflow's scoring protocol. Each test
# starts its own server on a free loopback port (-p 0 --port-file), talks to
# it with curl (and a tiny Python client), and stops it with SIGTERM: the
# server must then exit 0 (under the check build, a leak makes it exit
# non-zero). Predictions are compared with ff-predict --online on the same
# rows, as text.

load test_helper/common
bats_require_minimum_version 1.5.0

TOOL="/usr/bin/python3 $BATS_TEST_DIRNAME/fixtures/serve/tool.py"
FEATURES=mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,count_trips_window_30m_dropoff_zip,dropoff_is_weekend
INPUTS='["tpep_pickup_datetime","tpep_dropoff_datetime","pickup_zip","dropoff_zip","trip_distance"]'
# One good record, as JSON.
REC='{"tpep_pickup_datetime":"2018-01-01 00:01:31","tpep_dropoff_datetime":"2018-01-01 00:11:20","trip_distance":1.68,"pickup_zip":142,"dropoff_zip":107}'

# For the whole file, in $BATS_FILE_TMPDIR: trips.csv, 3000 generated trips
# over 3 days; off.db, their two taxi tables; bp and model.json (5 rounds),
# model2.json (12 rounds: other predictions); on.db, off.db synced online;
# req.csv, the first 200 trips (fare_amount included: a column the model
# does not need).
setup_file() {
	cd "$BATS_FILE_TMPDIR" || return 1
	ff-gen-trips -n 3000 --days 3 -o trips.csv
	ff-compute -q -s off.db -f "$EXAMPLES/pickup_features.spec" -f "$EXAMPLES/dropoff_features.spec" trips.csv
	ff-train-set -q -s off.db -f "$EXAMPLES/training_set.spec" -b bp -o ts.csv trips.csv
	ff-train -q -b bp -o model.json --rounds 5 ts.csv
	ff-train -q -b bp -o model2.json --rounds 12 ts.csv
	ff-sync-online -s off.db --online on.db
	head -n 201 trips.csv > req.csv
}

setup() {
	common_setup
	local f
	for f in trips.csv req.csv on.db bp model.json model2.json; do
		cp "$BATS_FILE_TMPDIR/$f" .
	done
	unset FF_REGISTRY
	: > "$BATS_TEST_TMPDIR/pids"
}

# No server outlives its test, even a failed one.
teardown() {
	local pid
	for pid in $(cat "$BATS_TEST_TMPDIR/pids" 2>/dev/null); do
		kill -KILL "$pid" 2>/dev/null || true
	done
}

tool() { $TOOL "$@"; }

# start_server ARGS...: ff-serve ARGS on a free port, in the background;
# waits for its port file. Sets SPID, PORT, URL, SERR (its stderr).
start_server() {
	local pf=$BATS_TEST_TMPDIR/port i rc=0
	rm -f "$pf"
	SERR=$BATS_TEST_TMPDIR/serve.err
	ff-serve -p 0 --port-file "$pf" "$@" 2>"$SERR" 3>&- &
	SPID=$!
	echo "$SPID" >> "$BATS_TEST_TMPDIR/pids"
	for ((i = 0; i < 200; i++)); do
		[ -s "$pf" ] && break
		if ! alive "$SPID"; then
			wait "$SPID" || rc=$?
			fail "ff-serve $* exited $rc before serving: $(cat "$SERR")"
		fi
		sleep 0.05
	done
	[ -s "$pf" ] || fail "no port file after 10 s: $(cat "$SERR")"
	PORT=$(cat "$pf")
	URL=http://127.0.0.1:$PORT
}

# alive PID: the process runs (a zombie does not count).
alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ $st != Z* ]]
}

# stop_server [PID]: SIGTERM, wait (30 s at most), assert exit status 0.
stop_server() {
	local pid=${1:-$SPID} rc=0 i
	alive "$pid" || { wait "$pid" || rc=$?; fail "ff-serve was not running any more (exit $rc): $(cat "$SERR")"; }
	kill -TERM "$pid"
	for ((i = 0; i < 300; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	alive "$pid" && { kill -KILL "$pid"; fail "ff-serve did not exit within 30 s of SIGTERM"; }
	wait "$pid" || rc=$?
	[ "$rc" = 0 ] || fail "ff-serve exited $rc after SIGTERM: $(cat "$SERR")"
}

# http METHOD PATH [CURL ARGS...]: sets CODE (the HTTP status), BODY, and
# HEADERS (a file).
http() {
	local m=$1 p=$2
	shift 2
	HEADERS=$BATS_TEST_TMPDIR/headers
	CODE=$(curl -sS --max-time 30 -o "$BATS_TEST_TMPDIR/body" -D "$HEADERS" -w '%{http_code}' -X "$m" "$@" "$URL$p") ||
		CODE="curl failed ($CODE)"
	BODY=$(cat "$BATS_TEST_TMPDIR/body" 2>/dev/null)
}

# post PATH FILE [CURL ARGS...]: FILE as an application/json body.
post() {
	local p=$1 f=$2
	shift 2
	http POST "$p" -H 'Content-Type: application/json' --data-binary "@$f" "$@"
}

# post_text JSON: a JSON body given as text, to /invocations.
post_text() {
	printf '%s' "$1" > "$BATS_TEST_TMPDIR/req.json"
	post /invocations "$BATS_TEST_TMPDIR/req.json"
}

# expect_error STATUS ERROR_CODE MESSAGE_REGEX: the last answer.
expect_error() {
	[ "$CODE" = "$1" ] || fail "status $CODE, not $1: $BODY"
	grep -qi '^content-type: application/json' "$HEADERS" || fail "not JSON: $(cat "$HEADERS")"
	[ "$(jq -r .error_code <<<"$BODY")" = "$2" ] || fail "error_code: $BODY"
	local msg
	msg=$(jq -r .message <<<"$BODY")
	[[ $msg =~ $3 ]] || fail "message '$msg' does not match '$3'"
	[ "$(jq -r 'keys | join(",")' <<<"$BODY")" = error_code,message ] || fail "other keys: $BODY"
}

# expect_good: a good request is still answered, with the right prediction.
expect_good() {
	post_text "{\"dataframe_records\":[$REC]}"
	[ "$CODE" = 200 ] || fail "a good request after: $CODE $BODY"
	[ "$BODY" = "$(printf '{"predictions":[%s]}' "$(one_prediction)")" ] || fail "a good request after: $BODY"
}

# one_prediction: ff-predict's answer to $REC.
one_prediction() {
	printf '%s\n' tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,pickup_zip,dropoff_zip \
		'2018-01-01 00:01:31,2018-01-01 00:11:20,1.68,142,107' |
		ff-predict -m "${1:-model.json}" --online on.db - | awk -F, 'NR == 2 { print $6 }'
}

# expected_predictions [MODEL] [CSV]: ff-predict --online's prediction column.
expected_predictions() {
	ff-predict -m "${1:-model.json}" --online on.db "${2:-req.csv}" | awk -F, 'NR > 1 { print $7 }'
}

# metric NAME_AND_LABELS: its value in the last /metrics answer ($BODY).
metric() {
	awk -v m="$1" '$1 == m { print $2; f = 1 } END { exit !f }' <<<"$BODY" || fail "no metric $1 in: $BODY"
}

# rss PID: resident set size in kB.
rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }

# ---- scoring: every request form gives ff-predict's answers ------------

@test "every JSON request form gives ff-predict --online's predictions, in order" {
	expected_predictions > expected
	[ "$(wc -l < expected)" = 200 ]
	start_server --online on.db -m model.json
	local form
	for form in records split split-strings inputs-records instances inputs-columns instances-columns \
		bare-records bare-split; do
		tool body "$form" req.csv > body.json
		post /invocations body.json
		[ "$CODE" = 200 ] || fail "$form: status $CODE: $BODY"
		grep -qi '^content-type: application/json' "$HEADERS" || fail "$form: $(cat "$HEADERS")"
		[ "$(jq -r 'keys | join(",")' <<<"$BODY")" = predictions ] || fail "$form: $BODY"
		tool preds <<<"$BODY" | diff -u expected - || fail "form $form: other predictions"
	done
	stop_server
}

@test "a single row as {\"inputs\": {col: value}}, row by row, gives ff-predict's predictions" {
	head -n 21 req.csv > twenty.csv
	expected_predictions model.json twenty.csv > expected
	start_server --online on.db -m model.json
	local i
	: > got
	for i in $(seq 2 21); do
		sed -n "1p;${i}p" twenty.csv > one.csv
		tool body single one.csv > body.json
		post /invocations body.json
		[ "$CODE" = 200 ] || fail "row $i: $CODE $BODY"
		tool preds <<<"$BODY" >> got
	done
	diff -u expected got
	stop_server
}

@test "a text/csv body (header and rows, extra columns ignored) gives ff-predict's predictions" {
	expected_predictions > expected
	start_server --online on.db -m model.json
	http POST /invocations -H 'Content-Type: text/csv' --data-binary @req.csv
	[ "$CODE" = 200 ] || fail "$CODE $BODY"
	tool preds <<<"$BODY" | diff -u expected -
	# with a charset, and the columns in another order
	awk -F, -v OFS=, '{ print $6, $3, $1, $5, $2, $4 }' req.csv > shuffled.csv
	http POST /invocations -H 'Content-Type: text/csv; charset=utf-8' --data-binary @shuffled.csv
	[ "$CODE" = 200 ] || fail "$CODE $BODY"
	tool preds <<<"$BODY" | diff -u expected -
	stop_server
}

@test "a client written only against MLflow's documented protocol gets the predictions" {
	expected_predictions > expected
	start_server --online on.db -m model.json
	run --separate-stderr tool client "$URL/invocations" req.csv
	assert_success
	diff -u expected <(printf '%s\n' "$output")
	stop_server
}

@test "/predict answers as /invocations; /models/NAME/invocations picks a model; an unknown name is a 404" {
	expected_predictions model.json > a.expected
	expected_predictions model2.json > b.expected
	! cmp -s a.expected b.expected
	tool body records req.csv > body.json
	start_server --online on.db -m a=model.json -m b=model2.json
	post /invocations body.json
	[ "$CODE" = 200 ] && tool preds <<<"$BODY" | diff -u a.expected -
	post /predict body.json
	[ "$CODE" = 200 ] && tool preds <<<"$BODY" | diff -u a.expected -
	local p
	for p in /models/a/invocations /models/a/predict; do
		post "$p" body.json
		[ "$CODE" = 200 ] || fail "$p: $CODE $BODY"
		tool preds <<<"$BODY" | diff -u a.expected -
	done
	for p in /models/b/invocations /models/b/predict; do
		post "$p" body.json
		[ "$CODE" = 200 ] || fail "$p: $CODE $BODY"
		tool preds <<<"$BODY" | diff -u b.expected -
	done
	post /models/c/invocations body.json
	expect_error 404 RESOURCE_DOES_NOT_EXIST "no model named 'c'"
	post /models/model/invocations body.json
	expect_error 404 RESOURCE_DOES_NOT_EXIST "no model named 'model'"
	post /models//invocations body.json
	[ "$CODE" = 404 ] || fail "/models//invocations: $CODE $BODY"
	post /models/a/b/invocations body.json
	[ "$CODE" = 404 ] || fail "/models/a/b/invocations: $CODE $BODY"
	stop_server
}

@test "a model file is served under its base name" {
	tool body records req.csv > body.json
	expected_predictions > expected
	start_server --online on.db -m "$PWD/model.json"
	post /models/model/invocations body.json
	[ "$CODE" = 200 ] || fail "$CODE $BODY"
	tool preds <<<"$BODY" | diff -u expected -
	stop_server
}

# ---- features, fallbacks ----------------------------------------------

@test "?features=true and X-FF-Features: 1 add features, fallbacks, latencies and the model" {
	# 50 trips, then one whose zips the store has never seen
	head -n 51 req.csv > req50.csv
	echo '2018-01-02 10:01:00,2018-01-02 10:11:00,2.0,9.0,999,998' >> req50.csv
	ff-predict -m model.json --online on.db --with-features --with-fallbacks req50.csv | tail -n +2 | cut -d, -f7- > expected
	[ "$(tail -n 1 expected | cut -d, -f6)" = "${FEATURES//,/ }" ]
	tool body records req50.csv > body.json
	start_server --online on.db -m model.json
	http GET /version
	local version
	version=$(jq -r '.models[0].version' <<<"$BODY")
	local how
	for how in '?features=true' '?features=1' 'H'; do
		if [ "$how" = H ]; then
			post /invocations body.json -H 'X-FF-Features: 1'
		else
			post "/invocations$how" body.json
		fi
		[ "$CODE" = 200 ] || fail "$how: $CODE $BODY"
		[ "$(jq -r 'keys | join(",")' <<<"$BODY")" = fallbacks,features,lookup_latency_us,model,model_version,predictions ] ||
			fail "$how: keys of $BODY"
		tool explain <<<"$BODY" > got
		# the predictions as text; the features as floats (ff-predict
		# prints a fallback feature as a double, the server as a float)
		diff -u <(cut -d, -f1 expected) <(cut -d, -f1 got) || fail "$how: other predictions"
		tool close expected got || fail "$how: other features"
		[ "$(jq -r .model <<<"$BODY")" = model ]
		[ "$(jq -r .model_version <<<"$BODY")" = "$version" ]
		jq -e '.lookup_latency_us | length == 51 and all(type == "number" and . >= 0)' <<<"$BODY" > /dev/null
		jq -e '.fallbacks[50] == ["mean_fare_window_1h_pickup_zip","count_trips_window_1h_pickup_zip","count_trips_window_30m_dropoff_zip","dropoff_is_weekend"]' <<<"$BODY" > /dev/null
	done
	# without: the predictions alone
	post '/invocations?features=false' body.json
	[ "$(jq -r 'keys | join(",")' <<<"$BODY")" = predictions ] || fail "features=false: $BODY"
	post /invocations body.json -H 'X-FF-Features: 0'
	[ "$(jq -r 'keys | join(",")' <<<"$BODY")" = predictions ] || fail "X-FF-Features: 0: $BODY"
	stop_server
}

# ---- health, version, metrics ----------------------------------------

@test "GET /health and /ping: 200 ready; /version: ff's version and the models" {
	start_server --online on.db -m model.json -m b=model2.json
	local p
	for p in /health /ping; do
		http GET "$p"
		[ "$CODE" = 200 ] || fail "$p: $CODE $BODY"
		[ "$(jq -r .status <<<"$BODY")" = ready ] || fail "$p: $BODY"
		[ "$(jq -r .models <<<"$BODY")" = 2 ] || fail "$p: $BODY"
	done
	http GET /version
	[ "$CODE" = 200 ] || fail "$CODE $BODY"
	ffv=$(ff-serve --version | grep -o '[0-9][0-9.]*[0-9]' | head -1)
	[ "$(jq -r .ff <<<"$BODY")" = "$ffv" ] || fail "ff: $BODY (ff-serve --version: $(ff-serve --version))"
	[ "$(jq -c '[.models[].name]' <<<"$BODY")" = '["model","b"]' ]
	[ "$(jq -c '.models[0].inputs' <<<"$BODY")" = "$INPUTS" ]
	[ "$(jq -c '.models[1].inputs' <<<"$BODY")" = "$INPUTS" ]
	local v1 v2
	v1=$(jq -r '.models[0].version' <<<"$BODY")
	v2=$(jq -r '.models[1].version' <<<"$BODY")
	[ -n "$v1" ] && [ -n "$v2" ] && [ "$v1" != "$v2" ]
	# HEAD is allowed on the GET routes
	CODE=$(curl -sS -o /dev/null -w '%{http_code}' -I "$URL/health")
	[ "$CODE" = 200 ]
	stop_server
}

@test "/metrics: Prometheus text; requests by code, errors, histogram, rows, lookups, misses, fallbacks, model_info" {
	start_server --online on.db -m model.json
	http GET /metrics
	[ "$CODE" = 200 ] || fail "$CODE $BODY"
	grep -qi '^content-type: text/plain' "$HEADERS"
	local ok0 err0 rows0 look0 miss0 fb0 count0
	ok0=$(metric 'ff_serve_requests_total{code="200"}' 2>/dev/null || echo 0)
	err0=$(metric ff_serve_errors_total)
	rows0=$(metric ff_serve_rows_total)
	look0=$(metric ff_serve_lookups_total)
	miss0=$(metric ff_serve_lookup_misses_total)
	fb0=$(metric ff_serve_fallbacks_total)
	count0=$(metric ff_serve_request_duration_seconds_count)
	# 3 good requests of 2 rows each, one row missing both lookups (4 fallbacks)
	local body="{\"dataframe_records\":[$REC,${REC//142/999}]}"
	body=${body/107,/107,}
	post_text "$body"
	[ "$CODE" = 200 ] || fail "$CODE $BODY"
	post_text "{\"dataframe_records\":[$REC,$REC]}"
	post_text "{\"dataframe_records\":[$REC,$REC]}"
	# 2 errors
	post_text '{'
	http GET /nope
	http GET /metrics
	[ "$(metric 'ff_serve_requests_total{code="200"}')" = $((ok0 + 3 + 1)) ] # and the first /metrics
	[ "$(metric 'ff_serve_requests_total{code="400"}')" = 1 ]
	[ "$(metric 'ff_serve_requests_total{code="404"}')" = 1 ]
	[ "$(metric ff_serve_errors_total)" = $((err0 + 2)) ]
	[ "$(metric ff_serve_rows_total)" = $((rows0 + 6)) ]
	[ "$(metric ff_serve_lookups_total)" = $((look0 + 12)) ]
	[ "$(metric ff_serve_lookup_misses_total)" = $((miss0 + 1)) ]
	[ "$(metric ff_serve_fallbacks_total)" = $((fb0 + 2)) ]
	# the histogram: buckets never decrease, +Inf is the count
	local count
	count=$(metric ff_serve_request_duration_seconds_count)
	[ "$count" = $((count0 + 6)) ] || fail "count $count, was $count0: $BODY"
	awk '/^ff_serve_request_duration_seconds_bucket/ { if ($2 + 0 < last) { print "decreasing: " $0; bad = 1 } last = $2 + 0; n++ }
		END { exit bad || n < 2 }' <<<"$BODY"
	[ "$(metric 'ff_serve_request_duration_seconds_bucket{le="+Inf"}')" = "$count" ]
	metric ff_serve_request_duration_seconds_sum > /dev/null
	grep -q '^# TYPE ff_serve_request_duration_seconds histogram$' <<<"$BODY"
	grep -q '^# TYPE ff_serve_requests_total counter$' <<<"$BODY"
	local version
	version=$(ff-serve --version > /dev/null; curl -sS "$URL/version" | jq -r '.models[0].version')
	[ "$(metric "ff_serve_model_info{model=\"model\",version=\"$version\",loaded=\"model.json\"}")" = 1 ]
	# every sample line is NAME[{LABELS}] NUMBER
	grep -v '^#' <<<"$BODY" | grep -Ev '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eE]+(Inf)?$' && fail "bad lines"
	stop_server
}

# ---- bad requests: a 4xx with a JSON message, and serving goes on ------

@test "invalid JSON: 400 naming the line and column" {
	start_server --online on.db -m model.json
	post_text $'{"dataframe_records":\n [{"a": 1,,}]}'
	expect_error 400 BAD_REQUEST 'line 2, column [0-9]+'
	post_text "{\"dataframe_records\":[$REC"
	expect_error 400 BAD_REQUEST 'invalid JSON at line 1, column [0-9]+'
	expect_good
	stop_server
}

@test "an empty body: 400" {
	start_server --online on.db -m model.json
	http POST /invocations -H 'Content-Type: application/json' --data-binary ''
	expect_error 400 BAD_REQUEST '.'
	http POST /invocations -H 'Content-Type: text/csv' --data-binary ''
	expect_error 400 BAD_REQUEST 'empty'
	expect_good
	stop_server
}

@test "a body of the wrong shape, or two forms at once: 400 naming the forms" {
	start_server --online on.db -m model.json
	post_text '"x"'
	expect_error 400 BAD_REQUEST '.'
	post_text '42'
	expect_error 400 BAD_REQUEST '.'
	post_text '{"rows":[]}'
	expect_error 400 BAD_REQUEST 'dataframe_records, dataframe_split, inputs or instances'
	post_text '{"dataframe_records":{"a":1}}'
	expect_error 400 BAD_REQUEST 'dataframe_records: expected a list of records'
	post_text '{"dataframe_split":[1]}'
	expect_error 400 BAD_REQUEST "dataframe_split: expected an object with a list 'columns' and a list 'data'"
	post_text '{"inputs":"x"}'
	expect_error 400 BAD_REQUEST 'inputs: expected a list of records or an object of columns'
	post_text '{"dataframe_records":[1]}'
	expect_error 400 BAD_REQUEST 'record 1: not an object'
	post_text "{\"dataframe_records\":[$REC],\"inputs\":[$REC]}"
	expect_error 400 BAD_REQUEST 'give one of dataframe_records and inputs, not both'
	post_text "{\"inputs\":[$REC],\"instances\":[$REC]}"
	expect_error 400 BAD_REQUEST 'give one of inputs and instances, not both'
	post_text '{"dataframe_records":[]}'
	expect_error 400 BAD_REQUEST 'no rows'
	expect_good
	stop_server
}

@test "a missing column: 400 naming the column and the record" {
	start_server --online on.db -m model.json
	post_text "{\"dataframe_records\":[$REC,${REC/\"trip_distance\":1.68,/}]}"
	expect_error 400 BAD_REQUEST "record 2: no column 'trip_distance'"
	post_text '{"dataframe_split":{"columns":["tpep_pickup_datetime"],"data":[["2018-01-01 00:00:00"]]}}'
	expect_error 400 BAD_REQUEST "no column 'tpep_dropoff_datetime'"
	printf 'tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,pickup_zip\n2018-01-01 00:01:31,2018-01-01 00:11:20,1.68,142\n' > no_dropoff.csv
	http POST /invocations -H 'Content-Type: text/csv' --data-binary @no_dropoff.csv
	expect_error 400 BAD_REQUEST "no column 'dropoff_zip'"
	expect_good
	stop_server
}

@test "a value that is an object or a list: 400 naming the record and column" {
	start_server --online on.db -m model.json
	post_text "{\"dataframe_records\":[$REC,${REC/1.68/{\"a\":1\}}]}"
	expect_error 400 BAD_REQUEST "record 2: column 'trip_distance': a value must be a string, number, boolean or null"
	post_text "{\"dataframe_records\":[${REC/142/[142]}]}"
	expect_error 400 BAD_REQUEST "record 1: column 'pickup_zip'"
	expect_good
	stop_server
}

@test "an unparseable timestamp, a non-numeric trip_distance: 400 naming row and column" {
	start_server --online on.db -m model.json
	post_text "{\"dataframe_records\":[$REC,${REC/2018-01-01 00:01:31/yesterday}]}"
	expect_error 400 BAD_REQUEST "row 2: column 'tpep_pickup_datetime': bad timestamp 'yesterday'"
	post_text "{\"dataframe_records\":[${REC/1.68/\"abc\"}]}"
	expect_error 400 BAD_REQUEST "row 1: column 'trip_distance': not a number"
	expect_good
	stop_server
}

@test "a dataframe_split row of the wrong length, columnar lists of different lengths: 400" {
	start_server --online on.db -m model.json
	local cols='["tpep_pickup_datetime","tpep_dropoff_datetime","pickup_zip","dropoff_zip","trip_distance"]'
	post_text "{\"dataframe_split\":{\"columns\":$cols,\"data\":[[\"2018-01-01 00:01:31\",\"2018-01-01 00:11:20\",142,107,1.68],[1,2]]}}"
	expect_error 400 BAD_REQUEST 'row 2: expected a list of 5 values'
	post_text '{"inputs":{"tpep_pickup_datetime":["2018-01-01 00:01:31"],"tpep_dropoff_datetime":["2018-01-01 00:11:20","2018-01-01 00:11:20"],"pickup_zip":[1],"dropoff_zip":[1],"trip_distance":[1]}}'
	expect_error 400 BAD_REQUEST "column 'tpep_dropoff_datetime' has 2 values, column 'tpep_pickup_datetime' 1"
	post_text '{"inputs":{"tpep_pickup_datetime":["2018-01-01 00:01:31"],"tpep_dropoff_datetime":"2018-01-01 00:11:20","pickup_zip":[1],"dropoff_zip":[1],"trip_distance":[1]}}'
	expect_error 400 BAD_REQUEST 'all lists or all single values'
	expect_good
	stop_server
}

@test "an unsupported content type: 415; wrong method: 405 with Allow; unknown path: 404" {
	start_server --online on.db -m model.json
	http POST /invocations -H 'Content-Type: text/plain' --data-binary "{\"dataframe_records\":[$REC]}"
	expect_error 415 UNSUPPORTED_MEDIA_TYPE "unsupported content type 'text/plain'"
	http POST /invocations -H 'Content-Type: application/xml' --data-binary '<a/>'
	expect_error 415 UNSUPPORTED_MEDIA_TYPE "application/xml"
	http GET /invocations
	expect_error 405 METHOD_NOT_ALLOWED 'GET is not allowed on /invocations'
	grep -qi '^allow: POST' "$HEADERS" || fail "no Allow: $(cat "$HEADERS")"
	http PUT /invocations --data-binary x
	expect_error 405 METHOD_NOT_ALLOWED 'PUT is not allowed'
	http POST /health --data-binary x
	expect_error 405 METHOD_NOT_ALLOWED 'POST is not allowed on /health'
	grep -qi '^allow: GET' "$HEADERS" || fail "no Allow: $(cat "$HEADERS")"
	http DELETE /metrics
	expect_error 405 METHOD_NOT_ALLOWED 'DELETE'
	http GET /nope
	expect_error 404 ENDPOINT_NOT_FOUND 'no such endpoint: /nope'
	http POST /invocations/ -H 'Content-Type: application/json' --data-binary "{\"dataframe_records\":[$REC]}"
	expect_error 404 ENDPOINT_NOT_FOUND 'no such endpoint'
	expect_good
	stop_server
}

@test "an oversized body, by Content-Length or chunked: 413; too many rows: 400" {
	start_server --online on.db -m model.json --body-limit 1K --max-rows 5
	tool body records req.csv > big.json
	[ "$(wc -c < big.json)" -gt 1024 ]
	post /invocations big.json
	expect_error 413 REQUEST_LIMIT_EXCEEDED 'larger than the limit of 1024 bytes'
	post /invocations big.json -H 'Transfer-Encoding: chunked'
	expect_error 413 REQUEST_LIMIT_EXCEEDED 'larger than the limit of 1024 bytes'
	# 1024 bytes exactly is fine
	local body="{\"dataframe_records\":[$REC]}"
	printf '%s%*s' "$body" $((1024 - ${#body})) '' > exact.json
	[ "$(wc -c < exact.json)" = 1024 ]
	post /invocations exact.json
	[ "$CODE" = 200 ] || fail "1024 bytes: $CODE $BODY"
	post /invocations exact.json -H 'Transfer-Encoding: chunked'
	[ "$CODE" = 200 ] || fail "1024 bytes chunked: $CODE $BODY"
	post_text "{\"dataframe_records\":[$REC,$REC,$REC,$REC,$REC,$REC]}"
	expect_error 400 BAD_REQUEST 'more than 5 rows in one request'
	post_text "{\"dataframe_records\":[$REC,$REC,$REC,$REC,$REC]}"
	[ "$CODE" = 200 ] || fail "5 rows: $CODE $BODY"
	head -n 7 req.csv > six.csv
	http POST /invocations -H 'Content-Type: text/csv' --data-binary @six.csv
	expect_error 400 BAD_REQUEST 'more than 5 rows'
	expect_good
	stop_server
}

@test "a client that sends headers then stalls past --timeout is cut off; serving goes on" {
	start_server --online on.db -m model.json --timeout 1
	local t0=$SECONDS
	run /usr/bin/python3 - "$PORT" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
s.settimeout(8)
t = time.time()
try:
    data = s.recv(4096)
except socket.timeout:
    print("still open after 8 s"); sys.exit(1)
print("closed after %.1f s" % (time.time() - t), repr(data[:40]))
EOF
	assert_success
	# meanwhile and after, a good request
	expect_good
	# a dribbling client (a byte every 0.3 s) is cut off too
	run /usr/bin/python3 - "$PORT" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
t = time.time()
try:
    while time.time() - t < 8:
        s.sendall(b" ")
        time.sleep(0.3)
    print("still open after 8 s"); sys.exit(1)
except OSError as e:
    print("closed after %.1f s" % (time.time() - t), e)
EOF
	assert_success
	expect_good
	stop_server
}

# ---- robustness --------------------------------------------------------

@test "hundreds of malformed and oversized requests: all 4xx, the server lives on, its memory does not grow" {
	# ASan's quarantine of freed memory (256 MB) would grow the RSS by itself
	ASAN_OPTIONS=$ASAN_OPTIONS:quarantine_size_mb=0 start_server --online on.db -m model.json --body-limit 64K -t 2
	tool junk 300 1 junk0
	tool junk 600 2 junk1
	tool junk 600 3 junk2
	local f code batch bad=0 rss1 rss2
	# junk0 warms up: the allocator's pools, every worker's buffers
	for batch in junk0 junk1 junk2; do
		for f in "$batch"/*; do
			code=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
				--data-binary "@$f" "$URL/invocations") || code=curl
			[[ $code == 4[0-9][0-9] ]] || { echo "$f: $code"; bad=$((bad + 1)); }
		done
		# a few oversized ones, and CSV junk
		for f in 1 2 3 4 5; do
			code=$(head -c 200000 /dev/urandom | curl -sS --max-time 10 -o /dev/null -w '%{http_code}' \
				-H 'Content-Type: text/csv' --data-binary @- "$URL/invocations") || code=curl
			[ "$code" = 413 ] || { echo "oversized: $code"; bad=$((bad + 1)); }
			code=$(head -c 3000 /dev/urandom | curl -sS --max-time 10 -o /dev/null -w '%{http_code}' \
				-H 'Content-Type: text/csv' --data-binary @- "$URL/invocations") || code=curl
			[[ $code == 4[0-9][0-9] ]] || { echo "csv junk: $code"; bad=$((bad + 1)); }
		done
		alive "$SPID" || fail "ff-serve died: $(cat "$SERR")"
		if [ "$batch" = junk1 ]; then rss1=$(rss "$SPID"); elif [ "$batch" = junk2 ]; then rss2=$(rss "$SPID"); fi
	done
	[ "$bad" = 0 ] || fail "$bad requests not answered with a 4xx"
	expect_good
	echo "VmRSS after batch 1: $rss1 kB, after batch 2: $rss2 kB"
	[ "$rss2" -le $((rss1 + rss1 / 10 + 2048)) ] || fail "VmRSS grew from $rss1 kB to $rss2 kB"
	stop_server
}

# ---- usage errors and failures ----------------------------------------

@test "usage errors exit 2 with a message on stderr, nothing on stdout" {
	local args
	while IFS= read -r args; do
		eval "run --separate-stderr ff-serve $args"
		[ "$status" = 2 ] || fail "ff-serve $args: exit $status, stderr: $stderr"
		[ -z "$output" ] || fail "ff-serve $args: stdout: $output"
		[[ $stderr == ff-serve:* ]] || fail "ff-serve $args: stderr: $stderr"
	done <<'EOF'
--online on.db
-m model.json
--online on.db -m model.json -p 65536
--online on.db -m model.json -p -1
--online on.db -m model.json -p http
--online on.db -m model.json --threads 0
--online on.db -m model.json -t x
--online on.db -m model.json --body-limit 1G2
--online on.db -m model.json --body-limit lots
--online on.db -m model.json --body-limit 0
--online on.db -m model.json --max-rows 0
--online on.db -m model.json --timeout 0
--online on.db -m model.json extra
--online on.db -m model.json --nope
--online on.db -m
EOF
	run --separate-stderr ff-serve --online on.db
	assert_equal "$stderr" "ff-serve: no model: give -m MODEL
Try 'ff-serve --help' for more information."
	run --separate-stderr ff-serve -m model.json
	[[ ${stderr%%$'\n'*} == "ff-serve: no online store: give --online FILE"* ]]
	run --separate-stderr ff-serve --online on.db -m model.json extra
	[[ $stderr == *"'extra'"* ]]
	run --separate-stderr ff-serve --online on.db -m model.json -p 70000
	[[ $stderr == *"--port '70000'"* ]]
	run --separate-stderr ff-serve --online on.db -m model.json --threads 0
	[[ $stderr == *"--threads '0'"* ]]
}

@test "a missing store or model, an unknown models:/ name, a model without its tables online: exit 1" {
	run --separate-stderr ff-serve --online nope.db -m model.json -p 0
	[ "$status" = 1 ] && [ -z "$output" ] || fail "exit $status"
	[[ $stderr == *nope.db* ]]
	[ ! -e nope.db ]
	run --separate-stderr ff-serve --online on.db -m nope.json -p 0
	[ "$status" = 1 ] && [ -z "$output" ] || fail "exit $status: $stderr"
	[[ $stderr == *nope.json* ]]
	ff-models -r reg.db register taxi model.json > /dev/null
	run --separate-stderr ff-serve --online on.db -r reg.db -m models:/nope@champion -p 0
	[ "$status" = 1 ] && [ -z "$output" ] || fail "exit $status: $stderr"
	[[ $stderr == *nope* ]]
	run --separate-stderr ff-serve --online on.db -r reg.db -m models:/taxi/7 -p 0
	[ "$status" = 1 ] || fail "exit $status: $stderr"
	ff-sync-online -s "$BATS_FILE_TMPDIR/off.db" --online part.db trip_pickup_features
	run --separate-stderr ff-serve --online part.db -m model.json -p 0
	[ "$status" = 1 ] && [ -z "$output" ] || fail "exit $status: $stderr"
	[[ $stderr == *trip_dropoff_features* ]] || fail "stderr: $stderr"
	echo '{"not": "a model"}' > bad.json
	run --separate-stderr ff-serve --online on.db -m bad.json -p 0
	[ "$status" = 1 ] || fail "exit $status: $stderr"
	[[ $stderr == *bad.json* ]]
	run --separate-stderr ff-serve --online on.db -m a=model.json -m a=model2.json -p 0
	[ "$status" = 1 ] || fail "exit $status: $stderr"
	[[ $stderr == *"two models named a"* ]]
}

@test "a port in use: the second server exits 1, the first serves on" {
	start_server --online on.db -m model.json
	run --separate-stderr timeout 30 ff-serve --online on.db -m model.json -p "$PORT" 3>&-
	[ "$status" = 1 ] || fail "exit $status: $stderr"
	[[ $stderr == *"$PORT"* ]] || fail "stderr: $stderr"
	expect_good
	stop_server
}

# ---- SIGHUP: reload ----------------------------------------------------

@test "SIGHUP reloads models:/NAME@champion when the alias moves; no request fails across it" {
	export FF_REGISTRY=$PWD/reg.db
	[ "$(ff-models register taxi model.json --alias champion)" = models:/taxi/1 ]
	[ "$(ff-models register taxi model2.json)" = models:/taxi/2 ]
	expected_predictions model.json > v1.expected
	expected_predictions model2.json > v2.expected
	tool body records req.csv > body.json
	start_server --online on.db -m models:/taxi@champion
	http GET /version
	[ "$(jq -r '.models[0].version' <<<"$BODY")" = 1 ] || fail "$BODY"
	[ "$(jq -r '.models[0].name' <<<"$BODY")" = taxi ] || fail "$BODY"
	post /invocations body.json
	tool preds <<<"$BODY" | diff -u v1.expected -
	# requests in a loop across the reload
	(
		n=0
		while [ ! -e stop ]; do
			n=$((n + 1))
			curl -sS --max-time 20 -o "resp.$n" -w '%{http_code}\n' -H 'Content-Type: application/json' \
				--data-binary @body.json "$URL/invocations" > "code.$n" 2>&1
		done
	) 3>&- &
	local loop=$!
	sleep 1
	ff-models alias taxi 2 champion
	kill -HUP "$SPID"
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(curl -sS "$URL/version" | jq -r '.models[0].version')" = 2 ] && break
		sleep 0.1
	done
	sleep 1
	touch stop
	wait "$loop"
	http GET /version
	[ "$(jq -r '.models[0].version' <<<"$BODY")" = 2 ] || fail "after SIGHUP: $BODY"
	[ "$(jq -r '.models[0].loaded' <<<"$BODY")" = models:/taxi/2 ] || fail "after SIGHUP: $BODY"
	post /invocations body.json
	tool preds <<<"$BODY" | diff -u v2.expected -
	# every request of the loop: 200, the old predictions or the new ones
	local f n=0 bad=0
	for f in code.*; do
		n=$((n + 1))
		[ "$(cat "$f")" = 200 ] || { echo "$f: $(cat "$f")"; bad=$((bad + 1)); continue; }
		tool preds < "resp.${f#code.}" > p
		cmp -s p v1.expected || cmp -s p v2.expected || { echo "resp.${f#code.}: other predictions"; bad=$((bad + 1)); }
	done
	[ "$n" -ge 3 ] || fail "only $n requests in the loop"
	[ "$bad" = 0 ] || fail "$bad of $n requests across the reload went wrong"
	http GET /metrics
	[ "$(metric ff_serve_reloads_total)" = 1 ]
	[ "$(metric ff_serve_reload_failures_total)" = 0 ]
	metric 'ff_serve_model_info{model="taxi",version="2",loaded="models:/taxi/2"}' > /dev/null
	stop_server
}

@test "a failed reload (the model file gone) keeps the old model serving and is counted" {
	expected_predictions > expected
	tool body records req.csv > body.json
	cp model.json served.json
	start_server --online on.db -m served.json
	rm served.json
	kill -HUP "$SPID"
	local i
	for ((i = 0; i < 100; i++)); do
		http GET /metrics
		[ "$(metric ff_serve_reload_failures_total)" = 1 ] && break
		sleep 0.1
	done
	[ "$(metric ff_serve_reload_failures_total)" = 1 ] || fail "$BODY"
	[ "$(metric ff_serve_reloads_total)" = 0 ]
	grep -q 'reload failed' "$SERR" || fail "stderr: $(cat "$SERR")"
	post /invocations body.json
	[ "$CODE" = 200 ] || fail "$CODE $BODY"
	tool preds <<<"$BODY" | diff -u expected -
	http GET /health
	[ "$CODE" = 200 ]
	# the file back, and a reload takes
	cp model2.json served.json
	kill -HUP "$SPID"
	for ((i = 0; i < 100; i++)); do
		http GET /metrics
		[ "$(metric ff_serve_reloads_total)" = 1 ] && break
		sleep 0.1
	done
	expected_predictions model2.json > expected2
	post /invocations body.json
	tool preds <<<"$BODY" | diff -u expected2 -
	stop_server
}

# XGBoost 1.7 crashed reading a model whose num_trees is above its trees:
# ff-serve died on the SIGHUP. Checked first, the reload fails and the old
# model goes on serving; at the start, the same model is exit 1.
@test "a damaged model: exit 1 at the start, and a SIGHUP onto it keeps the old model serving" {
	local damage="/usr/bin/python3 $BATS_TEST_DIRNAME/fixtures/model/damage.py" i
	$damage model.json 'g["gbtree_model_param"]["num_trees"] = "9"' > bad.json
	run -1 --separate-stderr ff-serve --online on.db -m bad.json -p 0
	[ "$stderr" = "ff-serve: bad.json: num_trees is 9 but 5 trees are given" ] || fail "$stderr"
	expected_predictions > expected
	tool body records req.csv > body.json
	cp model.json served.json
	start_server --online on.db -m served.json
	local n=0 damage_of
	for damage_of in 'g["gbtree_model_param"]["num_trees"] = "9"' 't[1]["left_children"][0] = 99999' \
		't[0]["split_indices"][0] = 70' 't[2]["parents"].pop()'; do
		$damage model.json "$damage_of" > served.json
		kill -HUP "$SPID"
		n=$((n + 1))
		for ((i = 0; i < 100; i++)); do
			http GET /metrics
			[ "$(metric ff_serve_reload_failures_total)" = "$n" ] && break
			sleep 0.1
		done
		[ "$(metric ff_serve_reload_failures_total)" = "$n" ] || fail "reload $n: $BODY"
		alive "$SPID" || fail "ff-serve died on a SIGHUP onto: $damage_of"
		post /invocations body.json
		[ "$CODE" = 200 ] || fail "$CODE $BODY"
		tool preds <<<"$BODY" | diff -u expected -
	done
	http GET /metrics
	[ "$(metric ff_serve_reloads_total)" = 0 ]
	grep -q '^ff-serve: served.json: tree 1: left_children\[0\] = 99999 out of range$' "$SERR" ||
		fail "stderr: $(cat "$SERR")"
	stop_server
}

# ---- framing and starvation: what a client must not get away with ----

attack() { /usr/bin/python3 "$BATS_TEST_DIRNAME/fixtures/serve/attack.py" "$@"; }

# raw_request FILE: the request in FILE (LF line ends made CRLF) sent as it
# is; sets ANSWER (LF line ends, the Date line out) with <closed> or <open>.
raw_request() {
	sed 's/$/\r/' "$1" | head -c -2 > "$1.crlf"
	ANSWER=$(attack raw "$PORT" "$1.crlf" | grep -v '^Date: ')
}

# RFC 9112 6.3: a body whose end is ambiguous is 400 and the connection is
# closed, so what follows (a smuggled GET /metrics) is never answered; a
# transfer coding other than chunked is 501 (it hung).
@test "framing: CL with TE, two CLs, two TEs are 400 and close; gzip, chunked is 501 and closes" {
	start_server --online on.db -m model.json
	printf '%s\n' 'POST /invocations HTTP/1.1' 'Host: x' 'Content-Type: application/json' \
		'Content-Length: 5' 'Transfer-Encoding: chunked' '' '0' '' 'GET /metrics HTTP/1.1' 'Host: x' '' '' > cl-te
	printf '%s\n' 'POST /invocations HTTP/1.1' 'Host: x' 'Content-Type: application/json' \
		'Content-Length: 2' 'Content-Length: 41' '' '{}GET /metrics HTTP/1.1' 'Host: x' '' '' > cl-cl
	printf '%s\n' 'GET /health HTTP/1.1' 'Host: x' 'Transfer-Encoding: chunked' 'Transfer-Encoding: chunked' \
		'' '0' '' 'GET /metrics HTTP/1.1' 'Host: x' '' '' > te-te
	printf '%s\n' 'POST /invocations HTTP/1.1' 'Host: x' 'Content-Type: application/json' \
		'Transfer-Encoding: gzip, chunked' '' '2' '{}' '0' '' '' > gzip
	local f want
	for f in cl-te cl-cl te-te gzip; do
		raw_request $f
		case $f in
		cl-te) want='HTTP/1.1 400 Bad Request|both Content-Length and Transfer-Encoding: send one of them' ;;
		cl-cl) want='HTTP/1.1 400 Bad Request|Content-Length given 2 times: send it once' ;;
		te-te) want='HTTP/1.1 400 Bad Request|Transfer-Encoding given 2 times: send it once' ;;
		gzip) want="HTTP/1.1 501 Not Implemented|Transfer-Encoding 'gzip, chunked' is not supported: send the body chunked or with a Content-Length" ;;
		esac
		[ "$(head -n 1 <<<"$ANSWER")" = "${want%%|*}" ] || fail "$f: $ANSWER"
		grep -qx 'Connection: close' <<<"$ANSWER" || fail "$f: not closed: $ANSWER"
		[ "$(tail -n 1 <<<"$ANSWER")" = "<closed>" ] || fail "$f: $ANSWER"
		[ "$(grep -c '^HTTP/1.1' <<<"$ANSWER")" = 1 ] || fail "$f: the smuggled request was answered: $ANSWER"
		[ "$(grep '^{' <<<"$ANSWER" | jq -r .message)" = "${want#*|}" ] || fail "$f: $ANSWER"
	done
	# one framing header, once: served as before, on a connection kept open
	printf '%s\n' 'GET /health HTTP/1.1' 'Host: x' 'Content-Length: 0' '' '' > one
	raw_request one
	[ "$(head -n 1 <<<"$ANSWER")" = 'HTTP/1.1 200 OK' ] && [ "$(tail -n 1 <<<"$ANSWER")" = "<open>" ] ||
		fail "$ANSWER"
	expect_good
	stop_server
}

# --timeout bounded only the silences: a header line every second kept a
# connection forever. The whole request now has it, headers included.
@test "--timeout bounds the headers too: a header line a second is cut after the timeout" {
	start_server --online on.db -m model.json --timeout 2
	local took
	took=$(attack trickle "$PORT" 1 15)
	[ "$took" -le 4 ] || fail "a trickling client held its connection $took s with --timeout 2"
	# a keep-alive connection's next request has the timeout from the answer
	# before it, and a quick one is still answered
	expect_good
	stop_server
}

# About 1,030 slow connections exhausted the descriptors and /health timed
# out. The connections are limited below the descriptor limit, a quarter of
# them to one client address: another client is still answered.
@test "connection limits: one client holding many connections leaves /health answered" {
	mkdir -p bin
	printf '#!/bin/sh\nulimit -n 256\nexec "%s/ff-serve" "$@"\n' "$FF_BIN" > bin/ff-serve
	chmod +x bin/ff-serve
	PATH=$PWD/bin:$PATH start_server --online on.db -m model.json -t 2 --timeout 8
	attack hold "$PORT" 127.0.0.2 300 5 > held &
	local holder=$! i
	for ((i = 0; i < 100; i++)); do
		[ -s held ] && break
		sleep 0.1
	done
	# 256 descriptors less 64 and 4 per worker and spare (3): 180 in all, 45
	# from one address
	[ "$(cat held)" = "kept 45" ] || fail "$(cat held)"
	http GET /health
	[ "$CODE" = 200 ] || fail "/health under load: $CODE $BODY"
	expect_good
	kill "$holder" 2>/dev/null || true
	wait "$holder" || true
	stop_server
}

# ---- SIGTERM: graceful ------------------------------------------------

@test "SIGTERM lets requests in flight finish with 200, then exits 0" {
	expected_predictions > expected
	tool body records req.csv > body.json
	start_server --online on.db -m model.json
	# a slow upload: the headers and half the body, the rest after the TERM
	/usr/bin/python3 - "$PORT" > slow.out 2>&1 3>&- <<'EOF' &
import socket, sys, time
body = open("body.json", "rb").read()
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
          b"Content-Length: %d\r\n\r\n" % len(body))
s.sendall(body[:len(body) // 2])
open("slow.started", "w").close()
time.sleep(1.5)
s.sendall(body[len(body) // 2:])
data = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    data += d
head, _, rest = data.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode())
print(rest.decode())
EOF
	local slow=$!
	# and a burst of parallel requests
	local i pids=()
	for i in $(seq 1 10); do
		curl -sS --max-time 30 -o "burst.$i" -w '%{http_code}' -H 'Content-Type: application/json' \
			--data-binary @body.json "$URL/invocations" > "burst.$i.code" 2>&1 3>&- &
		pids+=($!)
	done
	for ((i = 0; i < 100; i++)); do [ -e slow.started ] && break; sleep 0.05; done
	sleep 0.2
	stop_server
	wait "$slow" || fail "slow client: $(cat slow.out)"
	for i in "${pids[@]}"; do wait "$i" || true; done
	[ "$(head -n 1 slow.out)" = 'HTTP/1.1 200 OK' ] || fail "slow upload: $(cat slow.out)"
	sed -n 2p slow.out | tool preds | diff -u expected -
	for i in $(seq 1 10); do
		[ "$(cat "burst.$i.code")" = 200 ] || fail "burst $i: $(cat "burst.$i.code")"
		tool preds < "burst.$i" | diff -u expected -
	done
	# and nothing listens any more
	! curl -sS --max-time 2 "$URL/health" 2>/dev/null
}

@test "SIGINT stops the server too, exit 0" {
	start_server --online on.db -m model.json
	expect_good
	kill -INT "$SPID"
	local rc=0
	wait "$SPID" || rc=$?
	[ "$rc" = 0 ] || fail "exit $rc: $(cat "$SERR")"
}

# ---- the inference log ------------------------------------------------

@test "--log: one row per scored row, with the prediction, the features and the fallbacks" {
	head -n 31 req.csv > req30.csv
	echo '2018-01-02 10:01:00,2018-01-02 10:11:00,2.0,9.0,999,998' >> req30.csv
	ff-predict -m model.json --online on.db --with-features --with-fallbacks req30.csv | tail -n +2 | cut -d, -f7- > expected
	tool body records req30.csv > body.json
	start_server --online on.db -m model.json --log log.db
	post /invocations body.json
	[ "$CODE" = 200 ] || fail "$CODE $BODY"
	tool preds <<<"$BODY" > got.preds
	post '/invocations?features=true' body.json
	local version
	version=$(jq -r .model_version <<<"$BODY")
	stop_server
	[ "$(q log.db "SELECT count(*) FROM inference_model")" = 62 ]
	# the columns
	q log.db "SELECT name FROM pragma_table_info('inference_model')" | head -n 8 | paste -sd, - |
		diff <(echo logged_at,model,model_version,request_id,row,latency_us,prediction,fallbacks) -
	# one id per request, rows numbered from 1 within it
	[ "$(q log.db "SELECT count(DISTINCT request_id), min(row), max(row) FROM inference_model")" = "2|1|31" ]
	q log.db "SELECT name FROM pragma_table_info('inference_model')" | grep -qx mean_fare_window_1h_pickup_zip
	[ "$(q log.db "SELECT DISTINCT model || ' ' || model_version FROM inference_model")" = "model $version" ]
	[ "$(q log.db "SELECT count(*) FROM inference_model WHERE latency_us IS NULL OR latency_us < 0")" = 0 ]
	q log.db "SELECT logged_at FROM inference_model LIMIT 1" | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'
	# the rows of the first request, in order: prediction, features, fallbacks as the answer and ff-predict
	q log.db "SELECT prediction, $FEATURES, fallbacks FROM inference_model ORDER BY rowid LIMIT 31" | tr '|' , > logged
	q log.db "SELECT prediction, ${FEATURES//,/, }, replace(coalesce(fallbacks, ''), ',', ' ')
		FROM inference_model ORDER BY rowid LIMIT 31" | tr '|' , > logged
	tool close expected logged
	# the prediction, as the server answered it (REAL in SQLite: as floats)
	tool close got.preds <(q log.db "SELECT prediction FROM inference_model ORDER BY rowid LIMIT 31")
	# the second request logged the same
	tool close logged <(q log.db "SELECT prediction, ${FEATURES//,/, }, replace(coalesce(fallbacks, ''), ',', ' ')
		FROM inference_model ORDER BY rowid LIMIT 31 OFFSET 31" | tr '|' ,)
	[ "$(q log.db "SELECT fallbacks FROM inference_model ORDER BY rowid LIMIT 30,1")" = "${FEATURES}" ]
	[ "$(q log.db "SELECT count(*) FROM inference_model WHERE fallbacks IS NOT NULL AND fallbacks != ''")" = 2 ]
}

@test "--log: a table with other columns is refused, exit 1" {
	q log.db "CREATE TABLE inference_model (logged_at TEXT, model TEXT, other REAL)"
	run --separate-stderr ff-serve --online on.db -m model.json --log log.db -p 0
	[ "$status" = 1 ] || fail "exit $status: $stderr"
	[ -z "$output" ]
	[[ $stderr == *inference_model* ]] || fail "stderr: $stderr"
}

@test "--log appends across runs; two models, two tables" {
	tool body records req.csv > body.json
	start_server --online on.db -m model.json -m b=model2.json --log log.db
	post /invocations body.json
	post /models/b/invocations body.json
	stop_server
	start_server --online on.db -m model.json --log log.db
	post /invocations body.json
	stop_server
	[ "$(q log.db "SELECT count(*) FROM inference_model")" = 400 ]
	[ "$(q log.db "SELECT count(*) FROM inference_b")" = 200 ]
}

# ---- the store is only read -------------------------------------------

@test "the online store's bytes are unchanged by serving; a read-only store serves" {
	expected_predictions > expected
	tool body records req.csv > body.json
	local before
	before=$(sha256sum on.db)
	ls on.db* > files.before
	start_server --online on.db -m model.json
	post /invocations body.json
	tool preds <<<"$BODY" | diff -u expected -
	stop_server
	[ "$(sha256sum on.db)" = "$before" ]
	ls on.db* | diff files.before -
	chmod 444 on.db
	start_server --online on.db -m model.json
	post /invocations body.json
	[ "$CODE" = 200 ] || fail "$CODE $BODY"
	tool preds <<<"$BODY" | diff -u expected -
	stop_server
	[ "$(sha256sum on.db)" = "$before" ]
}

@test "a WAL store in a directory the server cannot write: exit 1 saying why (not as root)" {
	# SQLite's reader of a WAL file must create its -shm beside it.
	[ "$(id -u)" != 0 ] || skip "root ignores permissions"
	mkdir ro
	cp on.db ro/
	chmod 444 ro/on.db
	chmod 555 ro
	run --separate-stderr -1 ff-serve --online ro/on.db -m model.json -p 0
	chmod 755 ro
	[[ $stderr == *"ro/on.db: cannot read the store: "*"make the directory writable for this user)"* ]] || fail "$stderr"
}

# ---- more: concurrency, connections, encodings -------------------------

@test "parallel clients with different rows each get their own predictions (-t 3)" {
	start_server --online on.db -m model.json -t 3
	local k i pids=()
	for k in 0 1 2 3 4 5; do
		{ head -n 1 trips.csv; tail -n +2 trips.csv | sed -n "$((k * 300 + 1)),$((k * 300 + 150 + k * 20))p"; } > "part$k.csv"
		expected_predictions model.json "part$k.csv" > "part$k.expected"
		tool body split "part$k.csv" > "part$k.json"
	done
	for k in 0 1 2 3 4 5; do
		(
			for i in 1 2 3 4 5 6 7 8; do
				curl -sS --max-time 30 -o "out.$k.$i" -w '%{http_code}\n' -H 'Content-Type: application/json' \
					--data-binary "@part$k.json" "$URL/invocations" >> "codes.$k"
			done
		) 3>&- &
		pids+=($!)
	done
	for k in "${pids[@]}"; do wait "$k"; done
	for k in 0 1 2 3 4 5; do
		[ "$(sort -u "codes.$k")" = 200 ] || fail "client $k: $(cat "codes.$k")"
		for i in 1 2 3 4 5 6 7 8; do
			tool preds < "out.$k.$i" | diff -q "part$k.expected" - > /dev/null || fail "client $k request $i: other predictions"
		done
	done
	stop_server
}

@test "with one thread, a stalled client does not hold up the others" {
	start_server --online on.db -m model.json -t 1 --timeout 5
	/usr/bin/python3 - "$PORT" > stalled.out 2>&1 3>&- <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
open("stalled.started", "w").close()
time.sleep(3)
PY
	local stalled=$! i
	for ((i = 0; i < 100; i++)); do [ -e stalled.started ] && break; sleep 0.05; done
	local t0=$EPOCHREALTIME
	expect_good
	http GET /health
	[ "$CODE" = 200 ]
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a < 2) }' || fail "took $t0 .. $EPOCHREALTIME"
	wait "$stalled"
	stop_server
}

@test "a request cut off by --timeout is counted as 408 in /metrics" {
	start_server --online on.db -m model.json --timeout 1
	/usr/bin/python3 - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
s.settimeout(8)
s.recv(4096)
PY
	http GET /metrics
	[ "$(metric 'ff_serve_requests_total{code="408"}')" = 1 ]
	[ "$(metric ff_serve_errors_total)" = 1 ]
	[ "$(metric ff_serve_inflight_requests)" = 1 ] # this one
	stop_server
}

@test "an early error answer (413, 404, 405) closes the connection: its unread body is never taken for a request" {
	start_server --online on.db -m model.json --body-limit 1K
	run /usr/bin/python3 - "$PORT" <<'PY'
import socket, sys
port = int(sys.argv[1])
inner = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
bad = 0
for path, ctype, body in [("/invocations", b"application/json", inner + b" " * 2000),
                          ("/nope", b"application/json", inner),
                          ("/health", b"application/json", inner)]:
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" %
              (path.encode(), ctype, len(body)) + body)
    s.settimeout(5)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except socket.timeout:
        pass
    n = out.count(b"HTTP/1.1 ")
    print(path, n, out.split(b"\r\n")[0].decode())
    if n != 1 or b"smuggled" in out:
        bad = 1
sys.exit(bad)
PY
	assert_success
	assert_line --partial '/invocations 1 HTTP/1.1 413'
	assert_line --partial '/nope 1 HTTP/1.1 404'
	assert_line --partial '/health 1 HTTP/1.1 405'
	http GET /metrics
	run metric 'ff_serve_requests_total{code="404"}'
	assert_output 1
	stop_server
}

@test "requests pipelined on one keep-alive connection are all answered, in order" {
	start_server --online on.db -m model.json
	run /usr/bin/python3 - "$PORT" "$REC" <<'PY'
import socket, sys
good = b'{"dataframe_records":[%s]}' % sys.argv[2].encode()
req = b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(good) + good
bad = b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1\r\n\r\n{"
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(req + bad + req + b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
s.settimeout(10)
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
import re
print(" ".join(c.decode() for c in re.findall(rb"HTTP/1\.1 (\d{3}) ", out)))
PY
	assert_success
	assert_output "200 400 200 200"
	stop_server
}

@test "error messages are valid UTF-8 JSON even when the request held invalid UTF-8" {
	start_server --online on.db -m model.json
	local check='import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))'
	printf 'tpep_pickup_datetime,tpep_dropoff_datetime,pickup_zip,dropoff_zip,trip_distance\n\xff\xfe,2018-01-01 00:11:20,142,107,1.68\n' > bad.csv
	http POST /invocations -H 'Content-Type: text/csv' --data-binary @bad.csv
	[ "$CODE" = 400 ] || fail "$CODE $BODY"
	local bad=()
	/usr/bin/python3 -c "$check" "$BATS_TEST_TMPDIR/body" 2>/dev/null ||
		bad+=("CSV timestamp \\xff\\xfe: $(od -c "$BATS_TEST_TMPDIR/body" | sed -n '6,7p' | tr -s ' ')")
	http GET '/n%ffope'
	[ "$CODE" = 404 ] || fail "$CODE $BODY"
	/usr/bin/python3 -c "$check" "$BATS_TEST_TMPDIR/body" 2>/dev/null || bad+=("GET /n%ffope: $BODY")
	http POST '/models/%ff/invocations' -H 'Content-Type: application/json' --data-binary "{\"dataframe_records\":[$REC]}"
	[ "$CODE" = 404 ] || fail "$CODE $BODY"
	/usr/bin/python3 -c "$check" "$BATS_TEST_TMPDIR/body" 2>/dev/null || bad+=("/models/%ff/invocations: $BODY")
	expect_good
	stop_server
	[ "${#bad[@]}" = 0 ] || fail "answers not UTF-8 JSON: $(printf '\n  %s' "${bad[@]}")"
}

@test "a huge Content-Length, a too big header or URL: libmicrohttpd answers 4xx itself, and serving goes on" {
	# These never reach ff-serve: libmicrohttpd refuses them while reading
	# the headers, in its own HTML (see BUGS in ff-serve(1)).
	start_server --online on.db -m model.json
	http POST /invocations -H 'Content-Type: application/json' -H 'Content-Length: 99999999999999999999999' --data-binary x
	[ "$CODE" = 413 ] || fail "huge Content-Length: $CODE $BODY"
	http GET /health -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)"
	[ "$CODE" = 431 ] || fail "big header: $CODE $BODY"
	http GET "/$(head -c 20000 /dev/zero | tr '\0' a)"
	[ "$CODE" = 414 ] || fail "long URL: $CODE $BODY"
	# A Content-Length past the limit that still fits 64 bits is ff-serve's: JSON.
	http POST /invocations -H 'Content-Type: application/json' -H 'Content-Length: 18446744073709551615' --data-binary x
	[ "$CODE" = 413 ] || fail "64-bit Content-Length: $CODE $BODY"
	jq -e '.error_code == "REQUEST_LIMIT_EXCEEDED"' <<<"$BODY" >/dev/null || fail "not JSON: $BODY"
	expect_good
	stop_server
}

@test "null, true/false, exponents, numbers as strings: as ff-predict reads the same values" {
	printf '%s\n' tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,pickup_zip,dropoff_zip \
		'2018-01-01 00:01:31,2018-01-01 00:11:20,,142,107' \
		'2018-01-01 00:01:31,2018-01-01 00:11:20,1,142,107' \
		'2018-01-01 00:01:31,2018-01-01 00:11:20,0,142,107' \
		'2018-01-01 00:01:31,2018-01-01 00:11:20,0.0168e2,142,107' \
		'2018-01-01 00:01:31,2018-01-01 00:11:20,1.68,142,107' > vals.csv
	ff-predict -m model.json --online on.db vals.csv | awk -F, 'NR > 1 { print $6 }' > expected
	start_server --online on.db -m model.json
	post_text "{\"dataframe_records\":[${REC/1.68/null},${REC/1.68/true},${REC/1.68/false},${REC/1.68/0.0168e2},${REC/1.68/\"1.68\"}]}"
	[ "$CODE" = 200 ] || fail "$CODE $BODY"
	tool preds <<<"$BODY" | diff -u expected -
	stop_server
}

@test "a request that fails on its last row logs nothing; the good ones log" {
	start_server --online on.db -m model.json --log log.db
	post_text "{\"dataframe_records\":[$REC,$REC,${REC/1.68/\"x\"}]}"
	expect_error 400 BAD_REQUEST "row 3: column 'trip_distance'"
	post_text "{\"dataframe_records\":[$REC,$REC]}"
	[ "$CODE" = 200 ]
	stop_server
	[ "$(q log.db "SELECT count(*) FROM inference_model")" = 2 ]
}

@test "--log across a SIGHUP reload: rows of both versions, none lost, exit 0" {
	export FF_REGISTRY=$PWD/reg.db
	ff-models register taxi model.json --alias champion > /dev/null
	ff-models register taxi model2.json > /dev/null
	tool body records req.csv > body.json
	start_server --online on.db -m models:/taxi@champion --log log.db
	(
		while [ ! -e stop ]; do
			curl -sS --max-time 20 -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
				--data-binary @body.json "$URL/invocations" >> codes 2>&1
		done
	) 3>&- &
	local loop=$! i
	sleep 1
	ff-models alias taxi 2 champion
	kill -HUP "$SPID"
	for ((i = 0; i < 100; i++)); do
		[ "$(curl -sS "$URL/version" | jq -r '.models[0].version')" = 2 ] && break
		sleep 0.1
	done
	sleep 1
	touch stop
	wait "$loop"
	http GET /metrics
	local dropped
	dropped=$(metric ff_serve_inference_log_dropped_total)
	stop_server
	[ "$(sort -u codes)" = 200 ] || fail "$(sort codes | uniq -c)"
	local n
	n=$(wc -l < codes)
	[ "$(q log.db "SELECT model_version, count(*) > 0 FROM inference_taxi GROUP BY 1 ORDER BY 1" | paste -sd' ')" = "1|1 2|1" ]
	[ "$(q log.db "SELECT count(*) FROM inference_taxi")" = $((n * 200 - dropped)) ]
}

@test "SIGTERM: /health answers 503 draining to a kept-alive connection while requests finish" {
	tool body records req.csv > body.json
	start_server --online on.db -m model.json
	run /usr/bin/python3 - "$PORT" "$SPID" <<'PY'
import os, signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
body = open("body.json", "rb").read()
def answer(s):
    s.settimeout(10)
    out = b""
    try:
        while b"\r\n\r\n" not in out:
            d = s.recv(65536)
            if not d:
                return "closed: %r" % out
            out += d
        head, _, rest = out.partition(b"\r\n\r\n")
        n = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0]
        while len(rest) < n:
            rest += s.recv(65536)
    except OSError as e:
        return "error: %s" % e
    return head.split(b"\r\n")[0].decode() + " " + rest.decode().strip()
a = socket.create_connection(("127.0.0.1", port))
a.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
print("before:", answer(a))
b = socket.create_connection(("127.0.0.1", port))
b.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:100])
time.sleep(0.3)
os.kill(pid, signal.SIGTERM)
time.sleep(0.5)
try:
    a.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    print("draining:", answer(a))
except OSError as e:
    print("draining: error: %s" % e)
b.sendall(body[100:])
print("in flight:", answer(b)[:40])
PY
	local rc=0
	wait "$SPID" || rc=$?
	[ "$rc" = 0 ] || fail "exit $rc"
	assert_line 'before: HTTP/1.1 200 OK {"status":"ready","models":1}'
	assert_line --partial 'in flight: HTTP/1.1 200 OK {"predictions":['
	assert_line 'draining: HTTP/1.1 503 Service Unavailable {"status":"draining"}'
}

@test "-a ::1 serves over IPv6; a bad address, an unwritable --port-file: exit 1" {
	start_server --online on.db -m model.json -a ::1
	CODE=$(curl -sS -g -o /dev/null -w '%{http_code}' "http://[::1]:$PORT/health") || skip "no IPv6 loopback"
	[ "$CODE" = 200 ]
	stop_server
	run --separate-stderr ff-serve --online on.db -m model.json -p 0 -a 999.1.1.1
	[ "$status" = 1 ] && [[ $stderr == *999.1.1.1* ]] || fail "exit $status: $stderr"
	run --separate-stderr ff-serve --online on.db -m model.json -p 0 --port-file nodir/port
	[ "$status" = 1 ] && [[ $stderr == *nodir/port* ]] || fail "exit $status: $stderr"
}

# make demo twice in a row: the second run's script waited for a port file
# that still held the first server's port, and curl was refused.
@test "--port-file: a stale file is replaced once the server listens, and removed after SIGTERM" {
	local pf=$BATS_TEST_TMPDIR/port i
	echo 1 > "$pf"
	SERR=$BATS_TEST_TMPDIR/serve.err
	ff-serve -p 0 --port-file "$pf" --online on.db -m model.json 2>"$SERR" 3>&- &
	SPID=$!
	echo "$SPID" >> "$BATS_TEST_TMPDIR/pids"
	for ((i = 0; i < 200; i++)); do
		[ "$(cat "$pf" 2>/dev/null)" != 1 ] && break
		sleep 0.05
	done
	PORT=$(cat "$pf")
	[[ $PORT =~ ^[0-9]+$ && $PORT != 1 ]] || fail "port file: '$PORT': $(cat "$SERR")"
	URL=http://127.0.0.1:$PORT
	http GET /health
	[ "$CODE" = 200 ] || fail "$CODE $BODY"
	stop_server
	[ ! -e "$pf" ] || fail "port file left after exit: $(cat "$pf")"
	run ls "$BATS_TEST_TMPDIR"
	refute_output --partial port.new
}

# Found in a new user's review: Python's NaN, a byte order mark, HTTP/1.0
# without a length, compressed bodies, a column twice, "::" and IPv4.

@test "a bare NaN (Python's json for pandas' missing float) reads as null" {
	start_server --online on.db -m model.json
	post_text "{\"dataframe_records\":[${REC/1.68/null}]}"
	[ "$CODE" = 200 ] || fail "$CODE $BODY"
	local with_null=$BODY
	post_text "{\"dataframe_records\":[${REC/1.68/NaN}],\"params\":{\"note\":\"NaN stays a string\"}}"
	[ "$CODE" = 200 ] || fail "$CODE $BODY"
	[ "$BODY" = "$with_null" ]
	expect_good
	stop_server
}

@test "a UTF-8 byte order mark before CSV or JSON is skipped" {
	start_server --online on.db -m model.json
	printf '\357\273\277tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,pickup_zip,dropoff_zip\n2018-01-01 00:01:31,2018-01-01 00:11:20,1.68,142,107\n' >bom.csv
	http POST /invocations -H 'Content-Type: text/csv' --data-binary @bom.csv
	[ "$BODY" = "$(printf '{"predictions":[%s]}' "$(one_prediction)")" ] || fail "CSV: $CODE $BODY"
	printf '\357\273\277{"dataframe_records":[%s]}' "$REC" >bom.json
	post /invocations bom.json
	[ "$BODY" = "$(printf '{"predictions":[%s]}' "$(one_prediction)")" ] || fail "JSON: $CODE $BODY"
	stop_server
	ff-cat bom.csv | head -1 | grep -qx 'tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,pickup_zip,dropoff_zip'
}

@test "a POST without a length is 411; a compressed body 415; a column twice in a split 400" {
	start_server --online on.db -m model.json
	http POST /invocations -0 -H 'Content-Type: text/csv' -H 'Content-Length:'
	expect_error 411 LENGTH_REQUIRED "Content-Length"
	http POST /invocations -H 'Content-Type: application/json' -H 'Content-Encoding: gzip' --data-binary '{}'
	expect_error 415 UNSUPPORTED_MEDIA_TYPE "Content-Encoding 'gzip'"
	post_text '{"dataframe_split":{"columns":["tpep_pickup_datetime","tpep_dropoff_datetime","trip_distance","pickup_zip","dropoff_zip","pickup_zip"],"data":[["2018-01-01 00:01:31","2018-01-01 00:11:20",1.68,142,107,142]]}}'
	expect_error 400 BAD_REQUEST "column 'pickup_zip' given twice"
	expect_good
	stop_server
}

@test "-a :: listens on IPv4 too" {
	[ -e /proc/net/if_inet6 ] || skip "no IPv6"
	start_server --online on.db -m model.json -a ::
	run -0 curl -sS "http://127.0.0.1:$PORT/health"
	run -0 curl -sS "http://[::1]:$PORT/health"
	stop_server
}

@test "X-Request-Id: the client's comes back and is logged; else the server makes one per request" {
	start_server --online on.db -m model.json --log log.db
	http POST /invocations -H 'Content-Type: application/json' -H 'X-Request-Id: trip-42' \
		--data-binary "{\"dataframe_records\":[$REC,$REC]}"
	[ "$CODE" = 200 ] || fail "$CODE $BODY"
	grep -qi '^x-request-id: trip-42' "$HEADERS" || fail "$(cat "$HEADERS")"
	local ids=()
	for _ in 1 2; do
		post_text "{\"dataframe_records\":[$REC]}"
		ids+=("$(sed -n 's/^[Xx]-[Rr]equest-[Ii]d: *//p' "$HEADERS" | tr -d '\r')")
	done
	[ -n "${ids[0]}" ] && [ "${ids[0]}" != "${ids[1]}" ] || fail "ids: ${ids[*]}"
	http POST /invocations -H 'Content-Type: application/json' --data-binary '{}'
	grep -qi '^x-request-id: ' "$HEADERS" || fail "an error has no id: $(cat "$HEADERS")"
	stop_server
	[ "$(q log.db "SELECT request_id || ' ' || row FROM inference_model ORDER BY rowid" | paste -sd, -)" = \
		"trip-42 1,trip-42 2,${ids[0]} 1,${ids[1]} 1" ]
}


@test "started by cron or systemd (stderr not a terminal), it logs one 'listening on' line" {
	start_server --online on.db -m model.json
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$SERR" ] && break
		sleep 0.05
	done
	stop_server
	diff -u - "$SERR" <<<"ff-serve: listening on 127.0.0.1:$PORT"
}

# ---- the store a model was trained on (ff-predict-store.bats) ----------

@test "/metrics: how many versions each table moved on since training" {
	cp "$BATS_FILE_TMPDIR/off.db" .
	ff-gen-trips -n 100 --days 1 --start 2018-01-05 -o more.csv
	ff-compute -q -s off.db -f "$EXAMPLES/pickup_features.spec" more.csv
	ff-sync-online -q -s off.db --online on2.db
	start_server --online on2.db -m model.json
	http GET /metrics
	[ "$(metric 'ff_serve_table_versions_behind{model="model",table="trip_pickup_features"}')" = 1 ]
	[ "$(metric 'ff_serve_table_versions_behind{model="model",table="trip_dropoff_features"}')" = 0 ]
	stop_server
}

@test "tables synced from another store are refused; --any-store serves them, warned" {
	ff-gen-trips -n 300 --days 3 --seed 9 -o other.csv
	ff-compute -q -s other.db -f "$EXAMPLES/pickup_features.spec" -f "$EXAMPLES/dropoff_features.spec" other.csv
	ff-sync-online -q -s other.db --online other_on.db
	local want have
	want=$(q "$BATS_FILE_TMPDIR/off.db" 'SELECT id FROM ff_store_info')
	have=$(q other.db 'SELECT id FROM ff_store_info')
	run -1 --separate-stderr ff-serve -p 0 --online other_on.db -m model.json
	diff -u - <(printf '%s\n' "$stderr") <<-EOF
	ff-serve: other_on.db, given with --online: table trip_pickup_features was synced from another store (id $have, the model was trained on $want); sync it from the model's store, or give --any-store
	EOF
	start_server --online other_on.db -m model.json --any-store
	grep -qx "ff-serve: warning: other_on.db, given with --online: table trip_pickup_features was synced from another store (id $have, the model was trained on $want); used because of --any-store" "$SERR" ||
		fail "$(cat "$SERR")"
	stop_server
}

@test "a table redefined since training is refused, --any-store or not" {
	cp "$BATS_FILE_TMPDIR/off.db" "$BATS_FILE_TMPDIR/trips.csv" .
	sed 's/^window .*/window 2h/' "$EXAMPLES/pickup_features.spec" > pickup.spec
	ff-compute -q -s off.db -f pickup.spec --replace trips.csv
	ff-sync-online -q -s off.db --online re_on.db
	local any
	for any in "" --any-store; do
		run -1 --separate-stderr ff-serve -p 0 --online re_on.db -m model.json $any
		[[ $stderr == "ff-serve: re_on.db, given with --online: table trip_pickup_features was redefined since model.json was trained (definition xxh3-128:"*"; retrain the model" ]] ||
			fail "$stderr"
	done
}

# ---- the zone of naive times (input-timezone.bats) ----------------------

@test "a model trained with input-timezone reads requests in that zone" {
	ff-train-set -q -s "$BATS_FILE_TMPDIR/off.db" -f "$EXAMPLES/training_set.spec" \
		--input-timezone America/New_York -b bp_ny -o ts_ny.csv trips.csv
	ff-train -q -b bp_ny -o ny.json --rounds 5 ts_ny.csv
	start_server --online on.db -m ny=ny.json -m model.json
	local gap=${REC//2018-01-01 00:01:31/2018-03-11 02:30:00}
	printf '%s' "{\"dataframe_records\":[$gap]}" > gap.json
	post /models/ny/invocations gap.json
	expect_error 400 BAD_REQUEST "'2018-03-11 02:30:00' does not exist in America/New_York"
	post /models/model/invocations gap.json
	[ "$CODE" = 200 ] || fail "$CODE $BODY"
	stop_server
}
