#!/usr/bin/env bats
# ff-predict: raw records in, predictions out, through the model's own
# blueprint. Parity is checked bit for bit against Python xgboost predicting
# the training set's rows with the same model file (when python3-xgboost is
# there); fallbacks against the blueprint's mean lines.

load test_helper/common
bats_require_minimum_version 1.5.0

FIXTURES=$BATS_TEST_DIRNAME/fixtures/model
TRAIN_SPEC=$EXAMPLES/training_set.spec
TRIPS_HEADER=tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,fare_amount,pickup_zip,dropoff_zip
FEATURES=mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,count_trips_window_30m_dropoff_zip,dropoff_is_weekend

# For the whole file, in $BATS_FILE_TMPDIR: trips.csv, 3000 generated trips
# over 3 days; small.db, their two taxi tables; ts.csv and bp, their
# training set and blueprint; model.json, 20 rounds on it.
# real.db, real.csv, real.bp: the same for the real sample (if there).
setup_file() {
	cd "$BATS_FILE_TMPDIR" || return 1
	ff-gen-trips -n 3000 --days 3 -o trips.csv
	ff-compute -q -s small.db -f "$EXAMPLES/pickup_features.spec" \
		-f "$EXAMPLES/dropoff_features.spec" --lateness 35d trips.csv
	ff-train-set -q -s small.db -f "$TRAIN_SPEC" -b bp -o ts.csv trips.csv
	ff-train -q -b bp -o model.json --rounds 20 --eta 0.3 ts.csv
	if [ -f "$SHARED_DATA/nyctaxi_sample.csv" ]; then
		ff-compute -q -s real.db -f "$EXAMPLES/pickup_features.spec" \
			-f "$EXAMPLES/dropoff_features.spec" --lateness 35d "$SHARED_DATA/nyctaxi_sample.csv"
		ff-train-set -q -s real.db -f "$TRAIN_SPEC" -b real.bp -o real.csv \
			"$SHARED_DATA/nyctaxi_sample.csv"
	fi
}

setup() {
	common_setup
	# The blueprint names the store small.db: ff-predict finds it here.
	cp "$BATS_FILE_TMPDIR"/{trips.csv,small.db,ts.csv,bp,model.json} .
	unset FF_REGISTRY
}

same() { diff -u - "$1"; }

stderr_is() {
	diff -u <(printf '%s\n' "$1") <(printf '%s\n' "$stderr")
}

no_output() {
	[ -z "$output" ] || { printf 'unexpected stdout:\n%s\n' "$output" >&2; return 1; }
}

