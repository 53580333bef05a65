#!/usr/bin/env bats
# ff-join: point-in-time lookups of feature tables for a record stream.
# Expected outputs are worked out by hand from ff-semantics(7)
# ("Training set": the latest feature row at or before the row's time).

load test_helper/common
bats_require_minimum_version 1.5.0

FIXTURES=$BATS_TEST_DIRNAME/fixtures/join

# One store for the whole file, made by ff-compute from fixtures/join/events.csv:
#
# zone: key zip, timestamp t_end, 15 min tumbling windows, partition yyyy_mm
#   zip    t_end                n  total  mean
#   10001  2018-01-01 10:15:00  2  30     15      (fares 10, 20)
#   10002  2018-01-01 10:30:00  2  15     7.5     (fares 7, 8)
#   10001  2018-01-01 10:45:00  1  6      6       (fare 6)
#   10001  2018-01-01 11:30:00  1  NULL   NULL    (an empty fare)
#
# pair: keys zip,vendor, timestamp t_end, 1 h tumbling windows
#   10001,v1 11:00 -> 2   10001,v2 11:00 -> 1   10002,v1 11:00 -> 2   10001,v1 12:00 -> 1
setup_file() {
	local store="$BATS_FILE_TMPDIR/store.db" events="$FIXTURES/events.csv"
	ff-compute -q -s "$store" --table zone --time time --key zip --timestamp-key t_end \
		--window 15m --feature 'n=count(*)' --feature 'total=sum(fare)' \
		--feature 'mean=mean(fare)' --lateness unbounded "$events"
	ff-compute -q -s "$store" --table pair --time time --key zip --key vendor \
		--timestamp-key t_end --window 1h --partition none --feature 'n=count(*)' \
		--lateness unbounded "$events"
}

setup() {
	common_setup
	STORE="$BATS_FILE_TMPDIR/store.db"
	cp "$STORE" store.db
}

# put NAME: write stdin to NAME.
put() { cat > "$1"; }

# same FILE: FILE holds exactly what stdin holds (the expected text).
same() { diff -u - "$1"; }

# stderr_is TEXT: the last `run --separate-stderr` wrote exactly TEXT (and a
# newline) to stderr.
stderr_is() {
	diff -u <(printf '%s\n' "$1") <(printf '%s\n' "$stderr")
}

# no_output: the last run wrote nothing to stdout.
no_output() {
	[ -z "$output" ] || { printf 'unexpected stdout:\n%s\n' "$output" >&2; return 1; }
}

need_ff_cat() {
	command -v ff-cat > /dev/null || skip "no ff-cat in $FF_BIN"
}

# zone lookup by zip as of column `when`.
ZONE=(-s store.db --lookup zone --key zip --timestamp when)

# ---- the as-of rule ----------------------------------------------------

@test "as of: the latest row at or before the time, inclusive; none before is empty" {
	put in.csv <<'EOF'
id,when,zip
1,2018-01-01 10:14:59,10001
2,2018-01-01 10:15:00,10001
3,2018-01-01 10:44:59,10001
4,2018-01-01 10:45:00,10001
5,2018-01-01 11:29:59,10001
6,2018-01-01 11:30:00,10001
7,2018-02-01 00:00:00,10001
8,2018-01-01 10:29:59,10002
9,2018-01-01 10:30:00,10002
EOF
	run -0 --separate-stderr ff-join "${ZONE[@]}" in.csv
	# 1 and 8 come before the key's first row; 2, 4, 6 and 9 sit exactly on a
	# row's time and get that row; 6 and 7 get the 11:30 row, whose sum and
	# mean are NULL (its only fare was empty). yyyy_mm is a partition column,
	# not a feature.
	assert_output - <<'EOF'
id,when,zip,n,total,mean
1,2018-01-01 10:14:59,10001,,,
2,2018-01-01 10:15:00,10001,2,30,15
3,2018-01-01 10:44:59,10001,2,30,15
4,2018-01-01 10:45:00,10001,1,6,6
5,2018-01-01 11:29:59,10001,1,6,6
6,2018-01-01 11:30:00,10001,1,,
7,2018-02-01 00:00:00,10001,1,,
8,2018-01-01 10:29:59,10002,,,
9,2018-01-01 10:30:00,10002,2,15,7.5
EOF
	[ -z "$stderr" ]
}

@test "as of: fractions of a second, T separator and UTC offsets" {
	put in.csv <<'EOF'
id,when,zip
a,2018-01-01T05:15:00-05:00,10001
b,2018-01-01 10:14:59.999999,10001
c,2018-01-01 10:15:00.000001Z,10001
d,2018-01-01 11:44:59+01:00,10001
e,2018-01-01T10:45:00+0000,10001
f,2018-01-01 05:44:59.999999-0500,10001
g,2018-01-01T10:30:00Z,10002
EOF
	run -0 ff-join "${ZONE[@]}" in.csv
	# a = 10:15 UTC; b a microsecond before it; c a microsecond after;
	# d = 10:44:59 UTC; e = 10:45 UTC; f a microsecond before 10:45 UTC.
	assert_output - <<'EOF'
id,when,zip,n,total,mean
a,2018-01-01T05:15:00-05:00,10001,2,30,15
b,2018-01-01 10:14:59.999999,10001,,,
c,2018-01-01 10:15:00.000001Z,10001,2,30,15
d,2018-01-01 11:44:59+01:00,10001,2,30,15
e,2018-01-01T10:45:00+0000,10001,1,6,6
f,2018-01-01 05:44:59.999999-0500,10001,2,30,15
g,2018-01-01T10:30:00Z,10002,2,15,7.5
EOF
}

