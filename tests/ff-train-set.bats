#!/usr/bin/env bats
# ff-train-set: a training set and its blueprint. Small cases are worked out
# by hand from ff-semantics(7) ("Training sets"); the taxi training set
# of the real sample is checked against an oracle computed by sqlite3 itself
# (tests/fixtures/join/oracle.sql).

load test_helper/common
bats_require_minimum_version 1.5.0

FIXTURES=$BATS_TEST_DIRNAME/fixtures/join
TRAIN_SPEC=$EXAMPLES/training_set.spec
HEADER=tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,fare_amount,pickup_zip,dropoff_zip,mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,count_trips_window_30m_dropoff_zip,dropoff_is_weekend

# Two stores for the whole file:
# small.db, table zone from fixtures/join/events.csv (15 min tumbling windows):
#   zip    t_end                n  mean
#   10001  2018-01-01 10:15:00  2  15
#   10002  2018-01-01 10:30:00  2  7.5
#   10001  2018-01-01 10:45:00  1  6
#   10001  2018-01-01 11:30:00  1  NULL
# taxi.db, the two taxi tables of the real sample (when it is there).
setup_file() {
	ff-compute -q -s "$BATS_FILE_TMPDIR/small.db" --table zone --time time --key zip \
		--timestamp-key t_end --window 15m --feature 'n=count(*)' --feature 'total=sum(fare)' \
		--feature 'mean=mean(fare)' --lateness unbounded "$BATS_TEST_DIRNAME/fixtures/join/events.csv"
	if [ -f "$SHARED_DATA/nyctaxi_sample.csv" ]; then
		ff-compute -q -s "$BATS_FILE_TMPDIR/taxi.db" -f "$EXAMPLES/pickup_features.spec" \
			-f "$EXAMPLES/dropoff_features.spec" --lateness 35d "$SHARED_DATA/nyctaxi_sample.csv"
	fi
}

setup() {
	common_setup
	cp "$BATS_FILE_TMPDIR/small.db" store.db
	# Round up to the quarter hour, look the zone up as of it, fare is the label.
	cat > small.spec <<'EOF'
derive    r=ceil(when, 15m)
lookup    zone
key       zip
timestamp r
features  n,mean
label     fare
exclude   r
inputs    dist
EOF
	# 1: on a boundary, sees its own 10:15 row (no leakage).
	# 2: 10:20 rounds to 10:30, a window that ends after the trip (leakage).
	# 3: 11:00 sees the 10:45 row (no leakage); its label is empty.
	# 4: a zip the table does not have (a miss).
	cat > small.csv <<'EOF'
id,when,zip,dist,fare
1,2018-01-01 10:15:00,10001,1.5,12
2,2018-01-01 10:20:00,10002,2,8.5
3,2018-01-01 10:50:00,10001,0.5,
4,2018-01-01 09:00:00,10003,3,20
EOF
}

# same FILE: FILE holds exactly what stdin holds (the expected text).
same() { diff -u - "$1"; }

# stderr_is TEXT: the last `run --separate-stderr` wrote exactly TEXT to stderr.
stderr_is() {
	diff -u <(printf '%s\n' "$1") <(printf '%s\n' "$stderr")
}

no_output() {
	[ -z "$output" ] || { printf 'unexpected stdout:\n%s\n' "$output" >&2; return 1; }
}

# hashes BLUEPRINT: its input-hash and training-set-hash lines.
hashes() { grep -E '^(input-hash|training-set-hash) ' "$1"; }

# leak_message PREFIX LEAKY ROWS TEXT: TEXT is one line that starts with
# "PREFIX LEAKY of ROWS rows " and speaks of leakage (the rest of the wording
# is free).
leak_message() {
	if [[ "$4" == "$1 $2 of $3 rows "*leakage* && "$4" != *$'\n'* ]]; then
		return 0
	fi
	printf 'stderr was:\n%s\nexpected one line: %s %s of %s rows ... leakage ...\n' "$4" "$1" "$2" "$3" >&2
	return 1
}

# ---- a small training set, by hand -------------------------------------

@test "the hashes of a training set longer than one hashing chunk are those of one update a row" {
	# 3,000 rows are about 220 KB of canonical bytes: the blueprint hashes
	# them 64 KB at a time; the hashes were pinned when it hashed a row at a
	# time (a streaming hash is the same however its input is cut).
	awk 'BEGIN { print "id,when,zip,dist,fare"
		for (i = 1; i <= 3000; i++)
			printf "%d,2018-01-01 10:%02d:00,1000%d,%d.5,%d\n", i, i % 60, i % 4, i % 7, i % 30 }' >many.csv
	run -0 ff-train-set -q -s store.db -f small.spec -b bp -o ts.csv many.csv
	same <(hashes bp) <<'EOF'
