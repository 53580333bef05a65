#!/usr/bin/env bats
# ff-compute: windowed aggregations of trips into feature tables. Expected
# outputs are worked out by hand from ff-semantics(7); the real sample is
# checked against an oracle computed by sqlite3 itself.

load test_helper/common
bats_require_minimum_version 1.5.0

setup() { common_setup; }

HDR=tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,fare_amount,pickup_zip,dropoff_zip
PICKUP=$EXAMPLES/pickup_features.spec
DROPOFF=$EXAMPLES/dropoff_features.spec
FIXTURES=$BATS_TEST_DIRNAME/fixtures/compute

# 2018-01-01 in Unix seconds, for reading stored window ends.
T10_15=1514801700 T10_30=1514802600 T10_45=1514803500
T11_00=1514804400 T11_30=1514806200

# trips FILE: the trips header, then the rows read from stdin.
trips() { { echo "$HDR"; cat; } > "$1"; }

# same FILE: FILE holds exactly what stdin holds (the expected text).
same() { diff -u - "$1"; }

# An inline table with every aggregation over 1 h tumbling windows.
ALL_AGGS=(--table aggs --time tpep_pickup_datetime --key pickup_zip --window 1h
	--partition none --feature 'rows=count(*)' --feature 'fares=count(fare_amount)'
	--feature 'total=sum(fare_amount)' --feature 'mean=mean(fare_amount)'
	--feature 'average=avg(fare_amount)' --feature 'lo=min(fare_amount)'
	--feature 'hi=max(fare_amount)' --feature 'sd=stddev(fare_amount)'
	--feature 'var=variance(fare_amount)')

# stderr_is REGEX: the last `run --separate-stderr` wrote one line to stderr,
# matching REGEX.
stderr_is() {
	if [[ "$stderr" != *$'\n'* && "$stderr" =~ $1 ]]; then
		return 0
	fi
	printf 'stderr was:\n%s\nexpected one line matching:\n%s\n' "$stderr" "$1" >&2
	return 1
}

# no_output: the last run wrote nothing to stdout.
no_output() {
	[ -z "$output" ] || { printf 'unexpected stdout:\n%s\n' "$output" >&2; return 1; }
}

# The sliding windows of the pickup spec, over trips a..d around 10:15.
sliding_input() {
	trips t.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,a,X
2018-01-01 10:15:00,2018-01-01 10:30:00,1.0,20,b,X
2018-01-01 10:14:59.999999,2018-01-01 10:30:00,1.0,30,c,X
2018-01-01 10:15:00.000001,2018-01-01 10:30:00,1.0,40,d,X
EOF
}

# ---- window membership -------------------------------------------------

@test "sliding 1h/15m: a trip is in the 4 windows ending at the next 4 quarter hours" {
	sliding_input
	ff-compute -f "$PICKUP" t.csv > out.csv 2> err
	# b at 10:15:00 sharp is not in the window ending 10:15; c, a microsecond
	# before, is; d, a microsecond after, is in the same windows as b.
	same out.csv <<'EOF'
pickup_zip,rounded_pickup_datetime,mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,yyyy_mm
a,2018-01-01 10:15:00,10,1,2018-01
c,2018-01-01 10:15:00,30,1,2018-01
a,2018-01-01 10:30:00,10,1,2018-01
b,2018-01-01 10:30:00,20,1,2018-01
c,2018-01-01 10:30:00,30,1,2018-01
d,2018-01-01 10:30:00,40,1,2018-01
a,2018-01-01 10:45:00,10,1,2018-01
b,2018-01-01 10:45:00,20,1,2018-01
c,2018-01-01 10:45:00,30,1,2018-01
d,2018-01-01 10:45:00,40,1,2018-01
a,2018-01-01 11:00:00,10,1,2018-01
b,2018-01-01 11:00:00,20,1,2018-01
c,2018-01-01 11:00:00,30,1,2018-01
d,2018-01-01 11:00:00,40,1,2018-01
b,2018-01-01 11:15:00,20,1,2018-01
d,2018-01-01 11:15:00,40,1,2018-01
EOF
	same err < /dev/null
}

@test "sliding windows: trips of one zip add up in the windows they share" {
	trips t.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
2018-01-01 10:20:00,2018-01-01 10:40:00,1.0,20,A,X
2018-01-01 10:50:00,2018-01-01 11:00:00,1.0,60,A,X
EOF
	ff-compute -f "$PICKUP" t.csv > out.csv
	# 10:05 -> 10:15..11:00, 10:20 -> 10:30..11:15, 10:50 -> 11:00..11:45
	same out.csv <<'EOF'
pickup_zip,rounded_pickup_datetime,mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,yyyy_mm
A,2018-01-01 10:15:00,10,1,2018-01
A,2018-01-01 10:30:00,15,2,2018-01
A,2018-01-01 10:45:00,15,2,2018-01
A,2018-01-01 11:00:00,30,3,2018-01
A,2018-01-01 11:15:00,40,2,2018-01
A,2018-01-01 11:30:00,60,1,2018-01
A,2018-01-01 11:45:00,60,1,2018-01
EOF
}

@test "yyyy_mm is the month of the window end, not of the trip" {
	trips t.csv <<'EOF'
2018-01-31 23:50:00,2018-01-31 23:59:59,1.0,8,A,X
EOF
	ff-compute -f "$PICKUP" t.csv > out.csv
	same out.csv <<'EOF'
pickup_zip,rounded_pickup_datetime,mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,yyyy_mm
A,2018-02-01 00:00:00,8,1,2018-02
A,2018-02-01 00:15:00,8,1,2018-02
A,2018-02-01 00:30:00,8,1,2018-02
A,2018-02-01 00:45:00,8,1,2018-02
EOF
	ff-compute -f "$DROPOFF" t.csv > out.csv
	same out.csv <<'EOF'
dropoff_zip,rounded_dropoff_datetime,count_trips_window_30m_dropoff_zip,dropoff_is_weekend,yyyy_mm
X,2018-02-01 00:00:00,1,0,2018-02
EOF
}

@test "tumbling 30m: one window per trip, a trip on a boundary opens the next window" {
	trips t.csv <<'EOF'
2018-01-01 09:40:00,2018-01-01 10:00:00,1.0,10,A,X
2018-01-01 09:40:00,2018-01-01 10:29:59.999999,1.0,10,A,X
2018-01-01 09:40:00,2018-01-01 10:30:00,1.0,10,A,X
2018-01-01 09:40:00,2018-01-01 09:59:59,1.0,10,A,Y
EOF
	ff-compute -f "$DROPOFF" t.csv > out.csv 2> err
	same out.csv <<'EOF'
dropoff_zip,rounded_dropoff_datetime,count_trips_window_30m_dropoff_zip,dropoff_is_weekend,yyyy_mm
Y,2018-01-01 10:00:00,1,0,2018-01
X,2018-01-01 10:30:00,2,0,2018-01
X,2018-01-01 11:00:00,1,0,2018-01
EOF
	same err < /dev/null
}

@test "timestamps: T separator, Z and offsets +HH:MM +HHMM -HH:MM -HHMM are converted to UTC" {
	# Every one of a..i is 09:59:59 UTC (window ending 10:00); j is 10:00 UTC.
	trips t.csv <<'EOF'
2018-01-01T09:59:59Z,,,,a,
2018-01-01 10:59:59+01:00,,,,b,
2018-01-01T10:59:59+0100,,,,c,
2018-01-01 04:59:59-05:00,,,,d,
2018-01-01 04:59:59-0500,,,,e,
2018-01-01 15:29:59+05:30,,,,f,
2018-01-01 09:59:59+0000,,,,g,
2018-01-01T09:59:59.999999Z,,,,h,
2017-12-31 23:59:59-10:00,,,,i,
2018-01-01 10:00:00+00:00,,,,j,
EOF
	ff-compute --table t --time tpep_pickup_datetime --key pickup_zip --window 1h \
		--partition none --feature 'n=count(*)' t.csv > out.csv
	same out.csv <<'EOF'
pickup_zip,window_end,n
a,2018-01-01 10:00:00,1
b,2018-01-01 10:00:00,1
c,2018-01-01 10:00:00,1
d,2018-01-01 10:00:00,1
e,2018-01-01 10:00:00,1
f,2018-01-01 10:00:00,1
g,2018-01-01 10:00:00,1
h,2018-01-01 10:00:00,1
i,2018-01-01 10:00:00,1
j,2018-01-01 11:00:00,1
EOF
}

@test "zips are strings: kept as written, ordered bytewise, quoted in the CSV when needed" {
	trips t.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:10:00,1.0,1,a,a
2018-01-01 10:05:00,2018-01-01 10:10:00,1.0,1,9,9
2018-01-01 10:05:00,2018-01-01 10:10:00,1.0,1,10,10
2018-01-01 10:05:00,2018-01-01 10:10:00,1.0,1,010,010
2018-01-01 10:05:00,2018-01-01 10:10:00,1.0,1,"a,b","a,b"
2018-01-01 10:05:00,2018-01-01 10:10:00,1.0,1,Z,Z
2018-01-01 10:05:00,2018-01-01 10:10:00,1.0,1,10,10
EOF
	ff-compute -f "$DROPOFF" t.csv > out.csv
	same out.csv <<'EOF'
dropoff_zip,rounded_dropoff_datetime,count_trips_window_30m_dropoff_zip,dropoff_is_weekend,yyyy_mm
010,2018-01-01 10:30:00,1,0,2018-01
10,2018-01-01 10:30:00,2,0,2018-01
9,2018-01-01 10:30:00,1,0,2018-01
Z,2018-01-01 10:30:00,1,0,2018-01
a,2018-01-01 10:30:00,1,0,2018-01
"a,b",2018-01-01 10:30:00,1,0,2018-01
EOF
}

@test "sliding windows whose slide does not divide the window (1h every 25m)" {
	# Starts are multiples of 25 min since the epoch: ..., 08:15, 08:40, 09:05,
	# 09:30, 09:55 on 2018-01-01. 09:29 is in [08:40, 09:40) and [09:05, 10:05);
	# 10:00 is in [09:05, 10:05), [09:30, 10:30) and [09:55, 10:55).
	trips t.csv <<'EOF'
2018-01-01 09:29:00,,,5,A,
2018-01-01 10:00:00,,,7,B,
EOF
	ff-compute --table t --time tpep_pickup_datetime --key pickup_zip --window 1h --slide 25m \
		--feature 'n=count(*)' t.csv > out.csv
	same out.csv <<'EOF'
pickup_zip,window_end,n,yyyy_mm
A,2018-01-01 09:40:00,1,2018-01
A,2018-01-01 10:05:00,1,2018-01
B,2018-01-01 10:05:00,1,2018-01
B,2018-01-01 10:30:00,1,2018-01
B,2018-01-01 10:55:00,1,2018-01
EOF
}