@test "--lookback: a match older than the time minus the lookback is a miss, at the limit a match" {
	put in.csv <<'EOF'
id,when,zip
1,2018-01-01 10:44:59,10001
2,2018-01-01 10:45:00,10001
3,2018-01-01 11:15:00,10001
4,2018-01-01 11:15:00.000001,10001
5,2018-01-01 11:15:01,10001
6,2018-01-01 11:30:00,10001
7,2018-01-01 10:14:00,10001
8,2018-01-01 11:00:00,10002
9,2018-01-01 11:00:01,10002
EOF
	run -0 ff-join "${ZONE[@]}" --lookback 30m in.csv
	# 1: the 10:15 row is 29:59 old. 3: the 10:45 row is exactly 30 min old.
	# 4, 5: a microsecond, a second too old. 8: 10002's 10:30 row exactly
	# 30 min old; 9: a second too old.
	assert_output - <<'EOF'
id,when,zip,n,total,mean
1,2018-01-01 10:44:59,10001,2,30,15
2,2018-01-01 10:45:00,10001,1,6,6
3,2018-01-01 11:15:00,10001,1,6,6
4,2018-01-01 11:15:00.000001,10001,,,
5,2018-01-01 11:15:01,10001,,,
6,2018-01-01 11:30:00,10001,1,,
7,2018-01-01 10:14:00,10001,,,
8,2018-01-01 11:00:00,10002,2,15,7.5
9,2018-01-01 11:00:01,10002,,,
EOF
	# A longer lookback keeps 4, 5 and 9; 1h30m is 5400 s.
	run -0 ff-join "${ZONE[@]}" --lookback 1h30m in.csv
	assert_output - <<'EOF'
id,when,zip,n,total,mean
1,2018-01-01 10:44:59,10001,2,30,15
2,2018-01-01 10:45:00,10001,1,6,6
3,2018-01-01 11:15:00,10001,1,6,6
4,2018-01-01 11:15:00.000001,10001,1,6,6
5,2018-01-01 11:15:01,10001,1,6,6
6,2018-01-01 11:30:00,10001,1,,
7,2018-01-01 10:14:00,10001,,,
8,2018-01-01 11:00:00,10002,2,15,7.5
9,2018-01-01 11:00:01,10002,2,15,7.5
EOF
}

@test "--exact: only a row at exactly the time" {
	put in.csv <<'EOF'
id,when,zip
1,2018-01-01 10:15:00,10001
2,2018-01-01 10:15:00.000001,10001
3,2018-01-01 10:44:00,10001
4,2018-01-01T05:45:00-05:00,10001
5,2018-01-01 09:00:00,10001
6,2018-01-01 10:30:00,10002
7,2018-01-01 10:30:00,99999
EOF
	run -0 ff-join "${ZONE[@]}" --exact in.csv
	assert_output - <<'EOF'
id,when,zip,n,total,mean
1,2018-01-01 10:15:00,10001,2,30,15
2,2018-01-01 10:15:00.000001,10001,,,
3,2018-01-01 10:44:00,10001,,,
4,2018-01-01T05:45:00-05:00,10001,1,6,6
5,2018-01-01 09:00:00,10001,,,
6,2018-01-01 10:30:00,10002,2,15,7.5
7,2018-01-01 10:30:00,99999,,,
EOF
}

@test "no --timestamp: the key's latest row, whatever the input's times" {
	# No time column at all: none is needed.
	put in.csv <<'EOF'
id,zip
1,10002
2,10001
3,99999
EOF
	run -0 ff-join -s store.db --lookup zone --key zip in.csv
	assert_output - <<'EOF'
id,zip,n,total,mean
1,10002,2,15,7.5
2,10001,1,,
3,99999,,,
EOF
}

# ---- keys, defaults, names ---------------------------------------------

@test "keys match bytewise: unseen keys are empty, a quoted key is its text" {
	put in.csv <<'EOF'
id,when,zip
1,2018-01-01 11:00:00,99999
2,2018-01-01 11:00:00, 10001
3,2018-01-01 11:00:00,10001 
4,2018-01-01 11:00:00,010001
5,2018-01-01 11:00:00,10001.0
6,2018-01-01 11:00:00,
7,2018-01-01 11:00:00,""
8,2018-01-01 11:00:00,"10001"
9,2018-01-01 11:00:00,10001
EOF
	run -0 ff-join "${ZONE[@]}" in.csv
	assert_output - <<'EOF'
id,when,zip,n,total,mean
1,2018-01-01 11:00:00,99999,,,
2,2018-01-01 11:00:00, 10001,,,
3,2018-01-01 11:00:00,10001 ,,,
4,2018-01-01 11:00:00,010001,,,
5,2018-01-01 11:00:00,10001.0,,,
6,2018-01-01 11:00:00,,,,
7,2018-01-01 11:00:00,"",,,
8,2018-01-01 11:00:00,10001,1,6,6
9,2018-01-01 11:00:00,10001,1,6,6
EOF
}

@test "--default: values when nothing matches, not for a matched NULL" {
	put in.csv <<'EOF'
id,when,zip
1,2018-01-01 10:00:00,10001
2,2018-01-01 10:15:00,10001
3,2018-01-01 11:30:00,10001
4,2018-01-01 11:30:00,99999
5,2018-01-01 11:30:00,
EOF
	run -0 ff-join "${ZONE[@]}" --default n=0 --default mean=-1.5 in.csv
	# Row 3 matches the 11:30 row, whose total and mean are NULL: they stay
	# empty. total has no default: empty on a miss.
	assert_output - <<'EOF'
id,when,zip,n,total,mean
1,2018-01-01 10:00:00,10001,0,,-1.5
2,2018-01-01 10:15:00,10001,2,30,15
3,2018-01-01 11:30:00,10001,1,,
4,2018-01-01 11:30:00,99999,0,,-1.5
5,2018-01-01 11:30:00,,0,,-1.5
EOF
}

@test "--default: a value of the wrong type or an unknown feature is an error" {
	printf 'id,when,zip\n1,2018-01-01 10:00:00,10001\n' > in.csv
	run -1 --separate-stderr ff-join "${ZONE[@]}" --default n=many in.csv
	no_output
	# One line naming the lookup and the default (the wording is free).
	[[ "$stderr" == "ff-join: command line: lookup zone: default n=many"* ]]
	[[ "$stderr" != *$'\n'* ]]
	run -1 --separate-stderr ff-join "${ZONE[@]}" --features n --default mean=0 in.csv
	no_output
	stderr_is "ff-join: command line: lookup zone: default mean: no such feature looked up"
}