input-hash xxh3-128:96b4ad8a074c100441126d8d1c2a92b7
training-set-hash xxh3-128:b7158dc16b6b6a28c611b9eb7350d597
EOF
}


@test "a small training set and its blueprint, worked out by hand" {
	run -0 --separate-stderr ff-train-set -s store.db -f small.spec -b bp small.csv
	assert_output - <<'EOF'
id,when,zip,dist,fare,n,mean
1,2018-01-01 10:15:00,10001,1.5,12,2,15
2,2018-01-01 10:20:00,10002,2,8.5,2,7.5
3,2018-01-01 10:50:00,10001,0.5,,1,6
4,2018-01-01 09:00:00,10003,3,20,,
EOF
	leak_message "ff-train-set: warning:" 1 4 "$stderr"
	# Means over the matched rows: n (2+2+1)/3, mean (15+7.5+6)/3; per key
	# 10001 (2+1)/2 and (15+6)/2; the label over the 3 non-empty fares.
	# The store's absolute path and identity, and the table's definition
	# hash, bind the model to this store (ff-predict-store.bats).
	same <(sed -E -e 's/xxh3-128:[0-9a-f]{32}$/xxh3-128:HASH/' -e "s|^store-path $PWD/|store-path PWD/|" \
		-e 's/^store-id [0-9a-f]{32}$/store-id ID/' bp) <<'EOF'
# ff-blueprint(5): how this training set was made, to make its rows again
format 1
store store.db
store-path PWD/store.db
store-id ID
derive r=ceil(when, 15m)
lookup zone
table-version 1
table-definition xxh3-128:HASH
key zip
timestamp r
features n,mean
label fare
exclude r
inputs dist
column id text
column when text
column zip text
column dist text
column fare text
column n integer
column mean real
vector dist real
vector n integer
vector mean real
mean n 1.6666666666666667 3
mean mean 9.5 3
key-mean n 1.5 2 10001
key-mean n 2 1 10002
key-mean mean 10.5 2 10001
key-mean mean 7.5 1 10002
label-mean 13.5 3
rows 4
misses zone 1
leakage zone 1
input-hash xxh3-128:HASH
training-set-hash xxh3-128:HASH
EOF
	[ "$(q store.db "SELECT version FROM ff_catalog WHERE name = 'zone'")" = 1 ]
}

@test "the blueprint records the table version it read" {
	printf 'time,zip,vendor,fare\n2018-01-01 12:05:00,10002,v1,9\n' > more.csv
	ff-compute -q -s store.db --table zone --time time --key zip --timestamp-key t_end \
		--window 15m --feature 'n=count(*)' --feature 'total=sum(fare)' \
		--feature 'mean=mean(fare)' --lateness unbounded more.csv
	[ "$(q store.db "SELECT version FROM ff_catalog WHERE name = 'zone'")" = 2 ]
	ff-train-set -q -s store.db -f small.spec -b bp -o ts.csv small.csv
	same <(grep -A1 '^lookup ' bp) <<'EOF'
lookup zone
table-version 2
EOF
}

@test "-o writes the training set, -q silences the leakage warning" {
	ff-train-set -s store.db -f small.spec -b bp small.csv > expected 2> /dev/null
	run -0 --separate-stderr ff-train-set -q -s store.db -f small.spec -b bp2 -o ts.csv small.csv
	no_output
	[ -z "$stderr" ]
	diff -u expected ts.csv
}

@test "--strict: leakage fails and writes neither the training set nor the blueprint" {
	run -1 --separate-stderr ff-train-set --strict -s store.db -f small.spec -b bp -o ts.csv small.csv
	no_output
	leak_message "ff-train-set:" 1 4 "$stderr"
	[ ! -e ts.csv ] && [ ! -e bp ]
	# Old files stay as they were.
	echo old > ts.csv
	echo old > bp
	run -1 ff-train-set --strict -s store.db -f small.spec -b bp -o ts.csv small.csv
	echo old | same ts.csv
	echo old | same bp
	# Without the leaky row 2, --strict succeeds quietly.
	grep -v '^2,' small.csv > clean.csv
	run -0 --separate-stderr ff-train-set --strict -s store.db -f small.spec -b bp -o ts.csv clean.csv
	[ -z "$stderr" ]
	same ts.csv <<'EOF'
id,when,zip,dist,fare,n,mean
1,2018-01-01 10:15:00,10001,1.5,12,2,15
3,2018-01-01 10:50:00,10001,0.5,,1,6
4,2018-01-01 09:00:00,10003,3,20,,
EOF
	grep -Fx 'leakage zone 0' bp
	grep -Fx 'rows 3' bp
}