@test "windows before 1970 are aligned to the epoch too" {
	trips t.csv <<'EOF'
1969-12-31 23:10:00,1969-12-31 23:59:59,1.0,5,A,X
1970-01-01 00:00:00,1970-01-01 00:00:00,1.0,7,A,X
EOF
	ff-compute -f "$PICKUP" t.csv > out.csv
	same out.csv <<'EOF'
pickup_zip,rounded_pickup_datetime,mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,yyyy_mm
A,1969-12-31 23:15:00,5,1,1969-12
A,1969-12-31 23:30:00,5,1,1969-12
A,1969-12-31 23:45:00,5,1,1969-12
A,1970-01-01 00:00:00,5,1,1970-01
A,1970-01-01 00:15:00,7,1,1970-01
A,1970-01-01 00:30:00,7,1,1970-01
A,1970-01-01 00:45:00,7,1,1970-01
A,1970-01-01 01:00:00,7,1,1970-01
EOF
	ff-compute -f "$DROPOFF" t.csv > out.csv
	same out.csv <<'EOF'
dropoff_zip,rounded_dropoff_datetime,count_trips_window_30m_dropoff_zip,dropoff_is_weekend,yyyy_mm
X,1970-01-01 00:00:00,1,0,1970-01
X,1970-01-01 00:30:00,1,0,1970-01
EOF
}

@test "several keys, renamed; a quoted empty key is a key, an empty one is bad" {
	trips t.csv <<'EOF'
2018-01-01 10:00:00,,,5,1,2
2018-01-01 10:10:00,,,7,10,1
2018-01-01 10:20:00,,,7,"",1
2018-01-01 10:30:00,,,1,1,2
EOF
	ff-compute --table t --time tpep_pickup_datetime --key zip=pickup_zip --key dropoff_zip \
		--window 1h --feature 'n=count(*)' --feature 's=sum(fare_amount)' t.csv > out.csv
	# Tuples in byte order: ("", "1") < ("1", "2") < ("10", "1").
	same out.csv <<'EOF'
zip,dropoff_zip,window_end,n,s,yyyy_mm
"",1,2018-01-01 11:00:00,1,7,2018-01
1,2,2018-01-01 11:00:00,2,6,2018-01
10,1,2018-01-01 11:00:00,1,7,2018-01
EOF
	trips bad.csv <<'EOF'
2018-01-01 10:00:00,,,5,1,2
2018-01-01 10:00:00,,,5,1,
EOF
	run -1 --separate-stderr ff-compute --table t --time tpep_pickup_datetime --key zip=pickup_zip \
		--key dropoff_zip --window 1h --feature 'n=count(*)' bad.csv
	stderr_is "^ff-compute: bad\.csv:3: column 'dropoff_zip': .*empty"
}

# ---- aggregations ------------------------------------------------------

@test "mean skips an empty fare, count(*) still counts its row" {
	trips t.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,,A,X
2018-01-01 10:10:00,2018-01-01 10:20:00,1.0,20,A,X
2018-01-01 10:10:00,2018-01-01 10:20:00,1.0,,B,X
EOF
	ff-compute -f "$PICKUP" t.csv > out.csv
	same out.csv <<'EOF'
pickup_zip,rounded_pickup_datetime,mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,yyyy_mm
A,2018-01-01 10:15:00,15,3,2018-01
B,2018-01-01 10:15:00,,1,2018-01
A,2018-01-01 10:30:00,15,3,2018-01
B,2018-01-01 10:30:00,,1,2018-01
A,2018-01-01 10:45:00,15,3,2018-01
B,2018-01-01 10:45:00,,1,2018-01
A,2018-01-01 11:00:00,15,3,2018-01
B,2018-01-01 11:00:00,,1,2018-01
EOF
}

@test "count, sum, mean, avg, min, max, stddev, variance skip NULLs; stddev of one value is NULL" {
	# A: 1 3 _ 5: mean 3, squares of deviations 4+0+4 = 8, sample variance 4.
	# B: one value. C: no value. D: -1.5 2.25: mean 0.375, variance 2*1.875^2.
	trips t.csv <<'EOF'
2018-01-01 10:01:00,,,1,A,
2018-01-01 10:02:00,,,3,A,
2018-01-01 10:03:00,,,,A,
2018-01-01 10:04:00,,,5,A,
2018-01-01 10:05:00,,,7,B,
2018-01-01 10:06:00,,,,C,
2018-01-01 10:07:00,,,-1.5,D,
2018-01-01 10:08:00,,,2.25,D,
EOF
	ff-compute "${ALL_AGGS[@]}" t.csv > out.csv
	same out.csv <<'EOF'
pickup_zip,window_end,rows,fares,total,mean,average,lo,hi,sd,var
A,2018-01-01 11:00:00,4,3,9,3,3,1,5,2,4
B,2018-01-01 11:00:00,1,1,7,7,7,7,7,,
C,2018-01-01 11:00:00,1,0,,,,,,,
D,2018-01-01 11:00:00,2,2,0.75,0.375,0.375,-1.5,2.25,2.6516504294495533,7.03125
EOF
}

# ---- time zones --------------------------------------------------------

@test "dropoff_is_weekend: Friday 23:30 and Saturday 00:00 in New York, across midnight UTC" {
	# 2018-01-06 is a Saturday; New York is UTC-5 in January.
	trips t.csv <<'EOF'
2018-01-06 02:00:00,2018-01-06 02:10:00,1.0,5,A,Z
2018-01-06 04:00:00,2018-01-06 04:10:00,1.0,5,A,Z
2018-01-06 04:30:00,2018-01-06 04:40:00,1.0,5,A,Z
2018-01-08 04:00:00,2018-01-08 04:10:00,1.0,5,A,Z
2018-01-08 04:30:00,2018-01-08 04:40:00,1.0,5,A,Z
EOF
	ff-compute -f "$DROPOFF" t.csv > out.csv
	# 02:30 UTC Sat = Fri 21:30; 04:30 = Fri 23:30; 05:00 = Sat 00:00;
	# Jan 8 04:30 = Sun 23:30; 05:00 = Mon 00:00.
	same out.csv <<'EOF'
dropoff_zip,rounded_dropoff_datetime,count_trips_window_30m_dropoff_zip,dropoff_is_weekend,yyyy_mm
Z,2018-01-06 02:30:00,1,0,2018-01
Z,2018-01-06 04:30:00,1,0,2018-01
Z,2018-01-06 05:00:00,1,1,2018-01
Z,2018-01-08 04:30:00,1,1,2018-01
Z,2018-01-08 05:00:00,1,0,2018-01
EOF
}

@test "dropoff_is_weekend across the DST changes of 2018-03-11 and 2018-11-04" {
	trips t.csv <<'EOF'
2018-03-10 04:00:00,2018-03-10 04:10:00,1.0,5,A,Z
2018-03-10 04:30:00,2018-03-10 04:40:00,1.0,5,A,Z
2018-03-11 06:30:00,2018-03-11 06:40:00,1.0,5,A,Z
2018-03-12 03:00:00,2018-03-12 03:10:00,1.0,5,A,Z
2018-03-12 03:30:00,2018-03-12 03:40:00,1.0,5,A,Z
2018-11-03 03:00:00,2018-11-03 03:10:00,1.0,5,A,Z
2018-11-03 03:30:00,2018-11-03 03:40:00,1.0,5,A,Z
2018-11-04 05:30:00,2018-11-04 05:40:00,1.0,5,A,Z
2018-11-05 04:00:00,2018-11-05 04:10:00,1.0,5,A,Z
2018-11-05 04:30:00,2018-11-05 04:40:00,1.0,5,A,Z
EOF
	ff-compute -f "$DROPOFF" t.csv > out.csv
	# March (EST until 03-11 07:00 UTC, then EDT):
	#   03-10 04:30 Fri 23:30 EST; 05:00 Sat 00:00 EST; 03-11 07:00 Sun 03:00 EDT;
	#   03-12 03:30 Sun 23:30 EDT; 04:00 Mon 00:00 EDT.
	# November (EDT until 11-04 06:00 UTC, then EST):
	#   11-03 03:30 Fri 23:30 EDT; 04:00 Sat 00:00 EDT; 11-04 06:00 Sun 01:00 EST;
	#   11-05 04:30 Sun 23:30 EST; 05:00 Mon 00:00 EST.
	same out.csv <<'EOF'
dropoff_zip,rounded_dropoff_datetime,count_trips_window_30m_dropoff_zip,dropoff_is_weekend,yyyy_mm
Z,2018-03-10 04:30:00,1,0,2018-03
Z,2018-03-10 05:00:00,1,1,2018-03
Z,2018-03-11 07:00:00,1,1,2018-03
Z,2018-03-12 03:30:00,1,1,2018-03
Z,2018-03-12 04:00:00,1,0,2018-03
Z,2018-11-03 03:30:00,1,0,2018-11
Z,2018-11-03 04:00:00,1,1,2018-11
Z,2018-11-04 06:00:00,1,1,2018-11
Z,2018-11-05 04:30:00,1,1,2018-11
Z,2018-11-05 05:00:00,1,0,2018-11
EOF
}

@test "calendar functions of window_start and window_end in the table's zone" {
	# The window [2018-01-06 04:30, 05:00) UTC runs from Friday 23:30 to
	# Saturday 00:00 in New York.
	trips t.csv <<'EOF'
2018-01-06 04:40:00,,,,A,
EOF
	ff-compute --table t --time tpep_pickup_datetime --key pickup_zip --window 30m \
		--timezone America/New_York --partition none \
		--feature 'we=is_weekend(window_end)' --feature 'ws=is_weekend(window_start)' \
		--feature 'de=day_of_week(window_end)' --feature 'ds=day_of_week(window_start)' \
		--feature 'he=hour(window_end)' --feature 'hs=hour(window_start)' t.csv > out.csv
	same out.csv <<'EOF'
pickup_zip,window_end,we,ws,de,ds,he,hs
A,2018-01-06 05:00:00,1,0,6,5,0,23
EOF
	# In UTC (the default zone) the same window is Saturday 04:30 to 05:00.
	ff-compute --table t --time tpep_pickup_datetime --key pickup_zip --window 30m \
		--partition none --feature 'ws=is_weekend(window_start)' \
		--feature 'ds=day_of_week(window_start)' --feature 'hs=hour(window_start)' t.csv > out.csv
	same out.csv <<'EOF'
pickup_zip,window_end,ws,ds,hs
A,2018-01-06 05:00:00,1,6,4
EOF
}

@test "hour(window_end) follows the New York clock across the DST changes" {
	trips t.csv <<'EOF'
2018-03-11 06:10:00,,,,A,
2018-03-11 06:40:00,,,,A,
2018-11-04 05:10:00,,,,A,
2018-11-04 06:10:00,,,,A,
2018-11-04 06:40:00,,,,A,
EOF
	ff-compute --table t --time tpep_pickup_datetime --key pickup_zip --window 30m \
		--timezone America/New_York --partition none --feature 'h=hour(window_end)' t.csv > out.csv
	# 06:30 UTC = 01:30 EST; 07:00 UTC = 03:00 EDT; 11-04 05:30 UTC = 01:30 EDT;
	# 06:30 UTC = 01:30 EST; 07:00 UTC = 02:00 EST.
	same out.csv <<'EOF'
pickup_zip,window_end,h
A,2018-03-11 06:30:00,1
A,2018-03-11 07:00:00,3
A,2018-11-04 05:30:00,1
A,2018-11-04 06:30:00,1
A,2018-11-04 07:00:00,2
EOF
}