@test "--features: a subset in the order given; --rename: output names" {
	put in.csv <<'EOF'
id,when,zip
1,2018-01-01 10:20:00,10001
2,2018-01-01 10:50:00,10002
3,2018-01-01 10:00:00,10002
EOF
	run -0 ff-join "${ZONE[@]}" --features mean,n in.csv
	assert_output - <<'EOF'
id,when,zip,mean,n
1,2018-01-01 10:20:00,10001,15,2
2,2018-01-01 10:50:00,10002,7.5,2
3,2018-01-01 10:00:00,10002,,
EOF
	run -0 ff-join "${ZONE[@]}" --features 'total, n' --rename n=trips --rename total=fares in.csv
	assert_output - <<'EOF'
id,when,zip,fares,trips
1,2018-01-01 10:20:00,10001,30,2
2,2018-01-01 10:50:00,10002,15,2
3,2018-01-01 10:00:00,10002,,
EOF
	# Renaming a feature that is not looked up, or to a bad name, is an error.
	run -1 --separate-stderr ff-join "${ZONE[@]}" --features n --rename mean=m in.csv
	no_output
	stderr_is "ff-join: command line: lookup zone: rename mean: no such feature looked up"
	run -2 --separate-stderr ff-join "${ZONE[@]}" --rename n=2x in.csv
	no_output
	stderr_is "ff-join: option --rename: rename: '2x' is not a column name
Try 'ff-join --help' for more information."
}

@test "a feature named like an input column must be renamed" {
	printf 'id,when,zip,n\n1,2018-01-01 10:20:00,10001,x\n' > in.csv
	run -1 --separate-stderr ff-join "${ZONE[@]}" --features n in.csv
	no_output
	stderr_is "ff-join: command line: the output would have two columns named n: rename the feature"
	run -0 ff-join "${ZONE[@]}" --features n --rename n=zone_n in.csv
	assert_output - <<'EOF'
id,when,zip,n,zone_n
1,2018-01-01 10:20:00,10001,x,2
EOF
}

@test "several lookups on one table: by pickup and by dropoff zip, with renames" {
	put trips.csv <<'EOF'
id,pu_time,do_time,pu,do
1,2018-01-01 10:20:00,2018-01-01 10:31:00,10001,10002
2,2018-01-01 10:50:00,2018-01-01 11:40:00,10002,10001
3,2018-01-01 10:00:00,2018-01-01 10:29:00,10001,10002
4,2018-01-01 10:45:00,2018-01-01 10:45:00,10001,10001
EOF
	run -0 ff-join -s store.db \
		--lookup zone --key pu --timestamp pu_time --features n,mean \
		--rename n=pu_n --rename mean=pu_mean \
		--lookup zone --key do --timestamp do_time --features n,mean \
		--rename n=do_n --rename mean=do_mean trips.csv
	assert_output - <<'EOF'
id,pu_time,do_time,pu,do,pu_n,pu_mean,do_n,do_mean
1,2018-01-01 10:20:00,2018-01-01 10:31:00,10001,10002,2,15,2,7.5
2,2018-01-01 10:50:00,2018-01-01 11:40:00,10002,10001,2,7.5,1,
3,2018-01-01 10:00:00,2018-01-01 10:29:00,10001,10002,,,,
4,2018-01-01 10:45:00,2018-01-01 10:45:00,10001,10001,1,6,1,6
EOF
	# Without renames the two lookups give the same column names.
	run -1 --separate-stderr ff-join -s store.db \
		--lookup zone --key pu --timestamp pu_time --features n \
		--lookup zone --key do --timestamp do_time --features n trips.csv
	no_output
	stderr_is "ff-join: command line: two lookups give a column named n: rename one"
}

@test "options after --lookup belong to that lookup only" {
	put trips.csv <<'EOF'
id,pu_time,do_time,pu,do
1,2018-01-01 10:20:00,2018-01-01 11:59:00,10001,10001
2,2018-01-01 10:50:00,2018-01-01 10:40:00,10002,99999
EOF
	# The first lookup has a 10 min lookback and a default; the second has
	# neither: its 11:30 row, 29 min old, still matches, its miss is empty.
	run -0 ff-join -s store.db \
		--lookup zone --key pu --timestamp pu_time --features n --rename n=pu_n \
		--lookback 10m --default n=-1 \
		--lookup zone --key do --timestamp do_time --features n --rename n=do_n trips.csv
	assert_output - <<'EOF'
id,pu_time,do_time,pu,do,pu_n,do_n
1,2018-01-01 10:20:00,2018-01-01 11:59:00,10001,10001,2,1
2,2018-01-01 10:50:00,2018-01-01 10:40:00,10002,99999,-1,
EOF
}

@test "a table with two keys: --key gives the input columns in the table's key order" {
	put in.csv <<'EOF'
id,when,zip,vendor
1,2018-01-01 11:00:00,10001,v1
2,2018-01-01 11:59:59,10001,v2
3,2018-01-01 12:00:00,10001,v1
4,2018-01-01 12:00:00,10002,v2
5,2018-01-01 10:59:59,10002,v1
6,2018-01-01 11:00:00,10002,v1
EOF
	run -0 ff-join -s store.db --lookup pair --key zip,vendor --timestamp when in.csv
	assert_output - <<'EOF'
id,when,zip,vendor,n
1,2018-01-01 11:00:00,10001,v1,2
2,2018-01-01 11:59:59,10001,v2,1
3,2018-01-01 12:00:00,10001,v1,1
4,2018-01-01 12:00:00,10002,v2,
5,2018-01-01 10:59:59,10002,v1,
6,2018-01-01 11:00:00,10002,v1,2
EOF
	# The other order looks up (v1, 10001) and so on: nothing matches.
	run -0 ff-join -s store.db --lookup pair --key vendor,zip --timestamp when in.csv
	assert_output - <<'EOF'
id,when,zip,vendor,n
1,2018-01-01 11:00:00,10001,v1,
2,2018-01-01 11:59:59,10001,v2,
3,2018-01-01 12:00:00,10001,v1,
4,2018-01-01 12:00:00,10002,v2,
5,2018-01-01 10:59:59,10002,v1,
6,2018-01-01 11:00:00,10002,v1,
EOF
}

# ---- rows, columns, order ----------------------------------------------

