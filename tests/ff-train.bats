#!/usr/bin/env bats
# ff-train: XGBoost models packaged with their blueprint (ff-model(5)).
# Small cases train a few rounds on generated trips; the real sample checks
# the figures of the README against Python xgboost, when it is there.

load test_helper/common
bats_require_minimum_version 1.5.0

FIXTURES=$BATS_TEST_DIRNAME/fixtures/model
TRAIN_SPEC=$EXAMPLES/training_set.spec
VECTOR="trip_distance pickup_zip dropoff_zip mean_fare_window_1h_pickup_zip count_trips_window_1h_pickup_zip count_trips_window_30m_dropoff_zip dropoff_is_weekend"

# For the whole file, in $BATS_FILE_TMPDIR:
# trips.csv, 3000 generated trips over 3 days; small.db, their two taxi
# tables; ts.csv and bp, their training set and blueprint.
# real.db, real.csv and real.bp, the same for the real sample (if there).
setup_file() {
	cd "$BATS_FILE_TMPDIR" || return 1
	ff-gen-trips -n 3000 --days 3 -o trips.csv
	ff-compute -q -s small.db -f "$EXAMPLES/pickup_features.spec" \
		-f "$EXAMPLES/dropoff_features.spec" --lateness 35d trips.csv
	ff-train-set -q -s small.db -f "$TRAIN_SPEC" -b bp -o ts.csv trips.csv
	if [ -f "$SHARED_DATA/nyctaxi_sample.csv" ]; then
		ff-compute -q -s real.db -f "$EXAMPLES/pickup_features.spec" \
			-f "$EXAMPLES/dropoff_features.spec" --lateness 35d "$SHARED_DATA/nyctaxi_sample.csv"
		ff-train-set -q -s real.db -f "$TRAIN_SPEC" -b real.bp -o real.csv \
			"$SHARED_DATA/nyctaxi_sample.csv"
	fi
}

setup() {
	common_setup
	cp "$BATS_FILE_TMPDIR"/{trips.csv,small.db,ts.csv,bp} .
}

# same FILE: FILE holds exactly what stdin holds.
same() { diff -u - "$1"; }

# stderr_is TEXT: the last `run --separate-stderr` wrote exactly TEXT to stderr.
stderr_is() {
	diff -u <(printf '%s\n' "$1") <(printf '%s\n' "$stderr")
}

no_output() {
	[ -z "$output" ] || { printf 'unexpected stdout:\n%s\n' "$output" >&2; return 1; }
}

# attr MODEL NAME: an ff attribute of a model artifact.
attr() { jq -r --arg a "$2" '.learner.attributes[$a]' "$1"; }

# trees MODEL: the number of trees of a model.
trees() { jq -r '.learner.gradient_booster.model.gbtree_model_param.num_trees' "$1"; }

need_xgboost() {
	/usr/bin/python3 -c 'import xgboost' 2> /dev/null || skip "no python3-xgboost"
}

# rmse_mae CSV: "RMSE MAE" (4 decimals) of the prediction column against
# fare_amount over the rows of a CSV file with a header.
rmse_mae() {
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		{ e = $col["prediction"] - $col["fare_amount"]; se += e * e; ae += e < 0 ? -e : e; n++ }
		END { printf "%.4f %.4f\n", sqrt(se / n), ae / n }' "$1"
}

# ---- the artifact --------------------------------------------------------