# ---- order and lateness ------------------------------------------------

@test "out-of-order rows within --lateness give the same table as sorted rows" {
	trips sorted.csv <<'EOF'
2018-01-01 08:55:00,2018-01-01 09:10:00,1.0,7,A,X
2018-01-01 09:05:00,2018-01-01 09:20:00,1.0,9,B,Y
2018-01-01 09:30:00,2018-01-01 09:31:00,1.0,11,A,X
2018-01-01 10:00:00,2018-01-01 10:29:00,1.0,13,A,Y
2018-01-01 10:40:00,2018-01-01 11:10:00,1.0,15,B,X
2018-01-01 12:15:00,2018-01-01 12:45:00,1.0,17,A,X
2018-01-01 20:00:00,2018-01-01 20:30:00,1.0,19,B,Y
EOF
	trips shuffled.csv <<'EOF'
2018-01-01 20:00:00,2018-01-01 20:30:00,1.0,19,B,Y
2018-01-01 09:30:00,2018-01-01 09:31:00,1.0,11,A,X
2018-01-01 12:15:00,2018-01-01 12:45:00,1.0,17,A,X
2018-01-01 08:55:00,2018-01-01 09:10:00,1.0,7,A,X
2018-01-01 10:40:00,2018-01-01 11:10:00,1.0,15,B,X
2018-01-01 10:00:00,2018-01-01 10:29:00,1.0,13,A,Y
2018-01-01 09:05:00,2018-01-01 09:20:00,1.0,9,B,Y
EOF
	for spec in "$PICKUP" "$DROPOFF"; do
		ff-compute -f "$spec" sorted.csv > expected.csv
		ff-compute -f "$spec" shuffled.csv > actual.csv
		diff -u expected.csv actual.csv
	done
	ff-compute -f "$DROPOFF" shuffled.csv > actual.csv
	same actual.csv <<'EOF'
dropoff_zip,rounded_dropoff_datetime,count_trips_window_30m_dropoff_zip,dropoff_is_weekend,yyyy_mm
X,2018-01-01 09:30:00,1,0,2018-01
Y,2018-01-01 09:30:00,1,0,2018-01
X,2018-01-01 10:00:00,1,0,2018-01
Y,2018-01-01 10:30:00,1,0,2018-01
X,2018-01-01 11:30:00,1,0,2018-01
X,2018-01-01 13:00:00,1,0,2018-01
Y,2018-01-01 21:00:00,1,0,2018-01
EOF
	# Same tables in a store as well.
	ff-compute -s sorted.db -f "$PICKUP" -f "$DROPOFF" sorted.csv
	ff-compute -s shuffled.db -f "$PICKUP" -f "$DROPOFF" shuffled.csv
	for table in trip_pickup_features trip_dropoff_features; do
		q sorted.db "SELECT * FROM $table ORDER BY 1, 2" > expected
		q shuffled.db "SELECT * FROM $table ORDER BY 1, 2" > actual
		[ -s expected ]
		diff -u expected actual
	done
}

@test "a row far behind the newest is folded into its windows, whatever --lateness says" {
	trips late.csv <<'EOF'
2018-01-03 10:00:00,2018-01-03 10:10:00,1.0,10,A,X
2018-01-01 10:00:00,2018-01-01 10:10:00,1.0,20,A,X
2018-01-03 10:20:00,2018-01-03 10:10:00,1.0,30,A,X
2018-01-01 10:10:00,2018-01-01 10:10:00,1.0,40,A,X
EOF
	ff-compute -f "$PICKUP" late.csv > out.csv
	same out.csv <<'EOF'
pickup_zip,rounded_pickup_datetime,mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,yyyy_mm
A,2018-01-01 10:15:00,30,2,2018-01
A,2018-01-01 10:30:00,30,2,2018-01
A,2018-01-01 10:45:00,30,2,2018-01
A,2018-01-01 11:00:00,30,2,2018-01
A,2018-01-03 10:15:00,10,1,2018-01
A,2018-01-03 10:30:00,20,2,2018-01
A,2018-01-03 10:45:00,20,2,2018-01
A,2018-01-03 11:00:00,20,2,2018-01
A,2018-01-03 11:15:00,30,1,2018-01
EOF
	for lateness in 0 1s 1h 3d unbounded; do
		ff-compute -f "$PICKUP" --lateness $lateness late.csv > other.csv
		diff -u out.csv other.csv
	done
	# In a store as well, with -v saying how many rows came late.
	run -0 --separate-stderr ff-compute -v -s s.db -f "$PICKUP" --lateness 0 late.csv
	[[ "$stderr" == *"4 rows read, 1 folded into windows written earlier in the run"* ]]
	q s.db "SELECT pickup_zip, datetime(rounded_pickup_datetime, 'unixepoch'),
		mean_fare_window_1h_pickup_zip, count_trips_window_1h_pickup_zip, yyyy_mm
		FROM trip_pickup_features ORDER BY 2" | tr '|' ',' > store.csv
	tail -n +2 out.csv | sed 's/,30,2,/,30.0,2,/; s/,10,1,/,10.0,1,/; s/,20,2,/,20.0,2,/; s/,30,1,/,30.0,1,/' > want.csv
	diff -u want.csv store.csv
}

@test "a tiny --memory budget hands windows out early and gives the same tables" {
	for i in $(seq 0 199); do
		printf '2018-01-%02d %02d:%02d:00,2018-01-%02d %02d:%02d:00,1.0,%d,Z%d,W%d\n' \
			$((i % 28 + 1)) $((i % 24)) $((i % 60)) $((i % 28 + 1)) $((i % 24)) $((i % 60)) $i $((i % 13)) $((i % 7))
	done > body
	trips many.csv < body
	ff-compute -s big.db -f "$PICKUP" -f "$DROPOFF" --lateness unbounded many.csv
	ff-compute -s small.db -f "$PICKUP" -f "$DROPOFF" --lateness 0 --memory 1M many.csv
	for table in trip_pickup_features trip_dropoff_features; do
		q big.db "SELECT * FROM $table" > expected
		q small.db "SELECT * FROM $table" > actual
		[ -s expected ]
		diff -u expected actual
	done
	run -2 ff-compute -s x.db -f "$PICKUP" --memory 10K many.csv
	run -2 ff-compute -s x.db -f "$PICKUP" --memory lots many.csv
}

@test "rows of a second file older than the first file's are folded in" {
	trips one.csv <<'EOF'
2018-01-01 10:05:00,,,5,A,
2018-01-03 10:05:00,,,5,A,
EOF
	trips two.csv <<'EOF'
2018-01-01 10:10:00,,,7,A,
EOF
	ff-compute -f "$PICKUP" one.csv two.csv > out.csv
	grep -qx 'A,2018-01-01 10:15:00,6,2,2018-01' out.csv
	ff-compute -f "$PICKUP" two.csv one.csv > swapped.csv
	diff -u out.csv swapped.csv
}

@test "rows outside --start/--end neither count nor hold windows back" {
	trips t.csv <<'EOF'
2018-01-01 10:05:00,,,5,A,
2018-01-03 10:05:00,,,5,A,
2018-01-01 10:10:00,,,7,A,
EOF
	ff-compute -f "$PICKUP" --end '2018-01-01 12:00:00' -o out.csv t.csv
	same out.csv <<'EOF'
pickup_zip,rounded_pickup_datetime,mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,yyyy_mm
A,2018-01-01 10:15:00,6,2,2018-01
A,2018-01-01 10:30:00,6,2,2018-01
A,2018-01-01 10:45:00,6,2,2018-01
A,2018-01-01 11:00:00,6,2,2018-01
EOF
}

@test "--skip-bad does not take a late row for a bad one" {
	trips late.csv <<'EOF'
2018-01-03 10:00:00,2018-01-03 10:10:00,1.0,10,A,X
2018-01-01 10:00:00,2018-01-01 10:10:00,1.0,20,A,X
EOF
	run -0 --separate-stderr ff-compute -f "$PICKUP" --skip-bad late.csv
	assert_output - <<'EOF'
pickup_zip,rounded_pickup_datetime,mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,yyyy_mm
A,2018-01-01 10:15:00,20,1,2018-01
A,2018-01-01 10:30:00,20,1,2018-01
A,2018-01-01 10:45:00,20,1,2018-01
A,2018-01-01 11:00:00,20,1,2018-01
A,2018-01-03 10:15:00,10,1,2018-01
A,2018-01-03 10:30:00,10,1,2018-01
A,2018-01-03 10:45:00,10,1,2018-01
A,2018-01-03 11:00:00,10,1,2018-01
EOF
	[ -z "$stderr" ]
}

# ---- bad input ---------------------------------------------------------

@test "bad timestamp: exit 1, FILE:LINE: column, nothing written" {
	trips bad.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
2018-02-30 10:05:00,2018-02-30 10:20:00,1.0,10,A,X
EOF
	run -1 --separate-stderr ff-compute -f "$PICKUP" -o out.csv bad.csv
	stderr_is "^ff-compute: bad\.csv:3: column 'tpep_pickup_datetime': .*2018-02-30 10:05:00"
	no_output
	[ ! -e out.csv ]
	for t in '2018-01-01 24:00:00' '01/01/2018 10:05:00' '2018-01-01 10:05:00Y' \
		'2018-01-01 10:05:00 UTC' '2018-01-01 10:05:00.' '2018-01-01 10:05:00+1'; do
		trips bad.csv <<<"$t,,,1,A,"
		run -1 --separate-stderr ff-compute -f "$PICKUP" -o out.csv bad.csv
		stderr_is "^ff-compute: bad\.csv:2: column 'tpep_pickup_datetime': "
		[ ! -e out.csv ]
	done
}

@test "bad number: exit 1, FILE:LINE: column 'fare_amount'" {
	for fare in 12.5x abc 1..2 ' 3' '3 '; do
		trips bad.csv <<<"2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,$fare,A,X"
		run -1 --separate-stderr ff-compute -f "$PICKUP" -o out.csv bad.csv
		stderr_is "^ff-compute: bad\.csv:2: column 'fare_amount': .*'$fare'"
		no_output
		[ ! -e out.csv ]
	done
	# The dropoff table does not read fares: no error there.
	ff-compute -f "$DROPOFF" bad.csv > out.csv
	same out.csv <<'EOF'
dropoff_zip,rounded_dropoff_datetime,count_trips_window_30m_dropoff_zip,dropoff_is_weekend,yyyy_mm
X,2018-01-01 10:30:00,1,0,2018-01
EOF
}

@test "empty time: exit 1, FILE:LINE: column" {
	trips bad.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
2018-01-01 10:06:00,,1.0,10,A,X
EOF
	run -1 --separate-stderr ff-compute -f "$DROPOFF" -o out.csv bad.csv
	stderr_is "^ff-compute: bad\.csv:3: column 'tpep_dropoff_datetime': .*empty"
	no_output
	[ ! -e out.csv ]
}