@test "rows out of time order keep their input order" {
	put in.csv <<'EOF'
id,when,zip
1,2018-02-01 00:00:00,10001
2,2018-01-01 10:30:00,10002
3,2018-01-01 10:14:59,10001
4,2018-01-01 10:45:00,10001
5,2018-01-01 10:29:59,10002
6,2018-01-01 10:15:00,10001
7,2017-12-31 23:59:59,10001
8,2018-01-01 11:30:00,10001
EOF
	run -0 ff-join "${ZONE[@]}" in.csv
	assert_output - <<'EOF'
id,when,zip,n,total,mean
1,2018-02-01 00:00:00,10001,1,,
2,2018-01-01 10:30:00,10002,2,15,7.5
3,2018-01-01 10:14:59,10001,,,
4,2018-01-01 10:45:00,10001,1,6,6
5,2018-01-01 10:29:59,10002,,,
6,2018-01-01 10:15:00,10001,2,30,15
7,2017-12-31 23:59:59,10001,,,
8,2018-01-01 11:30:00,10001,1,,
EOF
}

@test "input columns are kept byte for byte: spaces, quotes, commas, line breaks, odd text" {
	# Fields that need quotes are quoted in the input as a CSV writer does,
	# so each output row is its input row plus the features.
	put in.csv <<'EOF'
id,text,when,zip,note
  lead and trail  ,x,2018-01-01 10:20:00,10001,
"a,b ""q""",y,2018-01-01 10:20:00,10001,""
"multi
line",z,2018-01-01 10:20:00,10001, 
-0,NaN,2018-01-01 10:20:00,10001,Zürich €
it's,'',2018-01-01 10:20:00,10001,back\slash
"""",007,2018-01-01 10:20:00,10001,=1+2
EOF
	printf '"cr\r",1.50e0,2018-01-01 10:20:00,10001,  \n' >> in.csv
	printf '\ttab\t,\x01,2018-01-01 10:20:00,10001,\x7f\n' >> in.csv
	awk 'NR == 1 { print $0 ",n"; next } /^"multi$/ { print; next } { print $0 ",2" }' in.csv \
		> expected
	run -0 ff-join "${ZONE[@]}" --features n -o out.csv in.csv
	diff -u expected out.csv
}

@test "CRLF line ends: keys in the last column still match" {
	printf 'id,when,zip\r\n1,2018-01-01 10:20:00,10001\r\n2,2018-01-01 10:30:00,10002\r\n' > in.csv
	run -0 ff-join "${ZONE[@]}" --features n in.csv
	assert_output - <<'EOF'
id,when,zip,n
1,2018-01-01 10:20:00,10001,2
2,2018-01-01 10:30:00,10002,2
EOF
}

@test "a quoted field that needs no quotes keeps its text" {
	put in.csv <<'EOF'
id,when,zip
"plain",2018-01-01 10:20:00,"10001"
" padded ",2018-01-01 10:20:00,10002
EOF
	run -0 ff-join "${ZONE[@]}" --features n in.csv
	assert_output - <<'EOF'
id,when,zip,n
plain,2018-01-01 10:20:00,10001,2
 padded ,2018-01-01 10:20:00,10002,
EOF
}

# ---- preprocessing and exclusions ---------------------------------------

@test "--derive ceil and floor: a time on the boundary stays" {
	put in.csv <<'EOF'
id,when,zip
1,2018-01-01 10:00:00,10001
2,2018-01-01 10:00:01,10001
3,2018-01-01 10:15:00,10001
4,2018-01-01 10:29:59.5,10001
5,2018-01-01 10:30:00.000001,10001
6,2018-01-01T06:14:00-04:00,10002
7,2018-01-01 10:30:00,10002
EOF
	run -0 ff-join -s store.db --derive 'up=ceil(when, 15m)' --derive 'down=floor(when, 15m)' \
		--lookup zone --key zip --timestamp up --features n,mean in.csv
	# Looked up as of `up`: 1 at 10:00 sees nothing yet; 2, 3, 4 see 10:15;
	# 5 rounds up to 10:45; 6 is 10:14 UTC, up to 10:15, before 10002's row.
	assert_output - <<'EOF'
id,when,zip,up,down,n,mean
1,2018-01-01 10:00:00,10001,2018-01-01 10:00:00,2018-01-01 10:00:00,,
2,2018-01-01 10:00:01,10001,2018-01-01 10:15:00,2018-01-01 10:00:00,2,15
3,2018-01-01 10:15:00,10001,2018-01-01 10:15:00,2018-01-01 10:15:00,2,15
4,2018-01-01 10:29:59.5,10001,2018-01-01 10:30:00,2018-01-01 10:15:00,2,15
5,2018-01-01 10:30:00.000001,10001,2018-01-01 10:45:00,2018-01-01 10:30:00,1,6
6,2018-01-01T06:14:00-04:00,10002,2018-01-01 10:15:00,2018-01-01 10:00:00,,
7,2018-01-01 10:30:00,10002,2018-01-01 10:30:00,2018-01-01 10:30:00,2,7.5
EOF
	# As of `down`, with 30 min steps: 4 -> 10:00, 5 -> 10:30, 7 -> 10:30.
	run -0 ff-join -s store.db --derive 'down=floor(when, 30m)' \
		--lookup zone --key zip --timestamp down --features n in.csv
	assert_output - <<'EOF'
id,when,zip,down,n
1,2018-01-01 10:00:00,10001,2018-01-01 10:00:00,
2,2018-01-01 10:00:01,10001,2018-01-01 10:00:00,
3,2018-01-01 10:15:00,10001,2018-01-01 10:00:00,
4,2018-01-01 10:29:59.5,10001,2018-01-01 10:00:00,
5,2018-01-01 10:30:00.000001,10001,2018-01-01 10:30:00,2
6,2018-01-01T06:14:00-04:00,10002,2018-01-01 10:00:00,
7,2018-01-01 10:30:00,10002,2018-01-01 10:30:00,2
EOF
}

@test "--derive errors: a bad step, a missing source, a name already taken, a bad time" {
	printf 'id,when,zip\n1,2018-01-01 10:00:00,10001\n2,noon,10001\n' > in.csv
	run -2 --separate-stderr ff-join -s store.db --derive 'up=round(when, 15m)' \
		--lookup zone --key zip in.csv
	no_output
	stderr_is "ff-join: option --derive: unknown step 'round' (ceil or floor)
Try 'ff-join --help' for more information."
	run -1 --separate-stderr ff-join -s store.db --derive 'up=ceil(time, 15m)' \
		--lookup zone --key zip --timestamp up in.csv
	no_output
	stderr_is "ff-join: in.csv:1: no column 'time' (source of a derived column)"
	run -1 --separate-stderr ff-join -s store.db --derive 'id=ceil(when, 15m)' \
		--lookup zone --key zip --timestamp id in.csv
	no_output
	stderr_is "ff-join: in.csv:1: derived column 'id' is already a column"
	run -1 --separate-stderr ff-join -s store.db --derive 'up=ceil(when, 15m)' \
		--lookup zone --key zip --timestamp up in.csv
	assert_output "id,when,zip,up,n,total,mean
1,2018-01-01 10:00:00,10001,2018-01-01 10:00:00,,,"
	stderr_is "ff-join: in.csv:3: column 'when': bad timestamp 'noon'"
}

@test "--exclude: input, derived and feature columns leave the output" {
	put in.csv <<'EOF'
id,when,zip
1,2018-01-01 10:05:00,10001
2,2018-01-01 10:20:00,10002
EOF
	run -0 ff-join -s store.db --derive 'up=ceil(when, 15m)' \
		--lookup zone --key zip --timestamp up --exclude when,up --exclude total in.csv
	assert_output - <<'EOF'
id,zip,n,mean
1,10001,2,15
2,10002,2,7.5
EOF
	run -1 --separate-stderr ff-join "${ZONE[@]}" --exclude nope in.csv
	no_output
	stderr_is "ff-join: in.csv:1: no column 'nope' (excluded)"
}

@test "a spec file says what the options say" {
	put in.csv <<'EOF'
id,when,zip
1,2018-01-01 10:05:00,10001
2,2018-01-01 10:20:00,10002
3,2018-01-01 11:29:00,10001
EOF
	put join.spec <<'EOF'
# round up, look up, drop the rounded time
derive   up=ceil(when, 15m)
lookup   zone
key      zip
timestamp up      # as of the rounded time
features mean,n
rename   mean=avg_fare
default  n=0
lookback 45m
exclude  up
EOF
	run -0 ff-join -s store.db -f join.spec in.csv
	# 3: up = 11:30, the 11:30 row (NULL mean).
	assert_output - <<'EOF'
id,when,zip,avg_fare,n
1,2018-01-01 10:05:00,10001,15,2
2,2018-01-01 10:20:00,10002,7.5,2
3,2018-01-01 11:29:00,10001,,1
EOF
	ff-join -s store.db --derive 'up=ceil(when, 15m)' --lookup zone --key zip --timestamp up \
		--features mean,n --rename mean=avg_fare --default n=0 --lookback 45m --exclude up \
		in.csv > options.csv
	echo "$output" | same options.csv
	# An error in a spec names its file and line.
	printf 'lookup zone\nkey zip\nlookbak 1h\n' > bad.spec
	run -1 --separate-stderr ff-join -s store.db -f bad.spec in.csv
	no_output
	stderr_is "ff-join: bad.spec:3: unknown directive 'lookbak'"
}

# ---- inputs and outputs ------------------------------------------------

@test "inputs: stdin, '-', several files, one header" {
	put a.csv <<'EOF'
id,when,zip
1,2018-01-01 10:15:00,10001
2,2018-01-01 10:00:00,10002
EOF
	put b.csv <<'EOF'
id,when,zip
3,2018-01-01 10:45:00,10001
4,2018-01-01 10:30:00,10002
EOF
	put expected <<'EOF'
id,when,zip,n
1,2018-01-01 10:15:00,10001,2
2,2018-01-01 10:00:00,10002,
3,2018-01-01 10:45:00,10001,1
4,2018-01-01 10:30:00,10002,2
EOF
	ff-join "${ZONE[@]}" --features n a.csv b.csv > out1
	same out1 < expected
	ff-join "${ZONE[@]}" --features n a.csv - < b.csv > out2
	same out2 < expected
	ff-join "${ZONE[@]}" --features n - b.csv < a.csv > out3
	same out3 < expected
	cat a.csv | ff-join "${ZONE[@]}" --features n > out4
	head -3 expected | same out4
	ff-join "${ZONE[@]}" --features n - < a.csv > out5
	head -3 expected | same out5
	# -o writes the same to a file.
	run -0 ff-join "${ZONE[@]}" --features n -o out6 a.csv b.csv
	no_output
	same out6 < expected
}

@test "inputs: a header alone gives a header; the inputs must have the same columns" {
	printf 'id,when,zip\n' > empty.csv
	run -0 ff-join "${ZONE[@]}" empty.csv
	assert_output "id,when,zip,n,total,mean"
	printf 'id,zip,when\n1,10001,2018-01-01 10:15:00\n' > other.csv
	printf 'id,when,zip\n1,2018-01-01 10:15:00,10001\n' > a.csv
	run -1 --separate-stderr ff-join "${ZONE[@]}" --features n a.csv other.csv
	stderr_is "ff-join: other.csv:1: the columns differ from those of the first input"
	run -1 --separate-stderr ff-join "${ZONE[@]}" --features n a.csv - < other.csv
	stderr_is "ff-join: stdin:1: the columns differ from those of the first input"
	: > nothing.csv
	run -1 --separate-stderr ff-join "${ZONE[@]}" nothing.csv
	no_output
	stderr_is "ff-join: nothing.csv: empty input: a header line is required"
}

@test "--format bin: ff-cat reads back the CSV output, and ff-join reads binary input" {
	need_ff_cat
	put in.csv <<'EOF'
id,when,zip
1,2018-01-01 10:00:01,10001
"a,""b""",2018-01-01 10:30:00.5,10002
3,2018-01-01 11:44:00,10001
,2018-01-01 09:00:00,10001
EOF
	args=(-s store.db --derive 'up=ceil(when, 15m)' --lookup zone --key zip --timestamp up)
	ff-join "${args[@]}" in.csv > out.csv
	same out.csv <<'EOF'
id,when,zip,up,n,total,mean
1,2018-01-01 10:00:01,10001,2018-01-01 10:15:00,2,30,15
"a,""b""",2018-01-01 10:30:00.5,10002,2018-01-01 10:45:00,2,15,7.5
3,2018-01-01 11:44:00,10001,2018-01-01 11:45:00,1,,
,2018-01-01 09:00:00,10001,2018-01-01 09:00:00,,,
EOF
	ff-join "${args[@]}" --format bin in.csv > out.bin
	run -1 cmp -s out.bin out.csv
	ff-cat out.bin > back.csv
	diff -u out.csv back.csv
	ff-join "${args[@]}" --format bin -o out2.bin in.csv
	cmp out.bin out2.bin
	# Binary in: the same rows, and the typed timestamp `up` of the first
	# join is a time the second join can look up as of.
	ff-cat --format bin in.csv | ff-join "${args[@]}" > out3.csv
	diff -u out.csv out3.csv
	ff-cat out.bin | ff-join -s store.db --lookup zone --key zip --timestamp up --features n \
		--rename n=n2 --exclude total,mean > chained.csv
	ff-join "${args[@]}" --format bin in.csv |
		ff-join -s store.db --lookup zone --key zip --timestamp up --features n \
			--rename n=n2 --exclude total,mean > chained_bin.csv
	same chained.csv <<'EOF'
id,when,zip,up,n,n2
1,2018-01-01 10:00:01,10001,2018-01-01 10:15:00,2,2
"a,""b""",2018-01-01 10:30:00.5,10002,2018-01-01 10:45:00,2,2
3,2018-01-01 11:44:00,10001,2018-01-01 11:45:00,1,1
,2018-01-01 09:00:00,10001,2018-01-01 09:00:00,,
EOF
	diff -u chained.csv chained_bin.csv
}