need_python() {
	[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3"
}

need_xgboost() {
	/usr/bin/python3 -c 'import xgboost' 2> /dev/null || skip "no python3-xgboost"
}

# f32 COLUMN [FILE]: a CSV column as float32 bit patterns, one per row.
f32() { /usr/bin/python3 "$FIXTURES/f32.py" "$@"; }

# py_predict MODEL TRAINING_SET: Python xgboost's predictions as float32
# bit patterns.
py_predict() { /usr/bin/python3 "$FIXTURES/predict.py" "$@"; }

# col NAME [FILE]: a column of a CSV file with a simple header.
col() {
	awk -F, -v c="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next } { print $k }' "${2:--}"
}

# ---- parity ------------------------------------------------------------------

@test "the raw trips with --fallback missing: XGBoost's predictions on the training set, bit for bit" {
	need_xgboost
	run -0 --separate-stderr ff-predict -m model.json --fallback missing -o pred.csv trips.csv
	no_output
	[ -z "$stderr" ]
	[ "$(head -1 pred.csv)" = "$TRIPS_HEADER,prediction" ]
	# The input columns as they were, one row per trip, in order.
	cut -d, -f1-6 pred.csv | cmp - trips.csv
	f32 prediction pred.csv > ff
	py_predict model.json ts.csv > py
	[ "$(wc -l < py)" -eq 3000 ]
	diff -u py ff
	# The training set has no misses: the fallbacks change nothing.
	same <(grep -E '^misses ' bp) <<'EOF'
misses trip_pickup_features 0
misses trip_dropoff_features 0
EOF
	ff-predict -m model.json trips.csv | cmp - pred.csv
}

@test "the model file loads in Python xgboost: names, types, rounds and predictions" {
	need_xgboost
	run -0 /usr/bin/python3 -c '
import sys, xgboost as xgb
b = xgb.Booster(model_file=sys.argv[1])
print(" ".join(b.feature_names))
print(" ".join(b.feature_types))
print(b.num_boosted_rounds())
print(b.attr("ff_format"))
sys.stdout.write(b.attr("ff_blueprint"))
' model.json
	same <(printf '%s\n' "${lines[@]:0:4}") <<'EOF'
trip_distance pickup_zip dropoff_zip mean_fare_window_1h_pickup_zip count_trips_window_1h_pickup_zip count_trips_window_30m_dropoff_zip dropoff_is_weekend
q q q q q q q
20
ff-model 1
EOF
	# The blueprint in the model is the file.
	printf '%s\n' "${lines[@]:4}" | cmp - <(grep -v '^$' bp)
	# Predictions from stdin, and from a model on stdin: the same.
	ff-predict -m model.json trips.csv > pred.csv
	ff-predict -m model.json < trips.csv | cmp - pred.csv
	ff-predict -m - trips.csv < model.json | cmp - pred.csv
	diff -u <(py_predict model.json ts.csv) <(f32 prediction pred.csv)
}

@test "Python xgboost reads every attribute, with categories or without" {
	need_xgboost
	# Booster.attributes() of xgboost 1.7 fails on an attribute whose value
	# is empty: a model without categorical columns has no ff_categories.
	run -0 /usr/bin/python3 -c '
import sys, xgboost as xgb
print(" ".join(sorted(xgb.Booster(model_file=sys.argv[1]).attributes())))
' model.json
	assert_output "ff_blueprint ff_format ff_importance ff_lineage ff_metrics ff_params"
	ff-train -q -b bp -o cat.json --rounds 5 --categorical pickup_zip ts.csv
	run -0 /usr/bin/python3 -c '
import sys, xgboost as xgb
b = xgb.Booster(model_file=sys.argv[1])
print(" ".join(sorted(b.attributes())))
print(b.attr("ff_categories").splitlines()[1])
' cat.json
	assert_output "ff_blueprint ff_categories ff_format ff_importance ff_lineage ff_metrics ff_params
pickup_zip	0	$(sed -n 2p ts.csv | cut -d, -f5)"
}

@test "categorical columns: the codes of training, bit for bit with Python" {
	need_xgboost
	ff-train -q -b bp -o cat.json --rounds 20 --eta 0.3 --categorical pickup_zip,dropoff_zip ts.csv
	ff-predict -m cat.json --fallback missing -o pred.csv trips.csv
	diff -u <(py_predict cat.json ts.csv) <(f32 prediction pred.csv)
	# Another model than the numeric zips'.
	run -1 cmp -s <(col prediction pred.csv) <(ff-predict -m model.json trips.csv | col prediction)
	# Text zips, categorical by default.
	awk -F, -v OFS=, 'NR > 1 { $5 = "z" $5; $6 = "z" $6 } 1' trips.csv > ztrips.csv
	ff-compute -q -s z.db -f "$EXAMPLES/pickup_features.spec" \
		-f "$EXAMPLES/dropoff_features.spec" --lateness 35d ztrips.csv
	ff-train-set -q -s z.db -f "$TRAIN_SPEC" -b zbp -o zts.csv ztrips.csv
	ff-train -q -b zbp -o z.json --rounds 20 --eta 0.3 zts.csv
	ff-predict -m z.json --fallback missing -o zpred.csv ztrips.csv
	diff -u <(py_predict z.json zts.csv) <(f32 prediction zpred.csv)
	diff -u <(col prediction pred.csv) <(col prediction zpred.csv)
	# A zip training never saw is missing: the prediction of an empty zip.
	printf '%s\n' "$TRIPS_HEADER" \
		"$(sed -n 2p ztrips.csv | awk -F, -v OFS=, '{ $5 = "unseen"; print }')" \
		"$(sed -n 2p ztrips.csv | awk -F, -v OFS=, '{ $5 = ""; print }')" > unseen.csv
	run -0 ff-predict -m z.json --fallback missing unseen.csv
	[ "$(printf '%s\n' "${lines[@]}" | col prediction | uniq | wc -l)" -eq 1 ]
}

# ---- models:/ references ----------------------------------------------------

@test "models:/NAME, models:/NAME/VERSION and models:/NAME@ALIAS through a registry" {
	ff-train -q -b bp -o v2.json --rounds 5 ts.csv
	ff-predict -m model.json trips.csv > want1
	ff-predict -m v2.json trips.csv > want2
	run -1 cmp -s want1 want2
	export FF_REGISTRY=$PWD/reg.db
	[ "$(ff-models register taxi_fare model.json --alias champion)" = models:/taxi_fare/1 ]
	[ "$(ff-models register taxi_fare v2.json --alias challenger)" = models:/taxi_fare/2 ]
	ff-predict -m models:/taxi_fare/1 trips.csv | cmp - want1
	ff-predict -m models:/taxi_fare/2 trips.csv | cmp - want2
	ff-predict -m models:/taxi_fare@champion trips.csv | cmp - want1
	ff-predict -m models:/taxi_fare@challenger trips.csv | cmp - want2
	ff-predict -m models:/taxi_fare trips.csv | cmp - want2
	# -r over $FF_REGISTRY; an alias moved.
	mv reg.db other.db
	ff-predict -r other.db -m models:/taxi_fare@champion trips.csv | cmp - want1
	ff-models -r other.db alias taxi_fare 2 champion
	ff-predict -r other.db -m models:/taxi_fare@champion trips.csv | cmp - want2
	# What is not there.
	run -1 --separate-stderr ff-predict -r other.db -m models:/taxi_fare/3 trips.csv
	no_output
	stderr_is "ff-predict: other.db: model 'taxi_fare' has no version 3"
	run -1 --separate-stderr ff-predict -r other.db -m models:/taxi_fare@nope trips.csv
	stderr_is "ff-predict: other.db: model 'taxi_fare' has no alias 'nope'"
	run -1 --separate-stderr ff-predict -r other.db -m models:/nope trips.csv
	stderr_is "ff-predict: other.db: no model named 'nope'"
	run -1 --separate-stderr ff-predict -m models:/taxi_fare trips.csv
	no_output
	[[ "$stderr" == "ff-predict: $PWD/reg.db: "* ]]
}

# ---- features and fallbacks ---------------------------------------------------

@test "--with-features and --with-fallbacks: the features the model saw, no fallbacks" {
	run -0 ff-predict -m model.json --with-features --with-fallbacks -o pred.csv trips.csv
	[ "$(head -1 pred.csv)" = "$TRIPS_HEADER,prediction,$FEATURES,fallbacks" ]
	[ "$(wc -l < pred.csv)" -eq 3001 ]
	# The training set's features, as the floats the model reads; no
	# fallback; the predictions as without the columns.
	need_python
	local f
	for f in ${FEATURES//,/ }; do
		diff -u <(f32 "$f" ts.csv) <(f32 "$f" pred.csv)
	done
	[ "$(col fallbacks pred.csv | sort -u)" = "" ]
	ff-predict -m model.json trips.csv | col prediction | cmp - <(col prediction pred.csv)
	# One of them alone.
	run -0 ff-predict -m model.json --with-fallbacks trips.csv
	[ "${lines[0]}" = "$TRIPS_HEADER,prediction,fallbacks" ]
	run -0 ff-predict -m model.json --with-features trips.csv
	[ "${lines[0]}" = "$TRIPS_HEADER,prediction,$FEATURES" ]
}

# fallback_trips: 3 trips that miss lookups, in fb.csv.
# 1: pickup zip and dropoff zip of the data, before any window: both
#    lookups miss a key they know: the key's means.
# 2: a pickup zip no table has: the features' means; the dropoff matches.
# 3: a dropoff zip no table has; the pickup matches.
fallback_trips() {
	local zip
	zip=$(sed -n 2p trips.csv | cut -d, -f5)
	printf '%s\n' "$TRIPS_HEADER" \
		"2017-12-31 20:00:00,2017-12-31 20:10:00,1.5,9,$zip,$zip" \
		"$(sed -n 2p trips.csv | awk -F, -v OFS=, '{ $5 = "99999"; print }')" \
		"$(sed -n 2p trips.csv | awk -F, -v OFS=, '{ $6 = "99999"; print }')" > fb.csv
	echo "$zip"
}

@test "fallbacks: a key's mean where the key is known, else the feature's mean" {
	need_python
	local zip
	zip=$(fallback_trips)
	grep -q "^key-mean mean_fare_window_1h_pickup_zip .* $zip\$" bp
	run -0 --separate-stderr ff-predict -m model.json --with-features --with-fallbacks -o pred.csv fb.csv
	[ -z "$stderr" ]
	same <(col fallbacks pred.csv) <<'EOF'
mean_fare_window_1h_pickup_zip count_trips_window_1h_pickup_zip count_trips_window_30m_dropoff_zip dropoff_is_weekend
mean_fare_window_1h_pickup_zip count_trips_window_1h_pickup_zip
count_trips_window_30m_dropoff_zip dropoff_is_weekend
EOF
	# keymean FEATURE, mean FEATURE: the blueprint's values; row1 FEATURE:
	# the value of trip 1 in the training set, what a lookup that matched gives.
	keymean() { awk -v f="$1" -v k="$zip" '$1 == "key-mean" && $2 == f && $5 == k { print $3 }' bp; }
	mean() { awk -v f="$1" '$1 == "mean" && $2 == f { print $3 }' bp; }
	row1() { col "$1" ts.csv | head -1; }
	local f want
	for f in ${FEATURES//,/ }; do
		case $f in
		*pickup*) want=("$(keymean "$f")" "$(mean "$f")" "$(row1 "$f")") ;;
		*) want=("$(keymean "$f")" "$(row1 "$f")" "$(mean "$f")") ;;
		esac
		[ -n "${want[0]}" ] && [ -n "${want[1]}" ] && [ -n "${want[2]}" ]
		diff -u <(printf '%s\n' "${want[@]}" | f32 -) <(f32 "$f" pred.csv) || fail "feature $f"
	done
	# The predictions are the model's on those vectors: as without the
	# extra columns.
	ff-predict -m model.json fb.csv | col prediction | cmp - <(col prediction pred.csv)
}

@test "--fallback missing leaves a missed lookup's features missing" {
	fallback_trips > /dev/null
	run -0 --separate-stderr ff-predict -m model.json --fallback missing --with-features --with-fallbacks \
		-o missing.csv fb.csv
	[ -z "$stderr" ]
	# The features and fallbacks columns: V a value, nothing empty.
	same <(tail -n +2 missing.csv | cut -d, -f8- | sed -E 's/[^,]+/V/g') <<'EOF'
,,,,
,,V,V,
V,V,,,
EOF
	# Other predictions than with the means.
	ff-predict -m model.json fb.csv > mean.csv
	[ "$(paste -d' ' <(col prediction missing.csv) <(col prediction mean.csv) | awk '$1 != $2' | wc -l)" -ge 1 ]
	# Python xgboost, given those rows with empty features, agrees.
	need_xgboost
	{ echo "$TRIPS_HEADER,$FEATURES"; tail -n +2 missing.csv | cut -d, -f1-6,8-11; } > fbts.csv
	diff -u <(py_predict model.json fbts.csv) <(f32 prediction missing.csv)
}

@test "a spec's default is what training saw on a miss: the fallback keeps it" {
	# count_trips_window_1h_pickup_zip=0 when the pickup lookup misses.
	sed '/^features  mean_fare/a default   count_trips_window_1h_pickup_zip=0' "$TRAIN_SPEC" > def.spec
	fallback_trips > /dev/null
	tail -n +2 fb.csv | cat trips.csv - > trips2.csv
	ff-train-set -q -s small.db -f def.spec -b dbp -o dts.csv trips2.csv
	# Training saw 0 for trips 1 and 2, which missed the pickup lookup.
	local n1
	n1=$(sed -n 2p ts.csv | cut -d, -f8)
	same <(tail -3 dts.csv | cut -d, -f8) <<EOF
0
0
$n1
EOF
	ff-train -q -b dbp -o d.json --rounds 5 dts.csv
	# Serving must see the same: 0, not the mean of the rows that matched.
	run -0 ff-predict -m d.json --with-features fb.csv
	same <(printf '%s\n' "${lines[@]}" | col count_trips_window_1h_pickup_zip) <<EOF
0
0
$n1
EOF
}

# ---- online ------------------------------------------------------------------

@test "--online: the batch predictions, fallbacks included; --skew-check finds a planted difference" {
	ff-sync-online -q -s small.db --online online.db
	fallback_trips > /dev/null
	ff-predict -m model.json --online online.db trips.csv | cmp - <(ff-predict -m model.json trips.csv)
	ff-predict -m model.json --online online.db --with-features --with-fallbacks fb.csv |
		cmp - <(ff-predict -m model.json --with-features --with-fallbacks fb.csv)
	run -0 --separate-stderr ff-predict -m model.json --online online.db --skew-check trips.csv
	[ -z "$stderr" ]
	assert_output "3000 rows, 7 features each, 0 differences"
	# Trip 1's pickup window, changed online only.
	local zip
	zip=$(sed -n 2p trips.csv | cut -d, -f5)
	sqlite3 online.db "UPDATE trip_pickup_features SET mean_fare_window_1h_pickup_zip = 99
		WHERE pickup_zip = '$zip' AND rounded_pickup_datetime =
		(SELECT min(rounded_pickup_datetime) FROM trip_pickup_features WHERE pickup_zip = '$zip')"
	run -1 --separate-stderr ff-predict -m model.json --online online.db --skew-check trips.csv
	[ "${lines[0]}" = "trips.csv:2: mean_fare_window_1h_pickup_zip: offline $(sed -n 2p ts.csv | cut -d, -f7), online 99" ]
	[[ "${lines[1]}" == "3000 rows, 7 features each, 1 difference"* ]]
	# --stats: one line on stderr.
	run -0 --separate-stderr ff-predict -m model.json --online online.db --stats -o pred.csv trips.csv
	no_output
	[[ "$stderr" == "ff-predict: 3000 requests: latency p50 "*"; 6000 lookups, 0 misses, 0 fallbacks; table versions trip_pickup_features 1 (model 1, +0), trip_dropoff_features 1 (model 1, +0); scorer ff_trees" ]]
	[[ "$stderr" != *$'\n'* ]]
	run -2 --separate-stderr ff-predict -m model.json --skew-check trips.csv
	no_output
	stderr_is "ff-predict: --skew-check compares with an online store: give --online FILE
Try 'ff-predict --help' for more information."
}

# ---- inputs and outputs ---------------------------------------------------------

@test "an input without a column of the vector fails naming the column" {
	cut -d, -f1,2,4- trips.csv > nodist.csv
	run -1 --separate-stderr ff-predict -m model.json -o pred.csv nodist.csv
	no_output
	[[ "$stderr" == "ff-predict: nodist.csv:"*": no column 'trip_distance' (input of the model)" ]]
	[[ "$stderr" != *$'\n'* ]]
	[ ! -e pred.csv ]
	# A key of a lookup.
	cut -d, -f1-5 trips.csv > nodrop.csv
	run -1 --separate-stderr ff-predict -m model.json -o pred.csv nodrop.csv
	no_output
	[[ "$stderr" == "ff-predict: "*"dropoff_zip"* && "$stderr" != *$'\n'* ]]
	[ ! -e pred.csv ]
}

@test "a header without a column of the vector fails at the header, rows or not" {
	cut -d, -f1,2,4- trips.csv > nodist.csv
	run -1 --separate-stderr ff-predict -m model.json nodist.csv
	no_output
	stderr_is "ff-predict: nodist.csv:1: no column 'trip_distance' (input of the model)"
	head -1 nodist.csv > header.csv
	run -1 --separate-stderr ff-predict -m model.json -o pred.csv header.csv
	no_output
	stderr_is "ff-predict: header.csv:1: no column 'trip_distance' (input of the model)"
	[ ! -e pred.csv ]
}

@test "a bad timestamp fails naming file and line; a bad number, file, line and column" {
	{ head -3 trips.csv; echo "yesterday,2018-01-02 10:10:00,1.5,9,142,142"; } > badts.csv
	run -1 --separate-stderr ff-predict -m model.json -o pred.csv badts.csv
	no_output
	stderr_is "ff-predict: badts.csv:4: column 'tpep_pickup_datetime': bad timestamp 'yesterday'"
	[ ! -e pred.csv ]
	run -1 --separate-stderr ff-predict -m model.json -o pred.csv < badts.csv
	stderr_is "ff-predict: stdin:4: column 'tpep_pickup_datetime': bad timestamp 'yesterday'"
	{ head -3 trips.csv; sed -n 4p trips.csv | awk -F, -v OFS=, '{ $3 = "far"; print }'; } > badnum.csv
	run -1 --separate-stderr ff-predict -m model.json -o pred.csv badnum.csv
	stderr_is "ff-predict: badnum.csv:4: column 'trip_distance': not a number"
	[ ! -e pred.csv ]
}

@test "--format bin: binary records that ff-cat reads back" {
	ff-predict -m model.json --with-features --with-fallbacks -o pred.csv trips.csv
	ff-predict -m model.json --with-features --with-fallbacks --format bin -o pred.bin trips.csv
	run -1 cmp -s pred.csv pred.bin
	ff-cat pred.bin > back.csv
	[ "$(head -1 back.csv)" = "$(head -1 pred.csv)" ]
	cut -d, -f1-6 back.csv | cmp - trips.csv
	# The predictions are the same floats, written as reals.
	need_python
	diff -u <(f32 prediction pred.csv) <(f32 prediction back.csv)
	local f
	for f in ${FEATURES//,/ }; do
		diff -u <(f32 "$f" pred.csv) <(f32 "$f" back.csv)
	done
	# Binary records in: the same predictions.
	ff-cat --format bin trips.csv | ff-predict -m model.json | cmp - <(ff-predict -m model.json trips.csv)
}

@test "a header-only input gives a header" {
	head -1 trips.csv > header.csv
	run -0 --separate-stderr ff-predict -m model.json header.csv
	[ -z "$stderr" ]
	assert_output "$TRIPS_HEADER,prediction"
	run -0 ff-predict -m model.json --format bin -o h.bin header.csv
	[ "$(ff-cat h.bin)" = "$TRIPS_HEADER,prediction" ]
	# With the extra columns: the header of a non-empty output.
	run -0 ff-predict -m model.json --with-features --with-fallbacks header.csv
	assert_output "$TRIPS_HEADER,prediction,$FEATURES,fallbacks"
}

@test "an input with a prediction column, or the features already, is refused" {
	awk -F, -v OFS=, '{ print $0, NR == 1 ? "prediction" : 1 }' trips.csv > pcol.csv
	run -1 --separate-stderr ff-predict -m model.json pcol.csv
	no_output
	stderr_is "ff-predict: pcol.csv:1: the input has a column named prediction already"
	run -1 --separate-stderr ff-predict -m model.json ts.csv
	no_output
	[[ "$stderr" == *"two columns named mean_fare_window_1h_pickup_zip"* ]]
}

@test "a model that is not one: one line naming the file" {
	echo hello > hello.txt
	run -1 --separate-stderr ff-predict -m hello.txt trips.csv
	no_output
	stderr_is "ff-predict: hello.txt: not an ff model (an XGBoost JSON model file)"
	run -1 --separate-stderr ff-predict -m trips.csv trips.csv
	no_output
	stderr_is "ff-predict: trips.csv: not an ff model (an XGBoost JSON model file)"
	# JSON, but no model: refused before XGBoost reads it, on one line.
	echo '{}' > empty.json
	run -1 --separate-stderr ff-predict -m empty.json trips.csv
	no_output
	stderr_is "ff-predict: empty.json: learner is missing or not an object"
}

@test "an XGBoost model that is not an ff model, or no file" {
	# Another format name: what XGBoost reads, but not an ff artifact.
	sed 's/"ff_format":"ff-model 1"/"ff_format":"other 1"/' model.json > other.json
	run -1 --separate-stderr ff-predict -m other.json trips.csv
	no_output
	stderr_is "ff-predict: other.json: not an ff model (no ff-model 1 attributes)"
	run -1 --separate-stderr ff-predict -m no-such.json trips.csv
	no_output
	[[ "$stderr" == "ff-predict: no-such.json: "* && "$stderr" != *$'\n'* ]]
}

# The blueprint names its store by absolute path (it used to be the path
# as typed, read from the current directory): run from elsewhere, the model
# reads the store it was trained on. More in ff-predict-store.bats.
@test "the store: the blueprint's, or -s" {
	mkdir elsewhere
	cd elsewhere
	ff-predict -m ../model.json ../trips.csv | cmp - <(cd .. && ff-predict -m model.json trips.csv)
	ff-predict -m ../model.json -s ../small.db ../trips.csv | cmp - <(cd .. && ff-predict -m model.json trips.csv)
}

# damaged MODEL STATEMENT: the model with one thing broken (damage.py).
damaged() { /usr/bin/python3 "$FIXTURES/damage.py" "$@"; }

# XGBoost 1.7 trusts a model: num_trees above the trees given crashed it
# (exit 139), children out of range crashed the first prediction, split
# indices out of range changed predictions, arrays of unequal lengths freed
# twice. Each is now a one-line error before XGBoost reads the file.
@test "a damaged model is one clear error, exit 1, nothing on stdout" {
	need_python
	local n1
	n1=$(jq -r '.learner.gradient_booster.model.trees[1].tree_param.num_nodes' model.json)
	check() {
		damaged model.json "$1" > bad.json
		run -1 --separate-stderr ff-predict -m bad.json trips.csv
		no_output
		stderr_is "ff-predict: bad.json: $2"
	}
	check 'g["gbtree_model_param"]["num_trees"] = "25"' "num_trees is 25 but 20 trees are given"
	check 't[3]["left_children"][0] = 99999' "tree 3: left_children[0] = 99999 out of range"
	check 't[2]["right_children"][0] = -7' "tree 2: right_children[0] = -7 out of range"
	check 't[0]["split_indices"][0] = 7' "tree 0: split_indices[0] = 7 out of range (num_feature 7)"
	check 't[1]["split_conditions"].pop()' "tree 1: split_conditions has $((n1 - 1)) items, num_nodes is $n1"
	check 't[0]["right_children"][0] = 1' "tree 0: right_children[0] = 1: node 1 has two parents, not a tree"
	check 't[0]["right_children"][0] = -1' \
		"tree 0: node 0 has one child (left_children[0] = 1, right_children[0] = -1)"
	check 'm["learner"]["learner_model_param"]["num_feature"] = "8"; del m["learner"]["feature_names"]; del m["learner"]["feature_types"]' \
		"the trees take 8 features, the blueprint's vector has 7"
	check 'g["tree_info"].pop()' "num_trees is 20 but tree_info has 19 items"
	# Undamaged, through the same Python round trip: the same predictions.
	damaged model.json pass > same.json
	ff-predict -m same.json trips.csv | cmp - <(ff-predict -m model.json trips.csv)
}

@test "usage errors exit 2 with nothing on stdout" {
	run -2 --separate-stderr ff-predict trips.csv
	no_output
	stderr_is "ff-predict: no model: give -m MODEL
Try 'ff-predict --help' for more information."
	run -2 --separate-stderr ff-predict -m model.json --fallback zero trips.csv
	no_output
	stderr_is "ff-predict: bad --fallback 'zero': use mean or missing
Try 'ff-predict --help' for more information."
	run -2 --separate-stderr ff-predict -m model.json --format parquet -o out.csv trips.csv
	no_output
	stderr_is "ff-predict: bad --format 'parquet': use csv or bin
Try 'ff-predict --help' for more information."
	run -2 --separate-stderr ff-predict -m model.json --no-such-option trips.csv
	no_output
	[[ "$stderr" == *"Try 'ff-predict --help' for more information." ]]
	[ ! -e out.csv ]
}

@test "--help and --version" {
	run -0 --separate-stderr ff-predict --help
	[ -z "$stderr" ]
	assert_line --index 0 "usage: ff-predict -m MODEL [options] [FILE...]"
	for opt in --model --registry --store --online --stats --skew-check --fallback \
		--with-features --with-fallbacks --format --output --quiet --help --version; do
		assert_output --partial -- "$opt"
	done
	run -0 ff-predict -V
	assert_output --regexp '^ff-predict \(ff\) [0-9]+\.[0-9]+\.[0-9]+$'
}

# ---- the real sample ------------------------------------------------------------

@test "real sample: the raw trips give XGBoost's predictions on the training set, bit for bit" {
	need_sample
	need_xgboost
	cp "$BATS_FILE_TMPDIR"/{real.db,real.csv,real.bp} .
	ff-train -q -b real.bp -o real.json --rounds 20 --depth 6 --eta 0.1 real.csv
	ff-predict -m real.json -s real.db --fallback missing -o pred.csv "$SHARED_DATA/nyctaxi_sample.csv"
	[ "$(wc -l < pred.csv)" -eq 120001 ]
	diff -u <(py_predict real.json real.csv) <(f32 prediction pred.csv)
	# No misses in training: the fallbacks change nothing.
	ff-predict -m real.json -s real.db "$SHARED_DATA/nyctaxi_sample.csv" | cmp - pred.csv
}

@test "real sample: the examples of ff-predict(1): predictions, fallbacks, missing features" {
	need_sample
	cp "$BATS_FILE_TMPDIR"/{real.db,real.csv,real.bp} .
	ff-train -q -b real.bp -o taxi.json --rounds 100 --depth 6 --eta 0.1 --subsample 1 real.csv
	ff-predict -m taxi.json -s real.db -o predictions.csv "$SHARED_DATA/nyctaxi_sample.csv"
	same <(sed -n 2,3p predictions.csv) <<'EOF'
2018-01-11 18:24:44,2018-01-11 18:35:02,1.65,8.5,230,237,8.817818
2018-01-05 15:31:57,2018-01-05 15:37:18,0.73,5.5,223,223,5.5033927
EOF
	printf '%s\n' "$TRIPS_HEADER" '2017-12-31 23:50:00,2018-01-01 00:05:00,1.65,,230,237' \
		'2018-06-01 12:00:00,2018-06-01 12:10:00,1.65,,99999,237' > new.csv
	run -0 ff-predict -m taxi.json -s real.db --with-features --with-fallbacks new.csv
	same <(printf '%s\n' "${lines[@]}" | cut -d, -f5-) <<'EOF'
pickup_zip,dropoff_zip,prediction,mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,count_trips_window_30m_dropoff_zip,dropoff_is_weekend,fallbacks
230,237,12.669984,13.073136329650879,1.6182703971862793,1.3726736307144165,0.20880617201328278,mean_fare_window_1h_pickup_zip count_trips_window_1h_pickup_zip count_trips_window_30m_dropoff_zip dropoff_is_weekend
99999,237,4.8828545,16.6735897064209,1.439574956893921,2,0,mean_fare_window_1h_pickup_zip count_trips_window_1h_pickup_zip
EOF
	run -0 ff-predict -m taxi.json -s real.db --fallback missing new.csv
	same <(printf '%s\n' "${lines[@]}" | cut -d, -f5-) <<'EOF'
pickup_zip,dropoff_zip,prediction
230,237,426947.4
99999,237,426947.4
EOF
}