@test "the artifact is an XGBoost JSON model with the ff attributes; ff-predict loads it" {
	run -0 --separate-stderr ff-train -q -b bp -o model.json --rounds 5 ts.csv
	no_output
	[ -z "$stderr" ]
	# No ff_categories: no column is categorical, and an empty attribute is
	# left out.
	same <(jq -r '.learner.attributes | keys[]' model.json) <<'EOF'
ff_blueprint
ff_format
ff_importance
ff_lineage
ff_metrics
ff_params
EOF
	[ "$(attr model.json ff_format)" = "ff-model 1" ]
	# The blueprint, as it was, byte for byte.
	diff -u bp <(attr model.json ff_blueprint | head -c -1)
	[ "$(jq -r '.learner.feature_names | join(" ")' model.json)" = "$VECTOR" ]
	[ "$(jq -r '.learner.feature_types | join(" ")' model.json)" = "q q q q q q q" ]
	[ "$(trees model.json)" = 5 ]
	same <(attr model.json ff_params) <<'EOF'
tree_method hist
objective reg:squarederror
max_depth 8
eta 0.05
min_child_weight 1
subsample 0.8
colsample_bytree 1
lambda 1
seed 0
nthread 2
eval_metric rmse
max_cat_to_onehot 1

EOF
	same <(attr model.json ff_lineage) <<'EOF'
table trip_pickup_features
table trip_dropoff_features

EOF
	same <(attr model.json ff_metrics | sed -E 's/ [0-9]+\.[0-9]{6}$/ X/') <<'EOF'
rows 3000
train_rows 2400
holdout_rows 600
rounds 5
train_rmse X
train_mae X
holdout_rmse X
holdout_mae X

EOF
	# ff-predict scores the trips with it: one prediction per trip.
	run -0 --separate-stderr ff-predict -m model.json -o pred.csv trips.csv
	[ -z "$stderr" ]
	[ "$(head -1 pred.csv)" = "$(head -1 trips.csv),prediction" ]
	[ "$(wc -l < pred.csv)" -eq 3001 ]
	[ "$(awk -F, 'NR > 1 && $7 !~ /^[0-9]+(\.[0-9]+)?$/' pred.csv | wc -l)" -eq 0 ]
	# -o - with -q: the same artifact on stdout.
	ff-train -q -b bp -o - --rounds 5 ts.csv | cmp - model.json
}

@test "deterministic: the same inputs and seed give the same bytes, another seed another model" {
	# The blueprint names its store by absolute path: made from this copy.
	ff-train-set -q -s small.db -f "$TRAIN_SPEC" -b bp -o ts.csv trips.csv
	ff-train -q -b bp -o a.json --rounds 5 ts.csv
	ff-train -q -b bp -o b.json --rounds 5 ts.csv
	cmp a.json b.json
	# From the trips again: the same blueprint, training set and model.
	ff-train-set -q -s small.db -f "$TRAIN_SPEC" -b bp2 -o ts2.csv trips.csv
	cmp bp bp2
	cmp ts.csv ts2.csv
	ff-train -q -b bp2 -o c.json --rounds 5 ts2.csv
	cmp a.json c.json
	# The training set as binary records: the same model.
	ff-train-set -q -s small.db -f "$TRAIN_SPEC" -b bp3 -o ts3.bin --format bin trips.csv
	cmp bp bp3
	ff-train -q -b bp3 -o d.json --rounds 5 ts3.bin
	cmp a.json d.json
	# Rows sampled with another seed: other trees.
	ff-train -q -b bp -o e.json --rounds 5 --seed 7 ts.csv
	run -1 cmp -s a.json e.json
	[ "$(attr e.json ff_params | grep '^seed ')" = "seed 7" ]
}