# ---- errors --------------------------------------------------------------

@test "errors: a missing key or timestamp column names the file and header line" {
	printf 'id,when,zip\n1,2018-01-01 10:15:00,10001\n' > in.csv
	run -1 --separate-stderr ff-join -s store.db --lookup zone --key zipcode --timestamp when in.csv
	no_output
	stderr_is "ff-join: in.csv:1: no column 'zipcode' (key of a lookup)"
	run -1 --separate-stderr ff-join -s store.db --lookup zone --key zip --timestamp time in.csv
	no_output
	stderr_is "ff-join: in.csv:1: no column 'time' (timestamp of a lookup)"
}

@test "errors: a bad or empty timestamp names file, line and column" {
	# The quoted field spans lines 2 and 3, so the bad row is on line 4.
	printf 'id,when,zip\n"two\nlines",2018-01-01 10:15:00,10001\n3,yesterday,10001\n' > bad.csv
	run -1 --separate-stderr ff-join "${ZONE[@]}" --features n bad.csv
	stderr_is "ff-join: bad.csv:4: column 'when': bad timestamp 'yesterday'"
	printf 'id,when,zip\n1,2018-01-01 10:15:00,10001\n2,,10001\n' > empty.csv
	run -1 --separate-stderr ff-join "${ZONE[@]}" --features n empty.csv
	stderr_is "ff-join: empty.csv:3: column 'when': bad timestamp ''"
	printf 'id,when,zip\n1,2018-13-01 10:15:00,10001\n' > month.csv
	run -1 --separate-stderr ff-join "${ZONE[@]}" --features n month.csv
	stderr_is "ff-join: month.csv:2: column 'when': bad timestamp '2018-13-01 10:15:00'"
	# In a binary input, the record's number.
	if command -v ff-cat > /dev/null; then
		ff-cat --format bin bad.csv > bad.bin
		run -1 --separate-stderr ff-join "${ZONE[@]}" --features n bad.bin
		stderr_is "ff-join: bad.bin: record 2: column 'when': bad timestamp 'yesterday'"
	fi
	# In the second input, its own name and line.
	printf 'id,when,zip\n1,2018-01-01 10:15:00,10001\n' > good.csv
	run -1 --separate-stderr ff-join "${ZONE[@]}" --features n good.csv - < bad.csv
	stderr_is "ff-join: stdin:4: column 'when': bad timestamp 'yesterday'"
}