@test "wrong field count: exit 1, FILE:LINE names the counts" {
	trips bad.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A
EOF
	run -1 --separate-stderr ff-compute -f "$PICKUP" -o out.csv bad.csv
	stderr_is "^ff-compute: bad\.csv:3: .*5 fields"
	[ ! -e out.csv ]
	trips bad.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X,extra
EOF
	run -1 --separate-stderr ff-compute -f "$PICKUP" -o out.csv bad.csv
	stderr_is "^ff-compute: bad\.csv:2: .*7 fields"
	[ ! -e out.csv ]
}

@test "line numbers count physical lines: blank lines and quoted newlines" {
	printf '%s\n%s\n%s\n\n%s\n' "$HDR" \
		'2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,"A' \
		'B",X' \
		'2018-01-01 10:06:00,2018-01-01 10:20:00,1.0,zz,A,X' > bad.csv
	run -1 --separate-stderr ff-compute -f "$PICKUP" bad.csv
	stderr_is "^ff-compute: bad\.csv:5: column 'fare_amount': "
}

@test "CRLF line ends give the same table as LF" {
	sliding_input
	sed 's/$/\r/' t.csv > crlf.csv
	ff-compute -f "$PICKUP" t.csv > expected.csv
	ff-compute -f "$PICKUP" crlf.csv > actual.csv
	diff -u expected.csv actual.csv
}

@test "a column missing from the header: exit 1, names the column" {
	printf '%s\n%s\n' tpep_pickup_datetime,pickup_zip '2018-01-01 10:05:00,A' > bad.csv
	run -1 --separate-stderr ff-compute -f "$PICKUP" -o out.csv bad.csv
	stderr_is "^ff-compute: bad\.csv:1: .*'fare_amount'"
	[ ! -e out.csv ]
	printf '%s\n%s\n' tpep_pickup_datetime,fare_amount '2018-01-01 10:05:00,1' > bad.csv
	run -1 --separate-stderr ff-compute -f "$PICKUP" bad.csv
	stderr_is "^ff-compute: bad\.csv:1: .*'pickup_zip'"
	printf '%s\n%s\n' pickup_zip,fare_amount 'A,1' > bad.csv
	run -1 --separate-stderr ff-compute -f "$PICKUP" bad.csv
	stderr_is "^ff-compute: bad\.csv:1: .*'tpep_pickup_datetime'"
}

@test "empty input: exit 1; a header alone gives an empty table" {
	: > empty.csv
	run -1 --separate-stderr ff-compute -f "$PICKUP" -o out.csv empty.csv
	stderr_is "^ff-compute: empty\.csv: .*empty"
	[ ! -e out.csv ]
	run -1 --separate-stderr ff-compute -f "$PICKUP" < /dev/null
	stderr_is "^ff-compute: stdin: .*empty"

	trips header.csv < /dev/null
	run -0 --separate-stderr ff-compute -f "$PICKUP" header.csv
	assert_output pickup_zip,rounded_pickup_datetime,mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,yyyy_mm
	[ -z "$stderr" ]
}

@test "errors in stdin are named stdin" {
	trips bad.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,ten,A,X
EOF
	run -1 --separate-stderr ff-compute -f "$PICKUP" < bad.csv
	stderr_is "^ff-compute: stdin:3: column 'fare_amount': .*'ten'"
	run -1 --separate-stderr ff-compute -f "$PICKUP" - < bad.csv
	stderr_is "^ff-compute: stdin:3: column 'fare_amount': .*'ten'"
}

@test "a missing input file: exit 1, names it" {
	run -1 --separate-stderr ff-compute -f "$PICKUP" -o out.csv nope.csv
	stderr_is "^ff-compute: nope\.csv: No such file or directory$"
	[ ! -e out.csv ]
}

@test "--skip-bad: skips bad rows, counts them per reason, keeps the good rows" {
	trips t.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
2018-01-01 25:05:00,2018-01-01 10:20:00,1.0,10,A,X
2018-01-01 10:06:00,2018-01-01 10:20:00,1.0,x,A,X
,2018-01-01 10:20:00,1.0,10,A,X
2018-01-01 10:07:00,2018-01-01 10:20:00,1.0,10,A
2018-01-01 10:08:00,2018-01-01 10:20:00,1.0,1..2,A,X
2018-01-01 10:10:00,2018-01-01 10:20:00,1.0,20,A,X
EOF
	run -0 --separate-stderr ff-compute -f "$PICKUP" --skip-bad --max-bad 5 t.csv
	assert_output - <<'EOF'
pickup_zip,rounded_pickup_datetime,mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,yyyy_mm
A,2018-01-01 10:15:00,15,2,2018-01
A,2018-01-01 10:30:00,15,2,2018-01
A,2018-01-01 10:45:00,15,2,2018-01
A,2018-01-01 11:00:00,15,2,2018-01
EOF
	local summary
	summary=$(grep 'skipped 5 bad rows' <<<"$stderr")
	[[ "$summary" == ff-compute:* ]]
	[[ "$summary" == *"1 bad timestamp"* ]]
	[[ "$summary" == *"2 bad number"* ]]
	[[ "$summary" == *"1 empty time"* ]]
	[[ "$summary" == *"1 wrong field count"* ]]
	# Each skipped row is named by file:line.
	for line in 3 4 5 6 7; do
		grep -q "t\.csv:$line:" <<<"$stderr"
	done
	! grep -q 't\.csv:[28]:' <<<"$stderr" || false

	# In a store, too, the table holds the good rows only; -q silences the
	# warnings about each row, not the count of the rows left out.
	run -0 --separate-stderr ff-compute -q -s store.db -f "$PICKUP" --skip-bad --max-bad 100% t.csv
	[ "$stderr" = "ff-compute: skipped 5 bad rows (1 bad timestamp, 2 bad number, 1 empty time, 1 wrong field count)" ]
	run q store.db "SELECT pickup_zip, rounded_pickup_datetime, mean_fare_window_1h_pickup_zip,
		count_trips_window_1h_pickup_zip FROM trip_pickup_features ORDER BY 2"
	assert_output - <<EOF
A|$T10_15|15.0|2
A|$T10_30|15.0|2
A|$T10_45|15.0|2
A|$T11_00|15.0|2
EOF
}

@test "--max-bad: past it the run fails, names the count and the limit, writes nothing" {
	{
		for i in $(seq 10 59); do
			echo "2018-01-01 10:$i:00,2018-01-01 11:00:00,1.0,10,A,X"
		done
		echo "2018-01-01 10:00:00,2018-01-01 11:00:00,1.0,n/a,A,X"
		echo "2018-01-01 10:01:00,2018-01-01 11:00:00,1.0,n/a,A,X"
	} | trips t.csv
	# 2 bad rows of 52: more than the default 1% (0 rows) allows.
	run -1 --separate-stderr ff-compute -s store.db -f "$PICKUP" --skip-bad t.csv
	[[ "$stderr" == *"ff-compute: 2 of 52 rows are bad, more than --max-bad 1% allows (0); nothing written" ]]
	[ ! -e store.db ]
	run -1 --separate-stderr ff-compute -o out.csv -f "$PICKUP" --skip-bad --max-bad 1 t.csv
	[[ "$stderr" == *"ff-compute: 2 of 52 rows are bad, more than --max-bad 1 allows (1); nothing written" ]]
	[ ! -e out.csv ]
	no_output
	# An existing store is left as it was.
	run -0 ff-compute -s store.db -f "$PICKUP" --skip-bad --max-bad 2 t.csv
	cp store.db before.db
	sed -i 's/,10,A,X$/,11,A,X/' t.csv
	run -1 --separate-stderr ff-compute -s store.db -f "$PICKUP" --skip-bad --max-bad 3% t.csv
	[[ "$stderr" == *"more than --max-bad 3% allows (1); nothing written" ]]
	cmp store.db before.db
	# Within the limit the run succeeds.
	run -0 --separate-stderr ff-compute -f "$PICKUP" --skip-bad --max-bad 4% t.csv
	[[ "$stderr" == *"skipped 2 bad rows (2 bad number)" ]]
	run -2 --separate-stderr ff-compute -f "$PICKUP" --skip-bad --max-bad 101% t.csv
	[[ "$stderr" == "ff-compute: bad --max-bad '101%': a number of rows such as 100, or a percentage such as 1%"* ]]
}

@test "--delimiter: a ';' file computes the tables of its comma form" {
	trips t.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
2018-01-01 10:10:00,2018-01-01 10:20:00,1.0,20,A,X
EOF
	run -0 ff-compute -f "$PICKUP" t.csv
	echo "$output" > comma.out
	tr , ';' < t.csv > semi.csv
	run -0 ff-compute -f "$PICKUP" --delimiter ';' semi.csv
	diff -u comma.out - <<<"$output"
	run -1 --separate-stderr ff-compute -f "$PICKUP" semi.csv
	[[ "$stderr" == *"is the file delimited by ';'?"* ]]
}

@test "--wait: a store another run holds is waited for, then named as held" {
	trips t.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
EOF
	run -0 ff-compute -s store.db -f "$PICKUP" t.csv
	cp store.db before.db
	# Another writer holds the store for 5 s.
	{ echo 'BEGIN IMMEDIATE;'; sleep 5; echo 'COMMIT;'; } | sqlite3 store.db &
	local holder=$!
	sleep 0.5
	sed -i 's/,10,A,X$/,11,A,X/' t.csv
	SECONDS=0
	run -1 --separate-stderr ff-compute --wait 1 -s store.db -f "$PICKUP" t.csv
	local took=$SECONDS
	wait "$holder"
	[ "$stderr" = "ff-compute: store.db: another ff run is writing this store (waited 1 s); try again or raise --wait" ]
	[ "$took" -lt 4 ]
	cmp store.db before.db
	run -2 --separate-stderr ff-compute --wait soon -s store.db -f "$PICKUP" t.csv
	[[ "$stderr" == "ff-compute: bad --wait 'soon': a number from 0 to 86400"* ]]
}

@test "a row bad for one table is left out of every table of the run" {
	trips t.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
2018-01-01 10:06:00,2018-01-01 10:21:00,1.0,oops,A,X
EOF
	run -0 --separate-stderr ff-compute -s store.db -f "$PICKUP" -f "$DROPOFF" --skip-bad --max-bad 1 t.csv
	[[ "$stderr" == *"skipped 1 bad row (1 bad number)"* ]]
	[ "$(grep -c 't\.csv:3:' <<<"$stderr")" -eq 1 ]
	run q store.db "SELECT dropoff_zip, count_trips_window_30m_dropoff_zip FROM trip_dropoff_features"
	assert_output "X|1"
	run q store.db "SELECT DISTINCT count_trips_window_1h_pickup_zip FROM trip_pickup_features"
	assert_output 1
}

@test "--skip-bad reports the first ten bad rows, then the count" {
	for i in $(seq 10 21); do
		echo "2018-01-01 10:$i:00,,,x$i,A,"
	done | trips t.csv
	run -0 --separate-stderr ff-compute -f "$PICKUP" --skip-bad --max-bad 100% t.csv
	assert_output pickup_zip,rounded_pickup_datetime,mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,yyyy_mm
	printf '%s\n' "$stderr" > err
	[ "$(grep -c "t\.csv:" err)" -eq 10 ]
	grep -q "t\.csv:11:.*'x19'" err
	! grep -q "t\.csv:12:" err || false
	[ "$(wc -l < err)" -eq 11 ]
	[[ "$(tail -1 err)" == *"skipped 12 bad rows (12 bad number)"* ]]
}