@test "hashes: a rerun gives the same bytes; CSV and binary hash alike; other input, other hash" {
	ff-train-set -q -s store.db -f small.spec -b bp1 -o ts1.csv small.csv
	ff-train-set -q -s store.db -f small.spec -b bp2 -o ts2.csv small.csv
	cmp ts1.csv ts2.csv
	# The blueprint holds no time: the same inputs, the same bytes.
	cmp bp1 bp2
	diff -u <(hashes bp1) <(hashes bp2)
	[ "$(hashes bp1 | wc -l)" -eq 2 ]
	ff-train-set -q -s store.db -f small.spec -b bp3 -o ts3.bin --format bin small.csv
	run -1 cmp -s ts1.csv ts3.bin
	diff -u <(hashes bp1) <(hashes bp3)
	cmp bp1 bp3
	if command -v ff-cat > /dev/null; then
		ff-cat ts3.bin | same ts1.csv
		# Binary input: the same records, the same hashes.
		ff-cat --format bin small.csv | ff-train-set -q -s store.db -f small.spec -b bp4 -o ts4.csv
		cmp ts1.csv ts4.csv
		diff -u <(hashes bp1) <(hashes bp4)
	fi
	# One byte of one base column changed: both hashes change.
	sed 's/^1,2018/9,2018/' small.csv > other.csv
	ff-train-set -q -s store.db -f small.spec -b bp5 -o ts5.csv other.csv
	[ "$(grep '^input-hash ' bp1)" != "$(grep '^input-hash ' bp5)" ]
	[ "$(grep '^training-set-hash ' bp1)" != "$(grep '^training-set-hash ' bp5)" ]
}

@test "a header-only input: a header-only training set, a blueprint of no rows" {
	head -1 small.csv > header.csv
	run -0 --separate-stderr ff-train-set -s store.db -f small.spec -b bp -o ts.csv header.csv
	no_output
	[ -z "$stderr" ]
	echo 'id,when,zip,dist,fare,n,mean' | same ts.csv
	same <(grep -E '^(column|rows|misses|leakage) ' bp) <<'EOF'
column id text
column when text
column zip text
column dist text
column fare text
column n integer
column mean real
rows 0
misses zone 0
leakage zone 0
EOF
	[ "$(grep -cE '^(mean|key-mean|label-mean) ' bp)" -eq 0 ]
	grep -E '^vector n integer$' bp
	grep -E '^vector mean real$' bp
}

@test "the vector: a code with a leading zero is text; a feature as input or label is not repeated" {
	sed 's/^inputs .*/inputs dist,zip,mean/' small.spec > inputs.spec
	run -0 ff-train-set -q -s store.db -f inputs.spec -b bp -o ts.csv small.csv
	# zip holds 10001, 10002, 10003: integers; mean is an input, so once.
	same <(grep '^vector ' bp) <<'EOF'
vector dist real
vector zip integer
vector mean real
vector n integer
EOF
	sed 's/,10003,/,07030,/' small.csv > codes.csv
	run -0 ff-train-set -q -s store.db -f inputs.spec -b bp -o ts.csv codes.csv
	same <(grep '^vector ' bp) <<'EOF'
vector dist real
vector zip text
vector mean real
vector n integer
EOF
	# The label n is a feature: the model does not get it as an input.
	sed 's/^label .*/label n/' small.spec > label.spec
	run -0 ff-train-set -q -s store.db -f label.spec -b bp -o ts.csv small.csv
	same <(grep -E '^(label|vector|label-mean) ' bp) <<'EOF'
label n
vector dist real
vector mean real
label-mean 1.6666666666666667 3
EOF
}

# ---- errors --------------------------------------------------------------