@test "errors deep in a long input: parsed ahead on a thread, told as one thread would" {
	# 9,000 good rows, then a bad time on line 9002 and one more row: the
	# joining stops there, the rows before it are out, the reader's own
	# error at the end is not told.
	awk 'BEGIN { print "id,when,zip"; for (i = 1; i <= 9000; i++) print i ",2018-01-01 10:15:00,10001"
		print "bad,yesterday,10001"; print "last,\"2018-01-01 10:15:00,10001" }' > long.csv
	run -1 --separate-stderr ff-join "${ZONE[@]}" --features n long.csv
	stderr_is "ff-join: long.csv:9002: column 'when': bad timestamp 'yesterday'"
	[ "${#lines[@]}" -eq 9001 ]
	# The reader's error after 9,000 good rows: every row joined first.
	head -n 9001 long.csv > tail.csv
	echo 'last,"2018-01-01 10:15:00,10001' >> tail.csv
	run -1 --separate-stderr ff-join "${ZONE[@]}" --features n tail.csv
	stderr_is "ff-join: tail.csv:9002: a quoted field is not closed at the end of the input"
	[ "${#lines[@]}" -eq 9001 ]
	[[ "${lines[9000]}" == "9000,2018-01-01 10:15:00,10001,"* ]]
}

@test "errors: a typed binary column that is not a time, as timestamp or derive source" {
	# The binary output of a first join has typed columns: n is an integer,
	# mean a real. Neither is a time; the message names record and column and
	# shows something of the value, not a null pointer's "(null)".
	printf 'id,when,zip\n1,2018-01-01 10:20:00,10001\n' > in.csv
	ff-join "${ZONE[@]}" --format bin in.csv > typed.bin
	run -1 --separate-stderr ff-join -s store.db --lookup zone --key zip --timestamp n \
		--features n --rename n=n2 typed.bin
	[[ "$stderr" == "ff-join: typed.bin: record 1: column 'n': "* && "$stderr" != *$'\n'* ]]
	[[ "$stderr" != *"(null)"* ]]
	run -1 --separate-stderr ff-join -s store.db --derive 'r=ceil(mean, 15m)' --lookup zone \
		--key zip --timestamp r --features n --rename n=n2 typed.bin
	[[ "$stderr" == "ff-join: typed.bin: record 1: column 'mean': "* && "$stderr" != *$'\n'* ]]
	[[ "$stderr" != *"(null)"* ]]
}