# ---- the store: atomicity, idempotence, ranges, merge ------------------

@test "a failed run leaves an existing store untouched" {
	sliding_input
	ff-compute -s store.db -f "$PICKUP" -f "$DROPOFF" t.csv
	sqlite3 store.db .dump > before.sql
	trips bad.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,99,a,X
2018-01-01 11:05:00,2018-01-01 11:20:00,1.0,99,new,X
2018-01-03 11:05:00,2018-01-03 11:20:00,1.0,99,new,X
2018-01-03 11:05:00,2018-01-03 11:20:00,1.0,oops,new,X
EOF
	run -1 --separate-stderr ff-compute -s store.db -f "$PICKUP" -f "$DROPOFF" bad.csv
	stderr_is "^ff-compute: bad\.csv:5: column 'fare_amount': "
	sqlite3 store.db .dump > after.sql
	diff -u before.sql after.sql
	run -1 --separate-stderr ff-compute -s store.db --mode overwrite -f "$PICKUP" bad.csv
	sqlite3 store.db .dump > after.sql
	diff -u before.sql after.sql
}

@test "a failed run leaves no store when there was none" {
	trips bad.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
2018-01-01 12:05:00,2018-01-01 12:20:00,1.0,10,B,X
2018-01-03 10:05:00,2018-01-03 10:20:00,1.0,10,A,X
2018-01-03 10:05:00,,1.0,10,A,X
EOF
	run -1 --separate-stderr ff-compute -s store.db -f "$PICKUP" -f "$DROPOFF" bad.csv
	stderr_is "^ff-compute: bad\.csv:5: column 'tpep_dropoff_datetime': "
	run ls -A
	assert_output bad.csv
}

@test "a file that is not an ff store is refused and left as it was" {
	sliding_input
	sqlite3 other.db "CREATE TABLE x (a); INSERT INTO x VALUES (1)"
	sqlite3 other.db .dump > before.sql
	run -1 --separate-stderr ff-compute -s other.db -f "$PICKUP" t.csv
	stderr_is "^ff-compute: other\.db: .*not an ff store"
	sqlite3 other.db .dump > after.sql
	diff -u before.sql after.sql
	echo "not sqlite at all" > text.db
	run -1 --separate-stderr ff-compute -s text.db -f "$PICKUP" t.csv
	[[ "$stderr" == "ff-compute: text.db: "* ]]
	same text.db <<<"not sqlite at all"
}

@test "rerunning the same command changes nothing and records no version" {
	sliding_input
	ff-compute -s store.db -f "$PICKUP" -f "$DROPOFF" t.csv
	sqlite3 store.db .dump > before.sql
	run q store.db "SELECT table_name, version, operation, inserted, updated, deleted FROM ff_versions ORDER BY 1, 2"
	assert_output - <<'EOF'
trip_dropoff_features|1|create|2|0|0
trip_pickup_features|1|create|16|0|0
EOF
	run -0 ff-compute -s store.db -f "$PICKUP" -f "$DROPOFF" t.csv
	sqlite3 store.db .dump > after.sql
	diff -u before.sql after.sql
	for spec in "$PICKUP" "$DROPOFF"; do
		run -0 ff-compute -s store.db --mode overwrite -f "$spec" t.csv
		sqlite3 store.db .dump > after.sql
		diff -u before.sql after.sql
	done
}

@test "--start/--end keep exactly the windows whose end is in (start, end]" {
	trips t.csv <<'EOF'
2018-01-01 09:40:00,2018-01-01 09:50:00,1.0,30,C,X
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
2018-01-01 10:20:00,2018-01-01 10:40:00,1.0,20,B,X
EOF
	ff-compute -f "$PICKUP" --start '2018-01-01 10:15:00' --end '2018-01-01 11:00:00' t.csv > out.csv
	# C, a trip before --start, is in the window ending 10:30; 10:15 == start
	# and 11:15 > end are left out.
	same out.csv <<'EOF'
pickup_zip,rounded_pickup_datetime,mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,yyyy_mm
A,2018-01-01 10:30:00,10,1,2018-01
B,2018-01-01 10:30:00,20,1,2018-01
C,2018-01-01 10:30:00,30,1,2018-01
A,2018-01-01 10:45:00,10,1,2018-01
B,2018-01-01 10:45:00,20,1,2018-01
A,2018-01-01 11:00:00,10,1,2018-01
B,2018-01-01 11:00:00,20,1,2018-01
EOF
	ff-compute -f "$PICKUP" --start 2018-01-01T11:00:00 t.csv > out.csv
	same out.csv <<'EOF'
pickup_zip,rounded_pickup_datetime,mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,yyyy_mm
B,2018-01-01 11:15:00,20,1,2018-01
EOF
	ff-compute -f "$DROPOFF" --end 2018-01-01 t.csv > out.csv
	same out.csv <<'EOF'
dropoff_zip,rounded_dropoff_datetime,count_trips_window_30m_dropoff_zip,dropoff_is_weekend,yyyy_mm
EOF
	ff-compute -f "$DROPOFF" --start 2018-01-01 --end '2018-01-01 10:30:00' t.csv > out.csv
	same out.csv <<'EOF'
dropoff_zip,rounded_dropoff_datetime,count_trips_window_30m_dropoff_zip,dropoff_is_weekend,yyyy_mm
X,2018-01-01 10:00:00,1,0,2018-01
X,2018-01-01 10:30:00,1,0,2018-01
EOF
}

@test "ranges: [a,b] then [b,c] leave the same tables as [a,c]" {
	trips t.csv <<'EOF'
2018-01-01 09:10:00,2018-01-01 09:30:00,1.0,10,A,X
2018-01-01 10:20:00,2018-01-01 10:40:00,1.0,20,A,X
2018-01-01 10:29:59,2018-01-01 10:49:59,1.0,5,B,Y
2018-01-01 11:40:00,2018-01-01 11:59:59,1.0,40,A,X
EOF
	a='2018-01-01 09:00:00' b='2018-01-01 10:30:00' c='2018-01-01 12:00:00'
	ff-compute -s split.db -f "$PICKUP" -f "$DROPOFF" --start "$a" --end "$b" t.csv
	ff-compute -s split.db -f "$PICKUP" -f "$DROPOFF" --start "$b" --end "$c" t.csv
	ff-compute -s whole.db -f "$PICKUP" -f "$DROPOFF" --start "$a" --end "$c" t.csv
	for table in trip_pickup_features trip_dropoff_features; do
		q whole.db "SELECT * FROM $table ORDER BY 1, 2" > expected
		q split.db "SELECT * FROM $table ORDER BY 1, 2" > actual
		diff -u expected actual
	done
	run q split.db "SELECT table_name, version, range_start, range_end FROM ff_versions ORDER BY 1, 2"
	assert_output - <<'EOF'
trip_dropoff_features|1|1514797200|1514802600
trip_dropoff_features|2|1514802600|1514808000
trip_pickup_features|1|1514797200|1514802600
trip_pickup_features|2|1514802600|1514808000
EOF
	run q whole.db "SELECT pickup_zip, datetime(rounded_pickup_datetime, 'unixepoch'),
		mean_fare_window_1h_pickup_zip, count_trips_window_1h_pickup_zip
		FROM trip_pickup_features ORDER BY 1, 2"
	assert_output - <<'EOF'
A|2018-01-01 09:15:00|10.0|1
A|2018-01-01 09:30:00|10.0|1
A|2018-01-01 09:45:00|10.0|1
A|2018-01-01 10:00:00|10.0|1
A|2018-01-01 10:30:00|20.0|1
A|2018-01-01 10:45:00|20.0|1
A|2018-01-01 11:00:00|20.0|1
A|2018-01-01 11:15:00|20.0|1
A|2018-01-01 11:45:00|40.0|1
A|2018-01-01 12:00:00|40.0|1
B|2018-01-01 10:30:00|5.0|1
B|2018-01-01 10:45:00|5.0|1
B|2018-01-01 11:00:00|5.0|1
B|2018-01-01 11:15:00|5.0|1
EOF
	run q whole.db "SELECT dropoff_zip, datetime(rounded_dropoff_datetime, 'unixepoch'),
		count_trips_window_30m_dropoff_zip FROM trip_dropoff_features ORDER BY 1, 2"
	assert_output - <<'EOF'
X|2018-01-01 10:00:00|1
X|2018-01-01 11:00:00|1
X|2018-01-01 12:00:00|1
Y|2018-01-01 11:00:00|1
EOF
}

@test "merge folds new events in and logs update/insert; overwrite recomputes, deletes and logs delete" {
	trips v1.csv <<'EOF'
2018-01-01 10:00:00,2018-01-01 10:10:00,1.0,10,A,X
2018-01-01 10:00:00,2018-01-01 10:20:00,1.0,10,A,X
2018-01-01 10:00:00,2018-01-01 10:40:00,1.0,10,A,Y
EOF
	ff-compute -s store.db -f "$DROPOFF" v1.csv
	run q store.db "SELECT * FROM trip_dropoff_features ORDER BY 1, 2"
	assert_output - <<EOF
X|$T10_30|2|0|2018-01
Y|$T11_00|1|0|2018-01
EOF
	# Merge: X's count grows by the new trip, Z is new among the stored
	# windows, W is new after them (appended), Y has no new trip and stays.
	trips v2.csv <<'EOF'
2018-01-01 10:00:00,2018-01-01 10:10:00,1.0,10,A,X
2018-01-01 10:00:00,2018-01-01 10:50:00,1.0,10,A,Z
2018-01-01 10:00:00,2018-01-01 11:10:00,1.0,10,A,W
EOF
	ff-compute -s store.db -f "$DROPOFF" v2.csv
	run q store.db "SELECT * FROM trip_dropoff_features ORDER BY 2, 1"
	assert_output - <<EOF
X|$T10_30|3|0|2018-01
Y|$T11_00|1|0|2018-01
Z|$T11_00|1|0|2018-01
W|$T11_30|1|0|2018-01
EOF
	run q store.db "SELECT version, op, dropoff_zip, rounded_dropoff_datetime
		FROM ff_changes_trip_dropoff_features WHERE version = 2 ORDER BY dropoff_zip"
	assert_output - <<EOF
2|update|X|$T10_30
2|insert|Z|$T11_00
EOF
	# Overwrite: X is recomputed from the one trip given, Y, Z and W are gone.
	trips v3.csv <<'EOF'
2018-01-01 10:00:00,2018-01-01 10:10:00,1.0,10,A,X
EOF
	ff-compute -s store.db --mode overwrite -f "$DROPOFF" v3.csv
	run q store.db "SELECT * FROM trip_dropoff_features ORDER BY 1, 2"
	assert_output "X|$T10_30|1|0|2018-01"
	run q store.db "SELECT version, op, dropoff_zip, rounded_dropoff_datetime
		FROM ff_changes_trip_dropoff_features WHERE version >= 3 ORDER BY version, dropoff_zip"
	assert_output - <<EOF
3|delete|W|$T11_30
3|update|X|$T10_30
3|delete|Y|$T11_00
3|delete|Z|$T11_00
EOF
	run q store.db "SELECT table_name, version, operation, inserted, updated, deleted, appended_from
		FROM ff_versions ORDER BY 2"
	assert_output - <<EOF
trip_dropoff_features|1|create|2|0|0|$T10_30
trip_dropoff_features|2|merge|2|1|0|$T11_30
trip_dropoff_features|3|overwrite|0|1|3|
EOF
	run q store.db "SELECT version FROM ff_catalog WHERE name = 'trip_dropoff_features'"
	assert_output 3
}

