#!/usr/bin/env bats
# ff-gen-trips: the CSV it writes, determinism, order, ranges, options.

bats_require_minimum_version 1.5.0
load test_helper/common

setup() { common_setup; }

HEADER=tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,fare_amount,pickup_zip,dropoff_zip

# check_rows FILE [START DAYS]: every row well-formed and in range, pickups
# within the span and in order up to the 240 s jitter, dropoff at or after
# pickup and within 2 h. Prints "ok ROWS" or the first bad line. Times become
# seconds by hand (days from the civil date), so no date(1) or gawk is needed.
check_rows() {
	awk -F, -v start="${2:-2018-01-01}" -v days="${3:-31}" '
	function secs(s,   y, m, d, a) {
		y = substr(s, 1, 4) + 0; m = substr(s, 6, 2) + 0; d = substr(s, 9, 2) + 0
		if (m <= 2) { y--; m += 12 }
		a = 365 * y + int(y / 4) - int(y / 100) + int(y / 400) + int((153 * (m - 3) + 2) / 5) + d
		return a * 86400 + substr(s, 12, 2) * 3600 + substr(s, 15, 2) * 60 + substr(s, 18, 2)
	}
	function bad(why) { print "line " NR ": " why ": " $0; failed = 1; exit 1 }
	BEGIN { lo = secs(start " 00:00:00"); hi = lo + days * 86400 }
	NR == 1 { next }
	{
		if (NF != 6) bad("fields")
		ts = "^[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9]$"
		if ($1 !~ ts || $2 !~ ts) bad("time")
		if ($3 !~ /^[0-9]+\.[0-9][0-9]$/) bad("distance")
		if ($4 !~ /^-?[0-9]+\.[0-9][0-9]?$/) bad("fare")
		if ($5 !~ /^[1-9][0-9]*$/ || $5 > 265 || $6 !~ /^[1-9][0-9]*$/ || $6 > 265) bad("zone")
		if ($3 > 30) bad("distance over 30 miles")
		p = secs($1); d = secs($2)
		if (p < lo || p >= hi) bad("pickup outside the span")
		if (d < p || d - p > 7200) bad("duration")
		if (NR > 2 && p < latest - 240) bad("out of order by more than 240 s")
		if (p > latest) latest = p
		n++
	}
	END { if (failed) exit 1; print "ok " n + 0 }' "$1"
}

@test "the header line is exact" {
	run -0 ff-gen-trips -n 1
	assert_line --index 0 "$HEADER"
}

@test "-n 0 writes only the header, -n 5 five rows" {
	run -0 ff-gen-trips -n 0
	assert_output "$HEADER"
	run -0 ff-gen-trips -n 5
	[ "${#lines[@]}" -eq 6 ]
	run -0 ff-gen-trips --rows 12345
	[ "${#lines[@]}" -eq 12346 ]
}

@test "a known output, checked by eye" {
	run -0 ff-gen-trips -n 3 --seed 7
	assert_output "$HEADER
2018-01-05 07:49:16,2018-01-05 08:10:57,5.14,19.0,260,232
2018-01-15 17:21:56,2018-01-15 17:28:01,1.11,7.0,161,141
2018-01-26 00:37:16,2018-01-26 00:41:19,1.09,6.0,68,68"
}

@test "the example of the man page is this output" {
	sed -n '/^\$ ff-gen-trips -n 3 --seed 7$/,/^\.Ed$/p' "$TOP/man/ff-gen-trips.1" | sed '1d;$d' >expected
	[ -s expected ]
	ff-gen-trips -n 3 --seed 7 >actual
	diff -u expected actual
}

@test "the same seed gives the same bytes, another seed other trips" {
	ff-gen-trips -n 20000 --seed 3 >a
	ff-gen-trips -n 20000 --seed 3 >b
	ff-gen-trips -n 20000 --seed 4 >c
	cmp a b
	run cmp -s a c
	assert_failure
	# the default seed is 1
	ff-gen-trips -n 100 >d
	ff-gen-trips -n 100 --seed 1 >e
	cmp d e
}

@test "the locale and time zone do not change the output" {
	ff-gen-trips -n 5000 >a
	LC_ALL=de_DE.UTF-8 TZ=America/New_York ff-gen-trips -n 5000 >b
	cmp a b
}

@test "every field parses, pickups in order within 240 s, dropoff after pickup" {
	ff-gen-trips -n 200000 --seed 11 >trips.csv
	run check_rows trips.csv
	assert_output "ok 200000"
}