@test "errors: a row with the wrong number of fields" {
	printf 'id,when,zip\n1,2018-01-01 10:15:00,10001\n2,2018-01-01 10:15:00\n' > short.csv
	run -1 --separate-stderr ff-join "${ZONE[@]}" --features n short.csv
	stderr_is "ff-join: short.csv:3: 2 fields, the header has 3"
	printf 'id,when,zip\n1,2018-01-01 10:15:00,10001,extra\n' > long.csv
	run -1 --separate-stderr ff-join "${ZONE[@]}" --features n long.csv
	stderr_is "ff-join: long.csv:2: 4 fields, the header has 3"
}

@test "errors: unknown table, unknown feature, key count, missing store or input" {
	printf 'id,when,zip\n1,2018-01-01 10:15:00,10001\n' > in.csv
	run -1 --separate-stderr ff-join -s store.db --lookup nope --key zip --timestamp when in.csv
	no_output
	stderr_is "ff-join: store.db: no table nope in the store"
	run -1 --separate-stderr ff-join -s store.db --lookup zone --key zip --features n,fare in.csv
	no_output
	stderr_is "ff-join: store.db: table zone has no feature 'fare'"
	run -1 --separate-stderr ff-join -s store.db --lookup pair --key zip --timestamp when in.csv
	no_output
	stderr_is "ff-join: command line: lookup pair: the table has 2 key columns, the lookup gives 1"
	run -1 --separate-stderr ff-join -s store.db --lookup zone --key zip,when in.csv
	no_output
	stderr_is "ff-join: command line: lookup zone: the table has 1 key column, the lookup gives 2"
	run -1 --separate-stderr ff-join -s missing.db --lookup zone --key zip in.csv
	no_output
	[[ "$stderr" =~ ^"ff-join: missing.db: " ]]
	[[ "$stderr" != *$'\n'* ]]
	[ ! -e missing.db ]
	run -1 --separate-stderr ff-join -s store.db --lookup zone --key zip in.csv missing.csv
	stderr_is "ff-join: missing.csv: No such file or directory"
}

@test "errors: two failing lookups report whole lines, the first lookup first, every time" {
	printf 'id,when,zip\n1,2018-01-01 10:15:00,10001\n' > in.csv
	# Tables may load at the same time; the messages must still be lines of
	# their own, in the order of the lookups (or only the first).
	for i in $(seq 20); do
		run -1 --separate-stderr ff-join -s store.db --lookup nope1 --key zip \
			--lookup nope2 --key zip in.csv
		no_output
		[ "$stderr" = "ff-join: store.db: no table nope1 in the store" ] ||
			stderr_is "ff-join: store.db: no table nope1 in the store
ff-join: store.db: no table nope2 in the store"
		run -1 --separate-stderr ff-join -s store.db --lookup zone --key zip --features bad1 \
			--lookup zone --key zip --features bad2 in.csv
		no_output
		[ "$stderr" = "ff-join: store.db: table zone has no feature 'bad1'" ] ||
			stderr_is "ff-join: store.db: table zone has no feature 'bad1'
ff-join: store.db: table zone has no feature 'bad2'"
	done
}

@test "errors: a failed run leaves no output file, and an old one as it was" {
	printf 'id,when,zip\n1,2018-01-01 10:15:00,10001\n2,never,10001\n' > bad.csv
	run -1 ff-join "${ZONE[@]}" -o out.csv bad.csv
	[ ! -e out.csv ]
	echo old > out.csv
	run -1 ff-join "${ZONE[@]}" -o out.csv bad.csv
	echo old | same out.csv
	# and no temporary file beside it
	[ "$(ls | grep -v '^store\.db')" = "$(printf 'bad.csv\nout.csv')" ]
}

@test "a closed pipe ends quietly; a full disk is an error" {
	awk 'BEGIN { print "id,when,zip"
		for (i = 0; i < 200000; i++) printf "%d,2018-01-01 10:%02d:00,1000%d\n", i, i % 60, i % 3 }' \
		> big.csv
	run -0 bash -c 'ff-join -s store.db --lookup zone --key zip --timestamp when big.csv 2> err | head -3'
	assert_output - <<'EOF'
id,when,zip,n,total,mean
0,2018-01-01 10:00:00,10000,,,
1,2018-01-01 10:01:00,10001,,,
EOF
	[ ! -s err ]
	[ -w /dev/full ] || skip "no /dev/full"
	# one line, with the errno of the write
	run -1 --separate-stderr bash -c 'ff-join -s store.db --lookup zone --key zip --timestamp when big.csv > /dev/full'
	no_output
	stderr_is "ff-join: write error on standard output: No space left on device"
	run -1 --separate-stderr ff-join -s store.db --lookup zone --key zip --timestamp when -o /dev/full big.csv
	stderr_is "ff-join: /dev/full: write error: No space left on device"
}

@test "usage errors exit 2 with nothing on stdout" {
	printf 'id,when,zip\n1,2018-01-01 10:15:00,10001\n' > in.csv
	printf 'lookup zone\nkey zip\n' > join.spec
	run -2 --separate-stderr ff-join --lookup zone --key zip in.csv
	no_output
	stderr_is "ff-join: no store: give -s STORE
Try 'ff-join --help' for more information."
	run -2 --separate-stderr ff-join -s store.db in.csv
	no_output
	stderr_is "ff-join: no lookup: give --spec FILE or --lookup TABLE --key COLUMN ...
Try 'ff-join --help' for more information."
	run -2 --separate-stderr ff-join -s store.db -f join.spec --lookup zone --key zip in.csv
	no_output
	stderr_is "ff-join: give lookups either with --spec or with options, not both
Try 'ff-join --help' for more information."
	run -2 --separate-stderr ff-join -s store.db --format json --lookup zone --key zip in.csv
	no_output
	stderr_is "ff-join: bad --format 'json': use csv or bin
Try 'ff-join --help' for more information."
	run -2 --separate-stderr ff-join -s store.db --key zip --lookup zone in.csv
	no_output
	stderr_is "ff-join: option --key: key before any lookup (lookup TABLE comes first)
Try 'ff-join --help' for more information."
	run -2 --separate-stderr ff-join -s store.db --lookup zone --key zip --timestamp when \
		--lookback soon in.csv
	no_output
	stderr_is "ff-join: option --lookback: lookback 'soon' is not a duration such as 1h or 7d
Try 'ff-join --help' for more information."
	run -2 --separate-stderr ff-join -s store.db --lookup zone --key zip --no-such-option in.csv
	no_output
	stderr_is "ff-join: unknown option '--no-such-option'
Try 'ff-join --help' for more information."
}