@test "overwrite with a range deletes only the rows of that range" {
	trips v1.csv <<'EOF'
2018-01-01 10:00:00,2018-01-01 10:10:00,1.0,10,A,X
2018-01-01 10:00:00,2018-01-01 10:40:00,1.0,10,A,Y
2018-01-01 10:00:00,2018-01-01 10:50:00,1.0,10,A,Z
EOF
	ff-compute -s store.db -f "$DROPOFF" v1.csv
	trips v2.csv <<'EOF'
2018-01-01 10:00:00,2018-01-01 10:40:00,1.0,10,A,Y
EOF
	ff-compute -s store.db --mode overwrite --start '2018-01-01 10:30:00' --end '2018-01-01 11:00:00' \
		-f "$DROPOFF" v2.csv
	# X ends at 10:30, outside (10:30, 11:00]: kept although not in the input.
	run q store.db "SELECT * FROM trip_dropoff_features ORDER BY 1, 2"
	assert_output - <<EOF
X|$T10_30|1|0|2018-01
Y|$T11_00|1|0|2018-01
EOF
	run q store.db "SELECT version, op, dropoff_zip, rounded_dropoff_datetime
		FROM ff_changes_trip_dropoff_features ORDER BY 1, 3"
	assert_output "2|delete|Z|$T11_00"
}

@test "overwrite with several specs in one run replaces every table" {
	sliding_input
	ff-compute -s store.db -f "$PICKUP" -f "$DROPOFF" t.csv
	# Only trip a is left: b, c, d go from the pickup table, and the dropoff
	# window ending 11:00 (of b, c, d) goes.
	head -2 t.csv > a.csv
	run -0 --separate-stderr ff-compute -s store.db --mode overwrite -f "$PICKUP" -f "$DROPOFF" a.csv
	[ -z "$stderr" ]
	run q store.db "SELECT pickup_zip, rounded_pickup_datetime, count_trips_window_1h_pickup_zip
		FROM trip_pickup_features ORDER BY 2, 1"
	assert_output - <<EOF
a|$T10_15|1
a|$T10_30|1
a|$T10_45|1
a|$T11_00|1
EOF
	run q store.db "SELECT dropoff_zip, rounded_dropoff_datetime, count_trips_window_30m_dropoff_zip
		FROM trip_dropoff_features"
	assert_output "X|$T10_30|1"
	run q store.db "SELECT table_name, version, operation, inserted, updated, deleted
		FROM ff_versions WHERE version = 2 ORDER BY 1"
	assert_output - <<'EOF'
trip_dropoff_features|2|overwrite|0|0|1
trip_pickup_features|2|overwrite|0|0|12
EOF
}

@test "a changed spec fails mentioning --replace; --replace replaces the table" {
	trips t.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
EOF
	ff-compute -s store.db -f "$PICKUP" t.csv
	sqlite3 store.db .dump > before.sql
	sed 's/^window .*/window        2h/' "$PICKUP" > two_hours.spec
	run -1 --separate-stderr ff-compute -s store.db -f two_hours.spec t.csv
	stderr_is "^ff-compute: .*trip_pickup_features.*--replace"
	sqlite3 store.db .dump > after.sql
	diff -u before.sql after.sql

	run -0 --separate-stderr ff-compute -s store.db -f two_hours.spec --replace t.csv
	# 10:05 is in the 2 h windows starting 08:15 .. 10:00.
	run q store.db "SELECT pickup_zip, datetime(rounded_pickup_datetime, 'unixepoch'),
		mean_fare_window_1h_pickup_zip, count_trips_window_1h_pickup_zip, yyyy_mm
		FROM trip_pickup_features ORDER BY 2"
	assert_output - <<'EOF'
A|2018-01-01 10:15:00|10.0|1|2018-01
A|2018-01-01 10:30:00|10.0|1|2018-01
A|2018-01-01 10:45:00|10.0|1|2018-01
A|2018-01-01 11:00:00|10.0|1|2018-01
A|2018-01-01 11:15:00|10.0|1|2018-01
A|2018-01-01 11:30:00|10.0|1|2018-01
A|2018-01-01 11:45:00|10.0|1|2018-01
A|2018-01-01 12:00:00|10.0|1|2018-01
EOF
	run q store.db "SELECT version, operation, inserted, updated, deleted FROM ff_versions ORDER BY 1"
	assert_output - <<'EOF'
1|create|4|0|0
2|replace|8|0|0
EOF
	run q store.db "SELECT version, definition LIKE '%window 2h%' FROM ff_catalog"
	assert_output "2|1"
}

@test "a spec differing in layout, comments, avg for mean or duration spelling is the same table" {
	trips t.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
EOF
	ff-compute -s store.db -f "$PICKUP" t.csv
	sqlite3 store.db .dump > before.sql
	cat > alt.spec <<'EOF'
# the pickup table, written another way
table trip_pickup_features
time tpep_pickup_datetime   # the pickup time
key pickup_zip
timestamp-key rounded_pickup_datetime
window 60m
slide 900s
partition yyyy_mm
feature mean_fare_window_1h_pickup_zip = avg( fare_amount )
describe mean_fare_window_1h_pickup_zip=Mean fare of the trips starting in the zip during the hour before the window end
feature count_trips_window_1h_pickup_zip=count( * )
describe count_trips_window_1h_pickup_zip=Number of trips starting in the zip during the hour before the window end
EOF
	run -0 --separate-stderr ff-compute -s store.db -f alt.spec t.csv
	# The same table: the same batch is folded in already.
	stderr_is "^ff-compute: warning: t\.csv: already folded into the table \(version 1\); nothing written$"
	sqlite3 store.db .dump > after.sql
	diff -u before.sql after.sql
}

@test "a changed description alone needs no --replace and records no version" {
	trips t.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
EOF
	ff-compute -s store.db -f "$DROPOFF" t.csv
	sed 's/^describe dropoff_is_weekend=.*/describe dropoff_is_weekend=Saturday or Sunday/' \
		"$DROPOFF" > described.spec
	ff-compute -s store.db -f described.spec t.csv
	run q store.db "SELECT description FROM ff_columns WHERE name = 'dropoff_is_weekend'"
	assert_output "Saturday or Sunday"
	run q store.db "SELECT count(*) FROM ff_versions"
	assert_output 1
}

# ---- options -----------------------------------------------------------

@test "--help and -h: usage on stdout, exit 0" {
	for opt in --help -h; do
		run -0 --separate-stderr ff-compute "$opt"
		[[ "${lines[0]}" == "usage: ff-compute "* ]]
		[[ "$output" == *--lateness* ]]
		[ -z "$stderr" ]
	done
}

@test "--version and -V: exit 0" {
	for opt in --version -V; do
		run -0 --separate-stderr ff-compute "$opt"
		assert_output --regexp '^ff-compute \(ff\) [0-9]+\.[0-9]+'
		[ "${#lines[@]}" -eq 1 ]
		[ -z "$stderr" ]
	done
}

@test "an unknown option: exit 2, short usage on stderr" {
	sliding_input
	run -2 --separate-stderr ff-compute --frobnicate -f "$PICKUP" t.csv
	no_output
	[[ "$stderr" == *frobnicate* ]]
	[[ "$stderr" == *"--help"* ]]
}

@test "bad --mode, --lateness, --window, --start, --end values: exit 2" {
	sliding_input
	local -a cases=(
		"--mode append"
		"--lateness soon"
		"--lateness -1h"
		"--lateness 1x"
		"--start yesterday"
		"--start 2018-02-30"
		"--end 2018-01-01T25:00:00"
	)
	for c in "${cases[@]}"; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr ff-compute -f "$PICKUP" -o out.csv $c t.csv
		no_output
		[ -n "$stderr" ]
		[ ! -e out.csv ]
	done
	run -2 --separate-stderr ff-compute -f "$PICKUP" --start 2018-01-02 --end 2018-01-01 t.csv
	no_output
	local -a table=(--table t --time tpep_pickup_datetime --key pickup_zip --feature 'n=count(*)')
	for w in 90x 0m '' 1h-5m; do
		run -2 --separate-stderr ff-compute "${table[@]}" --window "$w" -o out.csv t.csv
		no_output
		[[ "$stderr" == *window* ]]
		[ ! -e out.csv ]
	done
	run -2 --separate-stderr ff-compute "${table[@]}" --window 15m --slide 1h t.csv
	[[ "$stderr" == *slide* ]]
	run -2 --separate-stderr ff-compute "${table[@]}" t.csv
	[[ "$stderr" == *window* ]]
	run -2 --separate-stderr ff-compute "${table[@]}" --window 1h --feature 'm=median(fare_amount)' t.csv
	[[ "$stderr" == *median* ]]
}

@test "--spec and inline table options together: exit 2" {
	sliding_input
	run -2 --separate-stderr ff-compute -f "$PICKUP" --window 2h t.csv
	no_output
	[ -n "$stderr" ]
}

@test "no table, several specs without --store, --output with --store: exit 2" {
	sliding_input
	run -2 --separate-stderr ff-compute t.csv
	no_output
	[ -n "$stderr" ]
	run -2 --separate-stderr ff-compute -f "$PICKUP" -f "$DROPOFF" t.csv
	no_output
	[[ "$stderr" == *--store* ]]
	run -2 --separate-stderr ff-compute -s store.db -o out.csv -f "$PICKUP" t.csv
	no_output
	[ ! -e store.db ]
	[ ! -e out.csv ]
}

@test "--output FILE writes the CSV; a failed run leaves FILE as it was" {
	sliding_input
	ff-compute -f "$PICKUP" t.csv > expected.csv
	run -0 --separate-stderr ff-compute -f "$PICKUP" -o out.csv t.csv
	no_output
	diff -u expected.csv out.csv
	run -0 --separate-stderr ff-compute -f "$PICKUP" --output out2.csv t.csv
	diff -u expected.csv out2.csv

	echo old > out.csv
	trips bad.csv <<<"2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,bad,A,X"
	run -1 --separate-stderr ff-compute -f "$PICKUP" -o out.csv bad.csv
	same out.csv <<<old
	run ls -A
	assert_output - <<'EOF'
bad.csv
expected.csv
out.csv
out2.csv
t.csv
EOF
}