@test "a bad label value fails naming file and line; nothing written" {
	printf '%s\n' 'id,when,zip,dist,fare' '1,2018-01-01 10:15:00,10001,1.5,12' \
		'2,2018-01-01 10:20:00,10002,2,twelve' > bad.csv
	run -1 --separate-stderr ff-train-set -s store.db -f small.spec -b bp -o ts.csv bad.csv
	no_output
	[[ "$stderr" == "ff-train-set: bad.csv:3: label 'fare': "* && "$stderr" != *$'\n'* ]]
	[ ! -e ts.csv ] && [ ! -e bp ]
	run -1 --separate-stderr ff-train-set -s store.db -f small.spec -b bp -o ts.csv - < bad.csv
	[[ "$stderr" == "ff-train-set: stdin:3: label 'fare': "* && "$stderr" != *$'\n'* ]]
}

@test "the label: missing from the spec, not a column, or a model input" {
	grep -v '^label' small.spec > nolabel.spec
	run -1 --separate-stderr ff-train-set -s store.db -f nolabel.spec -b bp -o ts.csv small.csv
	no_output
	stderr_is "ff-train-set: nolabel.spec: a training set needs a label (label COLUMN)"
	[ ! -e ts.csv ] && [ ! -e bp ]
	sed 's/^label .*/label price/' small.spec > price.spec
	run -1 --separate-stderr ff-train-set -s store.db -f price.spec -b bp -o ts.csv small.csv
	stderr_is "ff-train-set: price.spec: no label column 'price' in the training set"
	[ ! -e ts.csv ] && [ ! -e bp ]
	sed 's/^inputs .*/inputs dist,fare/' small.spec > input.spec
	run -1 --separate-stderr ff-train-set -s store.db -f input.spec -b bp -o ts.csv small.csv
	stderr_is "ff-train-set: input.spec: the label fare cannot be an input"
	[ ! -e ts.csv ] && [ ! -e bp ]
}

@test "the blueprint cannot be written: no training set either" {
	run -1 --separate-stderr ff-train-set -q -s store.db -f small.spec -b no/such/dir/bp \
		-o ts.csv small.csv
	[[ "$stderr" == "ff-train-set: no/such/dir/bp"* ]]
	[ ! -e ts.csv ]
}

@test "usage errors exit 2 with nothing on stdout" {
	run -2 --separate-stderr ff-train-set -s store.db -f small.spec small.csv
	no_output
	stderr_is "ff-train-set: no blueprint file: give -b BLUEPRINT
Try 'ff-train-set --help' for more information."
	run -2 --separate-stderr ff-train-set -s store.db -b bp small.csv
	no_output
	stderr_is "ff-train-set: no training-set spec: give -f SPEC
Try 'ff-train-set --help' for more information."
	run -2 --separate-stderr ff-train-set -f small.spec -b bp small.csv
	no_output
	stderr_is "ff-train-set: no store: give -s STORE
Try 'ff-train-set --help' for more information."
	run -2 --separate-stderr ff-train-set -s store.db -f small.spec -b same -o same small.csv
	no_output
	stderr_is "ff-train-set: the training set and the blueprint need two files
Try 'ff-train-set --help' for more information."
	run -2 --separate-stderr ff-train-set -s store.db -f small.spec -b bp --format parquet small.csv
	no_output
	stderr_is "ff-train-set: bad --format 'parquet': use csv or bin
Try 'ff-train-set --help' for more information."
	[ ! -e bp ] && [ ! -e same ]
}

@test "usage errors: the blueprint on stdout, or in the training set's file" {
	run -2 --separate-stderr ff-train-set -s store.db -f small.spec -b - -o ts.csv small.csv
	no_output
	stderr_is "ff-train-set: the blueprint needs a file of its own, not stdout
Try 'ff-train-set --help' for more information."
	[ ! -e ts.csv ]
	# Two names of one existing file.
	echo old > bp
	run -2 --separate-stderr ff-train-set -s store.db -f small.spec -b bp -o ./bp small.csv
	no_output
	stderr_is "ff-train-set: the training set and the blueprint need two files
Try 'ff-train-set --help' for more information."
	echo old | same bp
	# Two names of one file that does not exist yet: the same usage error,
	# and no file left behind.
	run -2 --separate-stderr ff-train-set -s store.db -f small.spec -b new -o ./new small.csv
	no_output
	stderr_is "ff-train-set: the training set and the blueprint need two files
Try 'ff-train-set --help' for more information."
	[ ! -e new ]
	[ "$(ls | grep -v '^store\.db')" = "$(printf 'bp\nsmall.csv\nsmall.spec')" ]
}