@test "the report: train and holdout rows, RMSE and MAE, rounds, importance by the vector's names" {
	run -0 --separate-stderr ff-train -b bp -o model.json --rounds 5 ts.csv
	[ -z "$stderr" ]
	same <(printf '%s\n' "$output" | head -5 | sed -E 's/ +[0-9]+\.[0-9]{4}/ R/g') <<'EOF'
set              rows       rmse        mae
train            2400 R R
holdout           600 R R
rounds: 5

EOF
	[ "${lines[4]}" = "feature                                      total gain   share" ]
	# One line per feature the trees split on, named as in the vector; the
	# shares add up to 100%.
	local n=$((${#lines[@]} - 5))
	[ "$n" -ge 1 ]
	for line in "${lines[@]:5}"; do
		[[ "$line" =~ ^([a-z_0-9]+)\ +[0-9.e+]+\ +[0-9]+\.[0-9]%$ ]]
		[[ " $VECTOR " == *" ${BASH_REMATCH[1]} "* ]]
	done
	printf '%s\n' "${lines[@]:5}" | awk '{ s += $3 } END { exit !(s > 99.5 && s < 100.5) }'
	# ff_importance holds the same features with their gains.
	diff -u <(printf '%s\n' "${lines[@]:5}" | awk '{ print $1 }') \
		<(attr model.json ff_importance | awk 'NF { print $1 }')
	# The report's figures are those of ff_metrics.
	local train=(${lines[1]}) holdout=(${lines[2]})
	[ "$(attr model.json ff_metrics | awk '$1 == "train_rmse" { printf "%.4f", $2 }')" = "${train[2]}" ]
	[ "$(attr model.json ff_metrics | awk '$1 == "train_mae" { printf "%.4f", $2 }')" = "${train[3]}" ]
	[ "$(attr model.json ff_metrics | awk '$1 == "holdout_rmse" { printf "%.4f", $2 }')" = "${holdout[2]}" ]
	[ "$(attr model.json ff_metrics | awk '$1 == "holdout_mae" { printf "%.4f", $2 }')" = "${holdout[3]}" ]
	# -q: no report, the same model.
	run -0 --separate-stderr ff-train -q -b bp -o quiet.json --rounds 5 ts.csv
	no_output
	[ -z "$stderr" ]
	cmp model.json quiet.json
}

@test "the holdout is the latest 20% of the rows by pickup time" {
	run -0 ff-train -b bp -o model.json --rounds 5 ts.csv
	local train=(${lines[1]}) holdout=(${lines[2]})
	# The trips sorted by pickup time (stable), scored by ff-predict: the
	# last 600 give the holdout's figures, the first 2400 the training rows'.
	ff-predict -m model.json --fallback missing trips.csv > pred.csv
	{ head -1 pred.csv; tail -n +2 pred.csv | sort -s -t, -k1,1 | tail -600; } > late.csv
	{ head -1 pred.csv; tail -n +2 pred.csv | sort -s -t, -k1,1 | head -2400; } > early.csv
	[ "$(rmse_mae late.csv)" = "${holdout[2]} ${holdout[3]}" ]
	[ "$(rmse_mae early.csv)" = "${train[2]} ${train[3]}" ]
	# --time-column orders by another time; a column that is not there fails.
	run -0 ff-train -b bp -o drop.json --rounds 5 --time-column tpep_dropoff_datetime ts.csv
	local drop=(${lines[2]})
	ff-predict -m drop.json --fallback missing trips.csv > pred_drop.csv
	{ head -1 pred_drop.csv; tail -n +2 pred_drop.csv | sort -s -t, -k2,2 | tail -600; } > late_drop.csv
	[ "$(rmse_mae late_drop.csv)" = "${drop[2]} ${drop[3]}" ]
	run -1 --separate-stderr ff-train -b bp -o x.json --time-column when ts.csv
	no_output
	stderr_is "ff-train: ts.csv:1: no time column 'when' to order the holdout by"
	[ ! -e x.json ]
}

@test "--holdout 0 trains on every row and reports no holdout" {
	run -0 --separate-stderr ff-train -b bp -o model.json --rounds 5 --holdout 0 ts.csv
	same <(printf '%s\n' "${lines[@]:0:3}" | sed -E 's/ +[0-9]+\.[0-9]{4}/ R/g') <<'EOF'
set              rows       rmse        mae
train            3000 R R
rounds: 5
EOF
	same <(attr model.json ff_metrics | grep -E '^(rows|train_rows|holdout_rows) ') <<'EOF'
rows 3000
train_rows 3000
holdout_rows 0
EOF
	[ "$(attr model.json ff_metrics | grep -c '^holdout_')" -eq 1 ]
	# Every trip scored: the report's train figures.
	ff-predict -m model.json trips.csv > pred.csv
	local train=(${lines[1]})
	[ "$(rmse_mae pred.csv)" = "${train[2]} ${train[3]}" ]
}

@test "--early-stopping stops early: the model is the best round's, fewer trees" {
	run -0 ff-train -b bp -o es.json --rounds 200 --eta 0.3 --early-stopping 3 ts.csv
	[[ "${lines[3]}" =~ ^rounds:\ ([0-9]+)$ ]]
	local n=${BASH_REMATCH[1]}
	[ "$n" -lt 200 ] && [ "$n" -ge 1 ]
	[ "$(trees es.json)" = "$n" ]
	[ "$(attr es.json ff_metrics | grep '^rounds ')" = "rounds $n" ]
	# The same trees as a model trained for just that many rounds.
	ff-train -q -b bp -o n.json --rounds "$n" --eta 0.3 ts.csv
	diff -u <(jq -c 'del(.learner.attributes)' n.json) <(jq -c 'del(.learner.attributes)' es.json)
	# Without early stopping, every round.
	ff-train -q -b bp -o all.json --rounds 40 --eta 0.3 ts.csv
	[ "$(trees all.json)" = 40 ]
}

# ---- categories -----------------------------------------------------------

@test "--categorical turns numeric columns into codes, kept in ff_categories" {
	ff-train -q -b bp -o plain.json --rounds 5 ts.csv
	[ "$(jq '.learner.attributes | has("ff_categories")' plain.json)" = false ]
	run -0 --separate-stderr ff-train -q -b bp -o cat.json --rounds 5 --categorical pickup_zip,dropoff_zip ts.csv
	[ -z "$stderr" ]
	[ "$(jq -r '.learner.feature_types | join(" ")' cat.json)" = "q c c q q q q" ]
	# A line per column, then one per value: codes from 0 in the order of
	# first appearance in the training set.
	attr cat.json ff_categories > codes
	[ "$(head -1 codes)" = "$(printf 'pickup_zip\t-\t')" ]
	tail -n +2 ts.csv | cut -d, -f5 | awk '!seen[$0]++ { printf "pickup_zip\t%d\t%s\n", n++, $0 }' > want
	diff -u want <(grep -P '^pickup_zip\t[0-9]' codes)
	tail -n +2 ts.csv | cut -d, -f6 | awk '!seen[$0]++ { printf "dropoff_zip\t%d\t%s\n", n++, $0 }' > want
	diff -u want <(grep -P '^dropoff_zip\t[0-9]' codes)
	[ "$(grep -cP '^dropoff_zip\t-\t$' codes)" -eq 1 ]
	[ "$(awk NF codes | cut -f1 | sort -u | tr '\n' ' ')" = "dropoff_zip pickup_zip " ]
	# The categories change the model, and ff-predict reads them back.
	run -1 cmp -s plain.json cat.json
	run -0 ff-predict -m cat.json --fallback missing trips.csv
	[ "${#lines[@]}" -eq 3001 ]
	# A column the vector does not have.
	run -1 --separate-stderr ff-train -q -b bp -o x.json --categorical fare ts.csv
	no_output
	stderr_is "ff-train: categorical column 'fare' is not in the blueprint's vector"
	[ ! -e x.json ]
}

@test "a text column of the vector is categorical without --categorical" {
	# Zips with a letter: text keys, text inputs.
	awk -F, -v OFS=, 'NR > 1 { $5 = "z" $5; $6 = "z" $6 } 1' trips.csv > ztrips.csv
	ff-compute -q -s z.db -f "$EXAMPLES/pickup_features.spec" \
		-f "$EXAMPLES/dropoff_features.spec" --lateness 35d ztrips.csv
	ff-train-set -q -s z.db -f "$TRAIN_SPEC" -b zbp -o zts.csv ztrips.csv
	same <(grep -E '^vector (pickup|dropoff)_zip ' zbp) <<'EOF'
vector pickup_zip text
vector dropoff_zip text
EOF
	ff-train -q -b zbp -o z.json --rounds 5 zts.csv
	[ "$(jq -r '.learner.feature_types | join(" ")' z.json)" = "q c c q q q q" ]
	attr z.json ff_categories > codes
	tail -n +2 zts.csv | cut -d, -f5 | awk '!seen[$0]++ { printf "pickup_zip\t%d\t%s\n", n++, $0 }' > want
	diff -u want <(grep -P '^pickup_zip\t[0-9]' codes)
	[ "$(grep -P '^pickup_zip\t0\t' codes)" = "$(printf 'pickup_zip\t0\tz%s' "$(sed -n 2p trips.csv | cut -d, -f5)")" ]
	# The same trees as the numeric zips made categorical, codes being codes.
	ff-train -q -b bp -o cat.json --rounds 5 --categorical pickup_zip,dropoff_zip ts.csv
	diff -u <(jq -c '.learner.gradient_booster' cat.json) <(jq -c '.learner.gradient_booster' z.json)
}

# ---- errors ----------------------------------------------------------------

@test "a bad label fails naming file and line; nothing written, an old model stays" {
	awk -F, -v OFS=, 'NR == 3 { $4 = "twelve" } 1' ts.csv > bad.csv
	echo old > model.json
	run -1 --separate-stderr ff-train -b bp -o model.json --rounds 5 bad.csv
	no_output
	stderr_is "ff-train: bad.csv:3: label 'fare_amount': not a number"
	echo old | same model.json
	run -1 --separate-stderr ff-train -b bp -o new.json --rounds 5 < bad.csv
	no_output
	stderr_is "ff-train: stdin:3: label 'fare_amount': not a number"
	[ ! -e new.json ]
}

@test "a value of the vector that is not a number fails naming file, line and column" {
	awk -F, -v OFS=, 'NR == 4 { $3 = "far" } 1' ts.csv > bad.csv
	run -1 --separate-stderr ff-train -b bp -o model.json --rounds 5 bad.csv
	no_output
	stderr_is "ff-train: bad.csv:4: column 'trip_distance': not a number"
	[ ! -e model.json ]
}

@test "rows without a label are left out, with a warning" {
	awk -F, -v OFS=, 'NR == 3 || NR == 5 { $4 = "" } 1' ts.csv > gaps.csv
	run -0 --separate-stderr ff-train -b bp -o model.json --rounds 5 gaps.csv
	stderr_is "ff-train: warning: 2 rows without a label left out"
	[ "$(attr model.json ff_metrics | sed -n 1p)" = "rows 2998" ]
	run -0 --separate-stderr ff-train -q -b bp -o model.json --rounds 5 gaps.csv
	[ -z "$stderr" ]
}

@test "a training set without a column of the vector fails naming the column" {
	cut -d, -f1-7,9- ts.csv > short.csv
	run -1 --separate-stderr ff-train -b bp -o model.json short.csv
	no_output
	stderr_is "ff-train: short.csv:1: no column 'count_trips_window_1h_pickup_zip' (input of the model)"
	[ ! -e model.json ]
	cut -d, -f1-3,5- ts.csv > nolabel.csv
	run -1 --separate-stderr ff-train -b bp -o model.json nolabel.csv
	stderr_is "ff-train: nolabel.csv:1: no label column 'fare_amount'"
	[ ! -e model.json ]
}

@test "a blueprint that is not one, or is not there" {
	run -1 --separate-stderr ff-train -b trips.csv -o model.json ts.csv
	no_output
	stderr_is "ff-train: trips.csv: not a blueprint (no format line)"
	run -1 --separate-stderr ff-train -b no-such.bp -o model.json ts.csv
	no_output
	[[ "$stderr" == "ff-train: no-such.bp: "* && "$stderr" != *$'\n'* ]]
	[ ! -e model.json ]
}

@test "a header-only training set: no rows to train on" {
	head -1 ts.csv > header.csv
	run -1 --separate-stderr ff-train -b bp -o model.json header.csv
	no_output
	stderr_is "ff-train: no rows to train on"
	[ ! -e model.json ]
}

@test "usage errors exit 2 with nothing on stdout and no model" {
	run -2 --separate-stderr ff-train -o model.json ts.csv
	no_output
	stderr_is "ff-train: no blueprint: give -b BLUEPRINT
Try 'ff-train --help' for more information."
	run -2 --separate-stderr ff-train -b bp ts.csv
	no_output
	stderr_is "ff-train: no model file: give -o MODEL
Try 'ff-train --help' for more information."
	run -2 --separate-stderr ff-train -b bp -o - ts.csv
	no_output
	stderr_is "ff-train: -o - writes the model to stdout: add -q so the report does not mix in
Try 'ff-train --help' for more information."
	local bad
	for bad in "--rounds 0" "--rounds 1.5" "--rounds x" "--depth 0" "--depth 65" "--eta 0" "--eta 2" \
		"--eta x" "--subsample 0" "--subsample 1.5" "--colsample 0" "--min-child-weight -1" \
		"--lambda -1" "--seed -1" "--threads 0" "--holdout 1" "--holdout -0.1" \
		"--early-stopping -1" "--rounds="; do
		run -2 --separate-stderr ff-train -b bp -o model.json $bad ts.csv
		no_output
		[[ "$stderr" == "ff-train: bad ${bad%%[ =]*} '${bad#*[ =]}': "*$'\n'"Try 'ff-train --help' for more information." ]] ||
			fail "$bad: $stderr"
	done
	run -2 --separate-stderr ff-train -b bp -o model.json --no-such-option ts.csv
	no_output
	[[ "$stderr" == *"Try 'ff-train --help' for more information." ]]
	[ ! -e model.json ]
}

@test "--help and --version" {
	run -0 --separate-stderr ff-train --help
	[ -z "$stderr" ]
	assert_line --index 0 "usage: ff-train -b BLUEPRINT -o MODEL [options] [TRAINING_SET...]"
	for opt in --blueprint --output --rounds --depth --eta --min-child-weight --subsample \
		--colsample --lambda --seed --threads --objective --holdout --early-stopping \
		--time-column --categorical --quiet --help --version; do
		assert_output --partial -- "$opt"
	done
	run -0 ff-train -V
	assert_output --regexp '^ff-train \(ff\) [0-9]+\.[0-9]+\.[0-9]+$'
}

# ---- the real sample ---------------------------------------------------------

@test "real sample: depth 6, eta 0.1, 100 rounds: holdout RMSE 3.5567, MAE 0.9642" {
	need_sample
	cp "$BATS_FILE_TMPDIR"/{real.csv,real.bp} .
	run -0 --separate-stderr ff-train -b real.bp -o model.json --rounds 100 --depth 6 --eta 0.1 \
		--subsample 1 real.csv
	[ -z "$stderr" ]
	# The report of ff-train(1)'s first example.
	same <(printf '%s\n' "$output") <<'EOF'
set              rows       rmse        mae
train           96000     8.4943     0.8058
holdout         24000     3.5567     0.9642
rounds: 100

feature                                      total gain   share
trip_distance                               1.53795e+07    0.0%
pickup_zip                                       503070    0.0%
dropoff_zip                                 1.06226e+06    0.0%
mean_fare_window_1h_pickup_zip              9.45877e+11  100.0%
count_trips_window_1h_pickup_zip                 607346    0.0%
count_trips_window_30m_dropoff_zip              445.405    0.0%
dropoff_is_weekend                              77169.8    0.0%
EOF
	local holdout=(${lines[2]})
	awk -v r="${holdout[2]}" 'BEGIN { exit !(r >= 3.55 && r <= 3.57) }'
	[ "$(trees model.json)" = 100 ]
	echo "rmse ${holdout[2]} mae ${holdout[3]}" > ff
	# Python xgboost, with the same settings and the same holdout.
	need_xgboost
	/usr/bin/python3 "$FIXTURES/train.py" real.csv 100 6 0.1 > py
	awk '{ d = $2 - 3.5567; if (d < 0) d = -d; exit !(d < 0.01) }' py || { cat py ff; false; }
}