@test "input from stdin, from '-', from several files" {
	sliding_input
	ff-compute -f "$PICKUP" t.csv > expected.csv
	ff-compute -f "$PICKUP" < t.csv > stdin.csv
	diff -u expected.csv stdin.csv
	ff-compute -f "$PICKUP" - < t.csv > dash.csv
	diff -u expected.csv dash.csv
	ff-compute -f "$PICKUP" -o - t.csv > dash_output.csv
	diff -u expected.csv dash_output.csv

	# The same rows in two files, each with its header, the second one with
	# its columns in another order.
	{ head -1 t.csv; sed -n 2,3p t.csv; } > one.csv
	sed -n '4,$p' t.csv | awk -F, -v OFS=, 'BEGIN { print "pickup_zip,fare_amount,dropoff_zip,trip_distance,tpep_dropoff_datetime,tpep_pickup_datetime" }
		{ print $5, $4, $6, $3, $2, $1 }' > two.csv
	ff-compute -f "$PICKUP" one.csv two.csv > both.csv
	diff -u expected.csv both.csv
	ff-compute -f "$PICKUP" one.csv - < two.csv > both.csv
	diff -u expected.csv both.csv

	# An error in the second file names that file.
	trips bad.csv <<<"2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,bad,A,X"
	run -1 --separate-stderr ff-compute -f "$PICKUP" one.csv bad.csv
	stderr_is "^ff-compute: bad\.csv:2: column 'fare_amount': "
}

@test "ff-compute | head -1 ends quietly" {
	awk 'BEGIN {
		print "tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,fare_amount,pickup_zip,dropoff_zip"
		for (i = 0; i < 20000; i++)
			printf "2018-01-01 %02d:%02d:%02d,2018-01-01 23:59:59,1.0,%d,%d,%d\n",
				int(i / 3600), int(i / 60) % 60, i % 60, i % 50, i % 1000, i % 1000
	}' > big.csv
	run -0 --separate-stderr bash -c 'ff-compute -f "$1" big.csv | head -1' _ "$PICKUP"
	assert_output pickup_zip,rounded_pickup_datetime,mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,yyyy_mm
	[ -z "$stderr" ]
}

# ---- against an independent oracle ------------------------------------

# oracle CSV: compare the taxi tables of store.db with what sqlite3 computes
# from CSV by itself (tests/fixtures/compute/oracle.sql).
oracle() {
	TZ=America/New_York sqlite3 -batch :memory: -cmd '.mode csv' -cmd ".import $1 trips" \
		-cmd '.mode list' < "$FIXTURES/oracle.sql"
}

@test "real sample: both taxi specs match an oracle computed by sqlite3" {
	need_sample
	run -0 --separate-stderr ff-compute -s store.db -f "$PICKUP" -f "$DROPOFF" --lateness 35d \
		"$SHARED_DATA/nyctaxi_sample.csv"
	[ -z "$stderr" ]
	run -0 oracle "$SHARED_DATA/nyctaxi_sample.csv"
	assert_output - <<'EOF'
pickup|392864|392864|0|0|0
dropoff|109818|109818|0|0|0
weekend rows|1
EOF
}

@test "many keys, unsorted within the lateness: both taxi specs match the oracle" {
	# 30000 trips over 20000 pickup zips and 5000 dropoff zips, in random order
	# within about 2 hours.
	awk 'BEGIN {
		srand(7)
		print "tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,fare_amount,pickup_zip,dropoff_zip"
		for (i = 0; i < 30000; i++) {
			t = 1514764800 + int(rand() * 7200) + int(i / 10)
			z = int(rand() * 20000)
			printf "%s,%s,1.0,%s,z%d,d%d\n", strftime("%Y-%m-%d %H:%M:%S", t, 1),
				strftime("%Y-%m-%d %H:%M:%S", t + 600 + i % 900, 1),
				i % 11 ? (i % 37) * 1.25 : "", z, z % 5000
		}
	}' > many.csv
	run -0 --separate-stderr ff-compute -s store.db -f "$PICKUP" -f "$DROPOFF" many.csv
	[ -z "$stderr" ]
	run -0 oracle many.csv
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" =~ ^pickup\|([0-9]+)\|([0-9]+)\|0\|0\|0$ ]]
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] && [ "${BASH_REMATCH[1]}" -gt 80000 ]
	[[ "${lines[1]}" =~ ^dropoff\|([0-9]+)\|([0-9]+)\|0\|0\|0$ ]]
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] && [ "${BASH_REMATCH[1]}" -gt 10000 ]
	run q store.db "SELECT sum(count_trips_window_1h_pickup_zip) FROM trip_pickup_features;
		SELECT sum(count_trips_window_30m_dropoff_zip) FROM trip_dropoff_features"
	assert_output - <<'EOF'
120000
30000
EOF
}

# ---- exact in any order and any split into batches ----------------------

# dump STORE: both taxi tables, every column, in key order.
dump() {
	q "$1" "SELECT * FROM trip_pickup_features ORDER BY 1, 2; SELECT * FROM trip_dropoff_features ORDER BY 1, 2"
}

# shuffled FILE SEED: FILE's rows in a random order of seed SEED, header first.
shuffled() {
	head -1 "$1"
	tail -n +2 "$1" | awk -v s="$2" 'BEGIN { srand(s) } { print rand() "\t" $0 }' | sort -k1,1 | cut -f2-
}

@test "real sample: shuffled, or split into 30 batches fed in random order (one twice), same tables as sorted" {
	need_sample
	{ head -1 "$SHARED_DATA/nyctaxi_sample.csv"; tail -n +2 "$SHARED_DATA/nyctaxi_sample.csv" | sort; } > sorted.csv
	ff-compute -s sorted.db -f "$PICKUP" -f "$DROPOFF" --lateness 0 sorted.csv
	dump sorted.db > expected
	[ "$(wc -l < expected)" -eq $((392864 + 109818)) ]

	shuffled sorted.csv 11 > shuf.csv
	ff-compute -s shuf.db -f "$PICKUP" -f "$DROPOFF" shuf.csv
	dump shuf.db > actual
	cmp expected actual

	tail -n +2 shuf.csv > body
	split -n l/30 -d body part
	for p in part*; do { head -1 sorted.csv; cat "$p"; } > "$p.csv"; done
	order=$(ls part*.csv | awk 'BEGIN { srand(5) } { print rand() "\t" $0 }' | sort | cut -f2)
	for p in $order; do
		ff-compute -q -s batches.db -f "$PICKUP" -f "$DROPOFF" "$p"
	done
	run -0 --separate-stderr ff-compute -s batches.db -f "$PICKUP" -f "$DROPOFF" part07.csv
	stderr_is "^ff-compute: warning: part07\.csv: already folded into the tables \(version [0-9]+\); nothing written$"
	dump batches.db > actual
	cmp expected actual
	# Each batch is a version of its own, and the change feed names the
	# windows a late batch changed, for ff-sync-online.
	run q batches.db "SELECT max(version) FROM ff_versions WHERE table_name = 'trip_pickup_features'"
	assert_output 30
	run q batches.db "SELECT count(DISTINCT input_hash) FROM ff_batches WHERE table_name = 'trip_pickup_features'"
	assert_output 30
}

@test "property: generated trips, random splits and random disorder, give the tables of one sorted run" {
	ff-gen-trips --rows 6000 --seed 3 --start 2018-01-01 --days 4 -o trips.csv
	ff-compute -s ref.db -f "$PICKUP" -f "$DROPOFF" trips.csv
	dump ref.db > expected
	[ -s expected ]
	for seed in 1 2 3 4; do
		shuffled trips.csv "$seed" > s.csv
		nparts=$((seed * 3 + 1))
		tail -n +2 s.csv | awk -v n="$nparts" -v s="$seed" 'BEGIN { srand(s) } { print > ("p" int(rand() * n)) }'
		rm -f store.db
		for p in $(ls p* | awk -v s="$seed" 'BEGIN { srand(s) } { print rand() "\t" $0 }' | sort | cut -f2); do
			{ head -1 trips.csv; cat "$p"; } > "$p.csv"
			rm "$p"
			ff-compute -q -s store.db -f "$PICKUP" -f "$DROPOFF" --lateness $((seed))h \
				--memory 1M "$p.csv"
		done
		rm -f p*.csv
		dump store.db > actual
		cmp expected actual
	done
}

@test "a cron job feeding one file a day, late trips of earlier days in it, gives the whole answer" {
	trips d1.csv <<'EOF'
2018-01-01 23:50:00,2018-01-01 23:55:00,1.0,10,A,X
2018-01-01 23:59:00,2018-01-02 00:05:00,1.0,20,A,X
EOF
	# The next day's file holds trips of the day before, reported late.
	trips d2.csv <<'EOF'
2018-01-02 00:10:00,2018-01-02 00:20:00,1.0,30,A,X
2018-01-01 23:40:00,2018-01-01 23:45:00,1.0,40,A,X
2018-01-02 00:01:00,2018-01-02 00:15:00,1.0,50,A,Y
EOF
	ff-compute -s daily.db -f "$PICKUP" -f "$DROPOFF" --batch 2018-01-01 d1.csv
	ff-compute -s daily.db -f "$PICKUP" -f "$DROPOFF" --batch 2018-01-02 d2.csv
	{ cat d1.csv; tail -n +2 d2.csv; } > all.csv
	ff-compute -s all.db -f "$PICKUP" -f "$DROPOFF" all.csv
	dump all.db > expected
	dump daily.db > actual
	diff -u expected actual
	# The window ending at 00:15 holds the five pickups of A since 23:15.
	run q daily.db "SELECT count_trips_window_1h_pickup_zip, mean_fare_window_1h_pickup_zip
		FROM trip_pickup_features WHERE pickup_zip = 'A' AND rounded_pickup_datetime = $((1514851200 + 900))"
	assert_output "5|30.0"
	# The late trip changed stored windows: the change feed says so.
	run q daily.db "SELECT count(*) > 0 FROM ff_changes_trip_pickup_features WHERE version = 2 AND op = 'update'"
	assert_output 1
}

@test "a corrected batch is refused, naming the windows to recompute; overwrite recomputes them" {
	trips d1.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
EOF
	trips d1b.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,12,A,X
EOF
	ff-compute -s s.db -f "$PICKUP" --batch day1 d1.csv
	q s.db .dump > before.sql
	run -1 --separate-stderr ff-compute -s s.db -f "$PICKUP" --batch day1 d1b.csv
	stderr_is "^ff-compute: s\.db: batch 'day1' was folded into trip_pickup_features at version 1 with other content; .*--mode overwrite --start '2018-01-01 10:14:59' --end '2018-01-01 11:00:00'$"
	q s.db .dump > after.sql
	diff -u before.sql after.sql
	ff-compute -s s.db -f "$PICKUP" --mode overwrite --start '2018-01-01 10:14:59' --end '2018-01-01 11:00:00' d1b.csv
	run q s.db "SELECT DISTINCT mean_fare_window_1h_pickup_zip FROM trip_pickup_features"
	assert_output "12.0"
}