@test "--help and --version" {
	run -0 --separate-stderr ff-train-set --help
	[ -z "$stderr" ]
	assert_line --index 0 "usage: ff-train-set -s STORE -f SPEC -b BLUEPRINT [options] [FILE...]"
	for opt in --store --spec --blueprint --output --format --strict --quiet --help --version; do
		assert_output --partial -- "$opt"
	done
	run -0 ff-train-set -V
	assert_output --regexp '^ff-train-set \(ff\) [0-9]+\.[0-9]+\.[0-9]+$'
}

# ---- the taxi training set of the real sample ----------------------------

# taxi: the taxi store as store.db, the training set of the sample as ts.csv
# with its blueprint bp (stderr in err).
taxi() {
	cp "$BATS_FILE_TMPDIR/taxi.db" store.db
	ff-train-set -s store.db -f "$TRAIN_SPEC" -b bp -o ts.csv "$@" \
		"$SHARED_DATA/nyctaxi_sample.csv" 2> err
}

# oracle: compare ts.csv with what sqlite3 computes from the sample and the
# feature tables of store.db.
oracle() {
	sqlite3 -batch :memory: -cmd '.mode csv' -cmd ".import $SHARED_DATA/nyctaxi_sample.csv trips" \
		-cmd '.import ts.csv ts' -cmd '.mode list' < "$FIXTURES/oracle.sql"
}

@test "real sample: header, rows in input order, base columns as they were, features as the oracle" {
	need_sample
	taxi
	[ "$(head -1 ts.csv)" = "$HEADER" ]
	[ "$(wc -l < ts.csv)" -eq 120001 ]
	# The sample has no quoted fields: the first 6 columns are the input.
	cut -d, -f1-6 ts.csv | cmp - "$SHARED_DATA/nyctaxi_sample.csv"
	[ "$(awk -F, 'NF != 10' ts.csv | wc -l)" -eq 0 ]
	run -0 oracle
	[ "${lines[0]}" = "rows|120000|120000" ]
	[ "${lines[1]}" = "differ|0|0|0|0" ]
	[ "${lines[2]}" = "misses|0|0" ]
	# ff-join with the same spec writes the same rows.
	ff-join -s store.db -f "$TRAIN_SPEC" "$SHARED_DATA/nyctaxi_sample.csv" | cmp - ts.csv
}

@test "real sample: the blueprint's spec, vector, means and counts; the leakage warning" {
	need_sample
	taxi
	run -0 oracle
	local leakage=${lines[3]}
	[[ "$leakage" =~ ^leakage\|([0-9]+)\|([0-9]+)\|([0-9]+)$ ]]
	local leak_p=${BASH_REMATCH[1]} leak_d=${BASH_REMATCH[2]} leak_rows=${BASH_REMATCH[3]}
	[ "$leak_rows" -gt 100000 ]
	printf '%s\n' "${lines[@]:4}" > oracle_means
	# The warning, with the oracle's count of rows whose feature window ends
	# after the trip's own time.
	leak_message "ff-train-set: warning:" "$leak_rows" 120000 "$(cat err)"
	grep -E '^(derive|lookup|table-version|key|timestamp|features|label|exclude|inputs) ' bp |
		same - <<'EOF'
derive rounded_pickup_datetime=ceil(tpep_pickup_datetime, 15m)
derive rounded_dropoff_datetime=ceil(tpep_dropoff_datetime, 30m)
lookup trip_pickup_features
table-version 1
key pickup_zip
timestamp rounded_pickup_datetime
features mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip
lookup trip_dropoff_features
table-version 1
key dropoff_zip
timestamp rounded_dropoff_datetime
features count_trips_window_30m_dropoff_zip,dropoff_is_weekend
label fare_amount
exclude rounded_pickup_datetime,rounded_dropoff_datetime
inputs trip_distance,pickup_zip,dropoff_zip
EOF
	[ "$(q store.db "SELECT group_concat(version) FROM ff_catalog
		WHERE name IN ('trip_pickup_features', 'trip_dropoff_features')")" = 1,1 ]
	same <(grep '^vector ' bp) <<'EOF'
vector trip_distance real
vector pickup_zip integer
vector dropoff_zip integer
vector mean_fare_window_1h_pickup_zip real
vector count_trips_window_1h_pickup_zip integer
vector count_trips_window_30m_dropoff_zip integer
vector dropoff_is_weekend integer
EOF
	same <(grep -E '^(rows|misses|leakage) ' bp) <<EOF
rows 120000
misses trip_pickup_features 0
leakage trip_pickup_features $leak_p
misses trip_dropoff_features 0
leakage trip_dropoff_features $leak_d
EOF
	# The means: the same features in the same order, the same counts, the
	# values within 1e-9 relative.
	grep '^mean ' bp > bp_means
	[ "$(cut -d' ' -f2 bp_means)" = "$(cut -d' ' -f2 oracle_means)" ]
	[ "$(cut -d' ' -f4 bp_means)" = "$(cut -d' ' -f4 oracle_means)" ]
	paste -d' ' bp_means oracle_means | awk '
		{ d = $3 - $7; if (d < 0) d = -d; r = $7 < 0 ? -$7 : $7
		  if (d > 1e-9 * r) { print "mean " $2 ": " $3 " vs " $7; bad = 1 } }
		END { exit bad }'
	[ "$(wc -l < bp_means)" -eq 4 ]
	# And the label's mean.
	label=$(sqlite3 -batch :memory: -cmd '.mode csv' \
		-cmd ".import $SHARED_DATA/nyctaxi_sample.csv trips" -cmd '.mode list' \
		"SELECT printf('%.17g %d', avg(CAST(fare_amount AS REAL)), count(*)) FROM trips")
	[ "$(grep -c '^label-mean ' bp)" -eq 1 ]
	grep '^label-mean ' bp | awk -v want="$label" '
		{ split(want, w, " "); d = $2 - w[1]; if (d < 0) d = -d
		  if (d > 1e-9 * w[1] || $3 != w[2]) { print $0 " vs " want; exit 1 } }'
}