@test "usage errors: an incomplete lookup given as options ends like the other usage errors" {
	printf 'id,when,zip\n1,2018-01-01 10:15:00,10001\n' > in.csv
	run -2 --separate-stderr ff-join -s store.db --lookup zone in.csv
	no_output
	stderr_is "ff-join: command line: lookup zone: no key (key COLUMN)
Try 'ff-join --help' for more information."
	run -2 --separate-stderr ff-join -s store.db --lookup zone --key zip --exact in.csv
	no_output
	stderr_is "ff-join: command line: lookup zone: exact needs a timestamp
Try 'ff-join --help' for more information."
	run -2 --separate-stderr ff-join -s store.db --lookup zone --key zip --lookback 1h in.csv
	no_output
	stderr_is "ff-join: command line: lookup zone: lookback needs a timestamp
Try 'ff-join --help' for more information."
}

@test "--help and --version" {
	run -0 --separate-stderr ff-join --help
	[ -z "$stderr" ]
	assert_line --index 0 "usage: ff-join -s STORE (-f SPEC | --lookup TABLE --key COLUMN ...) [options] [FILE...]"
	for opt in --store --spec --output --format --quiet --help --version --derive --lookup \
		--key --timestamp --features --rename --default --lookback --exact --exclude; do
		assert_output --partial -- "$opt"
	done
	run -0 ff-join -h
	assert_line --index 0 --partial "usage: ff-join"
	run -0 --separate-stderr ff-join --version
	[ -z "$stderr" ]
	assert_output --regexp '^ff-join \(ff\) [0-9]+\.[0-9]+\.[0-9]+$'
	run -0 ff-join -V
	assert_output --regexp '^ff-join \(ff\) [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "a missing column hints at another delimiter or spaces around a name" {
	printf 'id;when;zip\n1;2018-01-01 10:00:00;10001\n' > semi.csv
	run -1 --separate-stderr ff-join -s store.db --derive 'up=ceil(when, 15m)' \
		--lookup zone --key zip --timestamp up semi.csv
	no_output
	stderr_is "ff-join: semi.csv:1: no column 'when' (source of a derived column); the header is one field holding ';': is the file delimited by ';'?"
	printf 'id, when,zip\n1,2018-01-01 10:00:00,10001\n' > spaced.csv
	run -1 --separate-stderr ff-join -s store.db --derive 'up=ceil(when, 15m)' \
		--lookup zone --key zip --timestamp up spaced.csv
	stderr_is "ff-join: spaced.csv:1: no column 'when' (source of a derived column); column ' when' has spaces around it"
}

@test "--delimiter: a TSV input joins as its CSV form does" {
	printf 'id\twhen\tzip\n2\t2018-01-01 10:15:00\t10001\n9\t2018-01-01 10:30:00\t10002\n' > in.tsv
	run -0 --separate-stderr ff-join "${ZONE[@]}" --delimiter tab in.tsv
	assert_output - <<'EOF'
id,when,zip,n,total,mean
2,2018-01-01 10:15:00,10001,2,30,15
9,2018-01-01 10:30:00,10002,2,15,7.5
EOF
	# Without it, the header is one field: the hint names the tab.
	run -1 --separate-stderr ff-join "${ZONE[@]}" in.tsv
	[[ "$stderr" == *"is the file delimited by tabs?"* ]]
}

# Run "$@" as a user who cannot write the current directory (root here
# writes anywhere): nobody through setpriv, or skip saying why.
as_other_user() {
	setpriv --reuid nobody --regid nogroup --clear-groups "$@"
}

@test "a store in a directory the reader cannot write: read, or a true message" {
	command -v setpriv >/dev/null || skip "no setpriv to run the reader as another user"
	[ "$(id -u)" -eq 0 ] || skip "not root: cannot switch to another user"
	local dir
	dir=$(mktemp -d /tmp/ff-ro.XXXXXX)
	chmod 755 "$dir"
	cp store.db "$dir/store.db"
	printf 'id,when,zip\n2,2018-01-01 10:15:00,10001\n' > "$dir/in.csv"
	chmod 555 "$dir"
	chmod 444 "$dir/store.db" "$dir/in.csv"
	as_other_user true 2>/dev/null || skip "setpriv cannot switch to nobody here"
	as_other_user test -x "$FF_BIN/ff-join" || skip "nobody cannot run $FF_BIN"
	cd "$dir"
	! as_other_user touch x 2>/dev/null || skip "nobody can write $dir"
	run -0 --separate-stderr as_other_user ff-join "${ZONE[@]}" in.csv
	assert_output - <<'EOF'
id,when,zip,n,total,mean
2,2018-01-01 10:15:00,10001,2,30,15
EOF
	run -0 --separate-stderr as_other_user ff-monitor profile -s store.db zone
	[[ "$output" == "store.db:zone: 4 rows"* ]]
	# Another process has the store open (its -wal file is there): reading
	# without the -shm file could see a half-written store, so it says why.
	chmod 755 "$dir"
	{ echo 'BEGIN IMMEDIATE; DELETE FROM zone;'; sleep 3; echo 'ROLLBACK;'; } | sqlite3 store.db &
	local holder=$!
	sleep 0.5
	rm -f store.db-shm
	chmod 555 "$dir"
	run -1 --separate-stderr as_other_user ff-join "${ZONE[@]}" in.csv
	wait "$holder"
	chmod 755 "$dir"
	rm -rf "$dir"
	[ "$stderr" = "ff-join: store.db: cannot read the store: another process has it open (store.db-wal exists) and its directory is not writable, so the store.db-shm file readers share cannot be created; read it once that process is done, or from a copy" ]
}