@test "the jitter is there: some rows are a little out of order" {
	ff-gen-trips -n 20000 >trips.csv
	run awk -F, 'NR > 1 { if ($1 < prev) back++; if ($1 > prev) prev = $1 } END { print (back > 0) }' trips.csv
	assert_output 1
}

@test "--start and --days set the span of pickups" {
	ff-gen-trips -n 5000 --start 2019-02-27 --days 3 >trips.csv
	run check_rows trips.csv 2019-02-27 3
	assert_output "ok 5000"
	run awk -F, 'NR > 1 { print substr($1, 1, 10) }' trips.csv
	[ "$(printf '%s\n' "${lines[@]}" | sort -u | tr '\n' ' ')" = "2019-02-27 2019-02-28 2019-03-01 " ]
	# a leap day
	run -0 ff-gen-trips -n 100 --start 2020-02-29 --days 1
	assert_line --index 1 --partial "2020-02-29 "
	assert_line --index 100 --partial "2020-02-29 "
}

@test "zones are 1..265, most trips in a few dozen zones, 264 and 265 rare" {
	ff-gen-trips -n 100000 >trips.csv
	run awk -F, 'NR > 1 { n[$5]++ } END { for (z in n) print n[z] }' trips.csv
	top=$(printf '%s\n' "${lines[@]}" | sort -rn | head -40 | awk '{ s += $1 } END { print s }')
	[ "$top" -gt 75000 ]
	unknown=$(awk -F, 'NR > 1 && ($5 >= 264 || $6 >= 264)' trips.csv | wc -l)
	[ "$unknown" -lt 1000 ]
}

@test "trips look like the real ones: distance, fare, the hours, the odd rows" {
	ff-gen-trips -n 200000 >trips.csv
	# median distance between 1.2 and 2.5 miles; fares grow with distance
	run awk -F, 'NR > 1 { print $3 }' trips.csv
	median=$(printf '%s\n' "${lines[@]}" | sort -n | sed -n 100000p)
	awk -v m="$median" 'BEGIN { exit !(m > 1.2 && m < 2.5) }'
	run awk -F, 'NR > 1 && $3 > 0 && $4 > 0 {
		if ($3 < 1) { s += $4; n++ } else if ($3 > 5) { l += $4; k++ } }
		END { print (s / n < 7) && (l / k > 20) }' trips.csv
	assert_output 1
	# 6 p.m. is more than five times as busy as 4 a.m.
	run awk -F, 'NR > 1 { h = substr($1, 12, 2); if (h == "04") q++; if (h == "18") b++ } END { print (b > 5 * q) }' trips.csv
	assert_output 1
	# zero distances near 1 in 2000, negative fares near 1 in 5000
	run awk -F, 'NR > 1 { if ($3 == "0.00") z++; if ($4 < 0) m++ } END { print (z > 40 && z < 200) && (m > 10 && m < 100) }' trips.csv
	assert_output 1
}

@test "-o writes the file and nothing on stdout" {
	run -0 ff-gen-trips -n 50 --seed 9 -o out.csv
	assert_output ""
	ff-gen-trips -n 50 --seed 9 >expected
	cmp expected out.csv
	[ -z "$(ls | grep new)" ]
	run -0 ff-gen-trips -n 3 --output out.csv
	[ "$(wc -l <out.csv)" -eq 4 ]
	run ff-gen-trips -n 3 -o no/such/dir/out.csv
	[ "$status" -eq 1 ]
	assert_output --partial "ff-gen-trips: no/such/dir/out.csv: "
}

@test "-o to a pipe writes into it, not over it" {
	mkfifo fifo
	ff-gen-trips -n 50 -o fifo &
	timeout 10 cat fifo >got
	wait
	[ -p fifo ]
	ff-gen-trips -n 50 >expected
	cmp expected got
}

@test "a failed write exits 1 with a message" {
	[ -c /dev/full ] || skip "no /dev/full"
	run bash -c 'ff-gen-trips -n 1000 >/dev/full'
	[ "$status" -eq 1 ]
	assert_output "ff-gen-trips: write error on standard output: No space left on device"
}

@test "--help goes to stdout and exits 0; --version" {
	run --separate-stderr ff-gen-trips --help
	assert_success
	assert_line --index 0 --partial "usage: ff-gen-trips"
	[[ "$output" == *"--seed N"* ]]
	[ -z "$stderr" ]
	run -0 ff-gen-trips -h
	assert_line --index 0 --partial "usage: ff-gen-trips"
	run -0 ff-gen-trips --version
	assert_output --regexp '^ff-gen-trips \(ff\) [0-9]+\.[0-9]+\.[0-9]+$'
	run -0 ff-gen-trips -V
}