@test "real sample: --strict fails and writes neither the training set nor the blueprint" {
	need_sample
	run -1 taxi --strict
	[ ! -e ts.csv ] && [ ! -e bp ]
	[[ "$(cat err)" =~ ^"ff-train-set: "([0-9]+)" of 120000 rows " ]]
	leak_message "ff-train-set:" "${BASH_REMATCH[1]}" 120000 "$(cat err)"
}

@test "real sample: a rerun gives the same bytes and hashes; CSV and binary hash alike" {
	need_sample
	taxi
	mv ts.csv ts1.csv
	mv bp bp1
	taxi
	cmp ts1.csv ts.csv
	cmp bp1 bp
	diff -u <(hashes bp1) <(hashes bp)
	[ "$(hashes bp | wc -l)" -eq 2 ]
	ff-train-set -q -s store.db -f "$TRAIN_SPEC" -b bp_bin -o ts.bin --format bin \
		"$SHARED_DATA/nyctaxi_sample.csv"
	diff -u <(hashes bp) <(hashes bp_bin)
	if command -v ff-cat > /dev/null; then
		ff-cat ts.bin | cmp - ts.csv
	fi
}

# A derive's step overflowed (1000000000d) and rounded every time to 1970:
# durations are at most 100 years (36525d).
@test "a derive step over 100 years is refused with the spec's line" {
	local d
	for d in 36526d 1000000000d 9223372036854775807s; do
		sed "s/15m)/$d)/" small.spec > big.spec
		run -1 --separate-stderr ff-train-set -s store.db -f big.spec -b bp -o out.csv small.csv
		[ "$stderr" = "ff-train-set: big.spec:1: '$d' is not a duration such as 15m or 1h" ] || fail "$stderr"
		[ ! -e out.csv ] && [ ! -e bp ]
	done
	sed "s/15m)/36525d)/" small.spec > big.spec
	run -0 ff-train-set -q -s store.db -f big.spec -b bp -o out.csv small.csv
}

@test "the vector: one value that is not a number is bad input, not a text column" {
	# dist holds 1.5, 2, n/a, 3: most values are numbers.
	sed 's/,0\.5,/,n\/a,/' small.csv > bad.csv
	run -1 --separate-stderr ff-train-set -q -s store.db -f small.spec -b bp -o ts.csv bad.csv
	[ "$stderr" = "ff-train-set: bad.csv:4: column 'dist': not a number 'n/a' (1 of its 4 values are not numbers; a column is text only when most are)" ]
	[ ! -e bp ] && [ ! -e ts.csv ]
	# Text throughout, or half text at least (codes some of which look like
	# numbers): a text column.
	sed -e 's/,1\.5,/,a,/' -e 's/,2,/,b,/' small.csv > codes.csv
	run -0 ff-train-set -q -s store.db -f small.spec -b bp -o ts.csv codes.csv
	grep -x 'vector dist text' bp
	# Empty values do not count.
	sed 's/,0\.5,/,,/' small.csv > empty.csv
	run -0 ff-train-set -q -s store.db -f small.spec -b bp -o ts.csv empty.csv
	grep -x 'vector dist real' bp
}