@test "an input folded in over an overlapping range, or twice in one run, is refused" {
	trips t.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
2018-01-02 10:05:00,2018-01-02 10:20:00,1.0,20,A,X
EOF
	ff-compute -s s.db -f "$PICKUP" --end 2018-01-02 t.csv
	# The other half of the same file: disjoint, fine.
	ff-compute -s s.db -f "$PICKUP" --start 2018-01-02 t.csv
	run -1 --separate-stderr ff-compute -s s.db -f "$PICKUP" t.csv
	stderr_is "^ff-compute: s\.db: t\.csv was folded into trip_pickup_features at version 1 .*would count its events twice$"
	cp t.csv u.csv
	run -1 --separate-stderr ff-compute -s other.db -f "$PICKUP" t.csv u.csv
	stderr_is "^ff-compute: t\.csv and u\.csv have the same content: one batch would count its events twice$"
	[ ! -e other.db ]
	run q s.db "SELECT DISTINCT count_trips_window_1h_pickup_zip FROM trip_pickup_features"
	assert_output 1
	run q s.db "SELECT count(*) FROM trip_pickup_features"
	assert_output 8
}

@test "events of 1970, 2009 and 2041 are placed in their windows" {
	trips t.csv <<'EOF'
2041-06-01 12:00:00,2041-06-01 12:10:00,1.0,41,A,X
1970-01-01 00:00:00,1970-01-01 00:10:00,1.0,70,A,X
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,18,A,X
2009-03-01 08:00:00,2009-03-01 08:10:00,1.0,9,A,X
EOF
	ff-compute -s s.db -f "$PICKUP" -f "$DROPOFF" t.csv
	run q s.db "SELECT datetime(rounded_pickup_datetime, 'unixepoch'), mean_fare_window_1h_pickup_zip
		FROM trip_pickup_features ORDER BY 1 LIMIT 1"
	assert_output "1970-01-01 00:15:00|70.0"
	run q s.db "SELECT count(*), count(DISTINCT yyyy_mm) FROM trip_pickup_features"
	assert_output "16|4"
}

@test "a store written by an ff without window states asks for --replace" {
	trips t.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
EOF
	ff-compute -s s.db -f "$PICKUP" t.csv
	q s.db "DROP TABLE ff_state_trip_pickup_features"
	trips u.csv <<'EOF'
2018-01-01 11:05:00,2018-01-01 11:20:00,1.0,10,A,X
EOF
	run -1 --separate-stderr ff-compute -s s.db -f "$PICKUP" u.csv
	stderr_is "^ff-compute: s\.db: table trip_pickup_features was written by an earlier ff that kept no window state.*--replace$"
	ff-compute -s s.db -f "$PICKUP" --replace u.csv
}

@test "kill -9 in the middle of a batch leaves the previous version; the rerun gives the same tables" {
	ff-gen-trips --rows 60000 --seed 9 --start 2018-01-01 --days 20 -o big.csv
	shuffled big.csv 2 > late.csv
	ff-gen-trips --rows 100 --seed 1 --start 2018-01-01 --days 1 -o first.csv
	ff-compute -s ref.db -f "$PICKUP" -f "$DROPOFF" first.csv
	ff-compute -s ref.db -f "$PICKUP" -f "$DROPOFF" late.csv
	dump ref.db > expected
	for delay in 0.3 0.8 1.5; do
		rm -f s.db*
		ff-compute -s s.db -f "$PICKUP" -f "$DROPOFF" first.csv
		dump s.db > first
		ff-compute -s s.db -f "$PICKUP" -f "$DROPOFF" late.csv &
		pid=$!
		sleep "$delay"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" || true
		# The store holds the first version, or the whole batch if it finished.
		dump s.db > now
		cmp -s now first || cmp -s now expected
		ff-compute -q -s s.db -f "$PICKUP" -f "$DROPOFF" late.csv
		dump s.db > actual
		cmp expected actual
	done
}

# Each number of a duration was capped at 1e9 and then multiplied: 1000000000d
# overflowed into windows ending 1970-01-01, exit 0. Durations are at most
# 100 years (36525d), checked without overflow, in every place one is given.
@test "durations over 100 years are refused: --window, --lateness, a spec's window" {
	trips in.csv <<<'2018-01-01 10:00:00,2018-01-01 10:10:00,1,5,10001,10002'
	local inline=(--table t --time tpep_pickup_datetime --key pickup_zip --feature 'n=count(*)')
	local d
	for d in 36526d 1000000000d 3155760001s 9223372036854775807s 99999999999999999999m; do
		run -2 --separate-stderr ff-compute -s a.db "${inline[@]}" --window "$d" in.csv
		[[ ${stderr%%$'\n'*} == "ff-compute: option --window: window '$d' is not a duration"* ]]
		run -2 --separate-stderr ff-compute -s a.db -f "$PICKUP" --lateness "$d" in.csv
		[[ ${stderr%%$'\n'*} == "ff-compute: bad --lateness '$d': a duration"* ]]
		sed "s/^window .*/window $d/" "$PICKUP" > w.spec
		run -1 --separate-stderr ff-compute -s a.db -f w.spec in.csv
		stderr_is "^ff-compute: w.spec:7: window '$d' is not a duration"
	done
	[ ! -e a.db ]
	# 100 years is taken, and its window ends where it should.
	run -0 ff-compute -s a.db "${inline[@]}" --window 36525d --partition none in.csv
	[ "$(q a.db 'SELECT count(*) FROM t')" -ge 1 ]
	run -0 ff-compute -s b.db -f "$PICKUP" --lateness 36525d in.csv
}

@test "the temporary file of a first run killed before its rename is removed by the next run" {
	trips t.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
EOF
	sh -c 'exit 0' &
	dead=$!
	wait "$dead"
	touch "s.db.new-$dead" "s.db.new-$$"
	ff-compute -s s.db -f "$PICKUP" t.csv
	[ ! -e "s.db.new-$dead" ]
	# a live run's file stays
	[ -e "s.db.new-$$" ]
}

# ---- input formats ----------------------------------------------------

@test "gzip and zstd trips give the same table as plain trips, by file and on stdin" {
	sliding_input
	ff-compute -f "$PICKUP" t.csv > plain.csv
	gzip -c t.csv > trips.csv.gz
	zstd -q -c t.csv > trips.zst
	ff-compute -f "$PICKUP" trips.csv.gz > out.csv
	diff -u plain.csv out.csv
	ff-compute -f "$PICKUP" < trips.zst > out.csv
	diff -u plain.csv out.csv
}

@test "a missing column says when the header is one field holding ';' or a tab, or has spaces" {
	sliding_input
	tr , ';' < t.csv > semi.csv
	run -1 --separate-stderr ff-compute -f "$PICKUP" semi.csv
	no_output
	stderr_is "^ff-compute: semi.csv:1: no column 'tpep_pickup_datetime' \(time column of table trip_pickup_features\); the header is one field holding ';': is the file delimited by ';'\?$"
	tr , '\t' < t.csv > tabs.csv
	run -1 --separate-stderr ff-compute -f "$PICKUP" tabs.csv
	stderr_is "; the header is one field holding a tab: is the file delimited by tabs\?$"
	sed '1s/,fare_amount,/, fare_amount ,/' t.csv > spaced.csv
	run -1 --separate-stderr ff-compute -f "$PICKUP" spaced.csv
	stderr_is "^ff-compute: spaced.csv:1: no column 'fare_amount' \(feature mean_fare_window_1h_pickup_zip of table trip_pickup_features\); column ' fare_amount ' has spaces around it$"
}

@test "CSV on stdout: a bad first row or a bad header writes nothing, not a lone header" {
	trips bad.csv <<'EOF2'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,ten,A,X
EOF2
	run -1 --separate-stderr ff-compute -f "$PICKUP" bad.csv
	no_output
	stderr_is "^ff-compute: bad\.csv:2: column 'fare_amount': "
	echo 'when,fare' > nohead.csv
	run -1 --separate-stderr ff-compute -f "$PICKUP" - < nohead.csv
	no_output
	# no rows at all still gives the header
	trips empty.csv < /dev/null
	run -0 ff-compute -f "$PICKUP" empty.csv
	assert_output "pickup_zip,rounded_pickup_datetime,mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip,yyyy_mm"
}

@test "out of memory: exit 1 with one message, the store as it was" {
	trips t.csv <<'EOF'
2018-01-01 10:05:00,2018-01-01 10:20:00,1.0,10,A,X
EOF
	ff-compute -s s.db -f "$PICKUP" t.csv
	q s.db .dump > before.sql
	awk 'BEGIN { print "ts,k"; for (i = 0; i < 200000; i++) printf "2018-01-01 10:%02d:00,key%d\n", i % 60, i }' > keys.csv
	# The sanitizer build lets a large allocation fail instead of aborting.
	ASAN_OPTIONS=allocator_may_return_null=1:max_allocation_size_mb=4:detect_leaks=0 \
		run --separate-stderr ff-compute -s s.db --table k --time ts --key k --window 1h \
		--feature 'n=count(*)' --lateness unbounded keys.csv
	[ "$status" -ne 0 ] || skip "not a sanitizer build: no allocation limit to hit"
	[ "$status" -eq 1 ]
	# (the sanitizer warns of the failed allocation first)
	[ "$(grep -v '^==[0-9]*==WARNING: AddressSanitizer failed to allocate' <<<"$stderr")" = "ff-compute: out of memory" ]
	q s.db .dump > after.sql
	diff -u before.sql after.sql
}

@test "CSV out of a file: rows in order are written as they come, the same bytes as through the store" {
	ff-gen-trips -n 20000 --days 3 > trips.csv
	# A few rows moved a day later: late windows, which need the store.
	awk 'NR == 1 { print; next } NR % 997 == 0 { held = held $0 "\n"; next } { print }
		NR == 15000 { printf "%s", held }' trips.csv > late.csv
	for spec in "$PICKUP" "$DROPOFF"; do
		for f in trips.csv late.csv; do
			# A pipe out cannot be cut back: always through the private store.
			ff-compute -f "$spec" "$f" | cat > piped.csv
			ff-compute -f "$spec" -o file.csv "$f"
			cmp piped.csv file.csv
			ff-compute -f "$spec" "$f" > redirected.csv
			cmp piped.csv redirected.csv
		done
	done
	# Started again, the output is cut back to where this run began: after
	# what the shell wrote before, and never into a file appended to.
	ff-compute -f "$DROPOFF" late.csv > expected.csv
	{ echo before; ff-compute -f "$DROPOFF" late.csv; } > after_text.csv
	diff -u <(echo before; cat expected.csv) after_text.csv
	echo kept > appended.csv
	ff-compute -f "$DROPOFF" late.csv >> appended.csv
	diff -u <(echo kept; cat expected.csv) appended.csv
	# A bad row skipped is told once, whichever way the run went.
	{ cat late.csv; echo 'bad,row,x,y,1,2'; } > bad.csv
	run -0 --separate-stderr ff-compute -f "$DROPOFF" --skip-bad -o file.csv bad.csv
	[ "$(printf '%s\n' "$stderr" | grep -c ': skipped: ')" = 1 ] || fail "$stderr"
	run -0 --separate-stderr ff-compute -f "$PICKUP" --skip-bad -o file.csv bad.csv
	[ "$(printf '%s\n' "$stderr" | grep -c ': skipped: ')" = 1 ] || fail "$stderr"
}