@test "an unknown option or a bad value exits 2 with a message on stderr" {
	run --separate-stderr ff-gen-trips --frobnicate
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "$stderr" = "ff-gen-trips: unknown option '--frobnicate'
Try 'ff-gen-trips --help' for more information." ]
	run --separate-stderr ff-gen-trips -n abc
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "${stderr_lines[0]}" = "ff-gen-trips: bad --rows 'abc': a whole number, 0 or more" ]
	for bad in "-n -1" "-n 1.5" "-n 10M" "-n" "--seed x" "--days 0" "--days 36501" \
		"--start 2018-02-30" "--start 2018-1-1" "--start 2018-01-01T00:00:00" \
		"--start 9999-12-31" "-x" "--help=1" "extra"; do
		run --separate-stderr ff-gen-trips $bad
		[ "$status" -eq 2 ] || fail "ff-gen-trips $bad: status $status"
		[ -z "$output" ] || fail "ff-gen-trips $bad: output on stdout"
		[[ "${stderr_lines[0]}" == "ff-gen-trips: "* ]] || fail "ff-gen-trips $bad: $stderr"
		[ "${stderr_lines[1]}" = "Try 'ff-gen-trips --help' for more information." ]
	done
}

@test "--zones: city is the default, zipf and uniform draw zones 1 to 255" {
	ff-gen-trips -n 20000 --seed 5 >default
	ff-gen-trips -n 20000 --seed 5 --zones city >city
	cmp default city
	for z in uniform zipf:0 zipf:0.99 zipf:3; do
		ff-gen-trips -n 20000 --seed 5 --zones "$z" >"$z.csv"
		run -0 check_rows "$z.csv"
		assert_output "ok 20000"
		run -0 awk -F, 'NR > 1 && ($5 > 255 || $6 > 255) { print "zone over 255: " $0; exit }' "$z.csv"
		assert_output ""
	done
	cmp uniform.csv zipf:0.csv
	# Uniform: every zone about 1/255 of pickups (78 of 20000, within 5 sigma).
	run -0 awk -F, 'NR > 1 { n[$5]++ } END { for (z = 1; z <= 255; z++) if (n[z] < 34 || n[z] > 122) { print z, n[z]; exit } }' uniform.csv
	assert_output ""
	# Zipf 0.99: zone 1 about twice as often as zone 2 and 100 times zone 255
	# or so; the same law for dropoffs.
	run -0 awk -F, 'NR > 1 { p[$5]++; d[$6]++ } END {
		r = p[1] / p[2]; if (r < 1.7 || r > 2.4) print "pickups 1/2: " r
		r = d[1] / d[2]; if (r < 1.7 || r > 2.4) print "dropoffs 1/2: " r
		if (p[1] < 2500 || p[1] > 3700) print "zone 1: " p[1] }' zipf:0.99.csv
	assert_output ""
	# Exponent 3: nearly all trips in the first few zones.
	run -0 awk -F, 'NR > 1 && $5 <= 3 { n++ } END { print (n > 19000 ? "skewed" : n) }' zipf:3.csv
	assert_output "skewed"
	# The same options, the same bytes.
	ff-gen-trips -n 20000 --seed 5 --zones zipf:0.99 | cmp - zipf:0.99.csv
}

@test "--zones: bad values are usage errors" {
	for bad in "" zipf zipf: zipf:-1 zipf:3.5 zipf:x Zipf:1 normal; do
		run -2 --separate-stderr ff-gen-trips -n 1 --zones "$bad"
		[ -z "$output" ] || fail "--zones '$bad': output on stdout"
		[[ "${stderr_lines[0]}" == "ff-gen-trips: "*"--zones"* ]] || fail "--zones '$bad': $stderr"
	done
}

@test "| head -1 ends quietly" {
	run --separate-stderr bash -c 'ff-gen-trips -n 1000000 | head -1'
	assert_success
	assert_output "$HEADER"
	[ -z "$stderr" ]
	# even when the caller ignores SIGPIPE
	run --separate-stderr bash -c 'trap "" PIPE; ff-gen-trips -n 1000000 | head -1'
	assert_success
	[ -z "$stderr" ]
}

@test "quiet on success" {
	run --separate-stderr ff-gen-trips -q -n 1000 -o trips.csv
	assert_success
	[ -z "$output" ]
	[ -z "$stderr" ]
}
