#!/usr/bin/env bats
# ff-cat: CSV and ff-rec binary streams, round trips, detection, errors.

load test_helper/common

setup() { common_setup; }

# A CSV file with what CSV can hold: quotes, commas, line breaks and CRLF
# inside fields, empty (NULL) fields and "" (empty strings), blanks kept,
# UTF-8 and other bytes >= 0x80, a NULL or empty value in every column.
tricky() {
	printf '%s\n' \
		'id,"name, full","say ""hi""",note' \
		'1,plain,"a,b",' \
		'2,"","""",""' \
		'3,"two' \
		'lines","x,""y"",z", blanks kept ' \
		',,,' \
		'"","","",""' \
		"5,café €,日本語,$(printf '\xff\xfe')" >tricky.csv
	printf '6,"cr\r\nlf",,end\n' >>tricky.csv
}

@test "CSV -> bin -> CSV gives the same bytes on the real sample" {
	need_sample
	ff-cat --format bin "$SHARED_DATA/nyctaxi_sample.csv" >sample.bin
	ff-cat sample.bin >back.csv
	cmp "$SHARED_DATA/nyctaxi_sample.csv" back.csv
	ff-cat --format csv sample.bin >back2.csv
	cmp back.csv back2.csv
}

@test "CSV -> bin -> CSV gives the same bytes on a tricky file" {
	tricky
	ff-cat --format bin tricky.csv >tricky.bin
	ff-cat tricky.bin >back.csv
	cmp tricky.csv back.csv
	ff-cat tricky.csv >direct.csv
	cmp tricky.csv direct.csv
}

@test "NULL and empty strings stay apart in binary" {
	printf 'a,b\n,""\n' | ff-cat --format bin >t.bin
	# record: length 5, bitmap 01 (a is NULL), b: length 0
	od -A n -t x1 t.bin | tr -s ' \n' ' ' >bytes
	[[ "$(cat bytes)" == *" 05 00 00 00 01 00 00 00 00 " ]] || { cat bytes; false; }
}

@test "bin -> bin gives identical bytes" {
	tricky
	ff-gen-trips -n 20000 --seed 5 | ff-cat --format bin >a.bin
	ff-cat --format bin a.bin >b.bin
	cmp a.bin b.bin
	ff-cat --format bin tricky.csv >t.bin
	ff-cat --format bin <t.bin >t2.bin
	cmp t.bin t2.bin
}

@test "the format is detected from the first bytes, whatever the file name" {
	ff-gen-trips -n 100 >trips.csv
	ff-cat --format bin trips.csv >trips.txt
	head -c 8 trips.txt | od -A n -t x1 >magic
	assert_equal "$(tr -s ' ' <magic)" " 89 46 46 52 0d 0a 1a 0a"
	ff-cat trips.txt >back.csv
	cmp trips.csv back.csv
	# shorter than the magic number
	printf 'a\n1\n' >tiny.csv
	run -0 ff-cat tiny.csv
	assert_output "a
1"
}

@test "inputs are concatenated, CSV and binary mixed, one header" {
	ff-gen-trips -n 1000 --seed 1 >a.csv
	ff-gen-trips -n 500 --seed 2 >b.csv
	ff-cat --format bin b.csv >b.bin
	{ cat a.csv; tail -n +2 b.csv; } >expected
	ff-cat a.csv b.bin >actual
	diff -u expected actual
	ff-cat --format bin a.csv b.csv | ff-cat >actual2
	diff -u expected actual2
}

@test "stdin by default and as -" {
	ff-gen-trips -n 50 >a.csv
	ff-cat --format bin a.csv >a.bin
	ff-cat <a.csv >out1
	cmp a.csv out1
	ff-cat - <a.bin >out2
	cmp a.csv out2
	ff-gen-trips -n 30 --seed 9 >b.csv
	{ cat a.csv; tail -n +2 b.csv; } >expected
	ff-cat - b.csv <a.bin >out3
	diff -u expected out3
}

@test "-o writes the file and nothing on stdout" {
	ff-gen-trips -n 100 >a.csv
	run -0 ff-cat --format bin -o out.bin a.csv
	assert_output ""
	ff-cat --output out.csv out.bin
	cmp a.csv out.csv
	ff-cat -o - a.csv >out2.csv
	cmp a.csv out2.csv
}

@test "different column names are an error naming the file" {
	printf 'a,b\n1,2\n' >ab.csv
	printf 'a,c\n3,4\n' >ac.csv
	printf 'a\n5\n' >a.csv
	run --separate-stderr ff-cat ab.csv ac.csv
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "ff-cat: ac.csv: column 2 is 'c', in ab.csv it is 'b'"
	run --separate-stderr ff-cat ab.csv a.csv
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "ff-cat: a.csv: 1 columns, ab.csv has 2"
}

@test "a row with another number of fields is an error naming its line" {
	printf 'a,b\n1,2\n"x\ny",2,3\n' >bad.csv
	run --separate-stderr ff-cat bad.csv
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "ff-cat: bad.csv:3: 3 fields, the header has 2"
}

@test "a truncated binary input is an error naming the record" {
	ff-gen-trips -n 100 | ff-cat --format bin >a.bin
	size=$(wc -c <a.bin)
	head -c $((size - 3)) a.bin >cut.bin
	run --separate-stderr ff-cat cut.bin
	[ "$status" -eq 1 ]
	[[ "$stderr" == "ff-cat: cut.bin: record 100: truncated ("* ]] || { echo "$stderr"; false; }
	# with -o, an existing file is left as it was
	echo old >out.csv
	run ff-cat -o out.csv a.bin cut.bin
	[ "$status" -eq 1 ]
	assert_equal "$(cat out.csv)" old
	[ "$(ls)" = "$(printf 'a.bin\ncut.bin\nout.csv')" ]
}

@test "damaged binary inputs are errors" {
	printf 'a\n1\n' | ff-cat --format bin >a.bin
	{ head -c 8 a.bin; printf '\002'; tail -c +10 a.bin; } >v2.bin
	run --separate-stderr ff-cat v2.bin
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "ff-cat: v2.bin: ff-rec version 2, this ff reads version 1"
	head -c 11 a.bin >header.bin
	run --separate-stderr ff-cat header.bin
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "ff-cat: header.bin: truncated ff-rec header"
	# a transfer that turned CRLF into LF
	{ printf '\211FFR\n\032\n'; tail -c +9 a.bin; } >crlf.bin
	run --separate-stderr ff-cat crlf.bin
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "ff-cat: crlf.bin: damaged ff-rec header (line ends converted?)"
}

@test "an empty input and a missing file are errors" {
	: >empty.csv
	run --separate-stderr ff-cat empty.csv
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "ff-cat: empty.csv: empty input: a header line is required"
	run --separate-stderr ff-cat missing.csv
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "ff-cat: missing.csv: No such file or directory"
}

@test "--help, --version and usage errors" {
	run -0 ff-cat --help
	assert_line --index 0 "usage: ff-cat [--format csv|bin] [-o FILE] [FILE...]"
	run -0 ff-cat -V
	assert_output --regexp '^ff-cat \(ff\) [0-9]+\.[0-9]+\.[0-9]+$'
	run --separate-stderr ff-cat --format xml
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_equal "$stderr" "ff-cat: bad --format 'xml': use csv or bin
Try 'ff-cat --help' for more information."
	run --separate-stderr ff-cat --nope
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "ff-cat: unknown option '--nope'
Try 'ff-cat --help' for more information."
	run --separate-stderr ff-cat -o
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "ff-cat: option '-o' needs a value
Try 'ff-cat --help' for more information."
}

@test "| head -1 ends quietly, in both formats" {
	ff-gen-trips -n 200000 >big.csv
	ff-cat --format bin big.csv >big.bin
	run --separate-stderr bash -c 'ff-cat big.csv | head -1'
	assert_success
	assert_output "$(head -1 big.csv)"
	[ -z "$stderr" ]
	run --separate-stderr bash -c 'ff-cat --format bin big.bin | head -c 8 >/dev/null'
	assert_success
	[ -z "$stderr" ]
}

@test "quiet on success" {
	ff-gen-trips -n 10 >a.csv
	run --separate-stderr ff-cat -q -o out.bin --format bin a.csv
	assert_success
	[ -z "$output" ] && [ -z "$stderr" ]
}

@test "the od example of ff-rec(5) is this output" {
	sed -n '/^\$ printf .*ff-cat --format bin | od -A d -t x1$/,/^\.Ed$/p' "$TOP/man/ff-rec.5" |
		sed '1d;$d' >expected
	[ -s expected ]
	printf 'zip,fare\n10001,\n,""\n' | ff-cat --format bin | od -A d -t x1 >actual
	diff -u expected actual
}

@test "the first example of ff-cat(1) is this output" {
	sed -n '/^\$ ff-cat trips.bin | head -3$/,/^\.Ed$/p' "$TOP/man/ff-cat.1" | sed '1d;$d' >expected
	[ -s expected ]
	ff-gen-trips -n 1000000 | ff-cat --format bin -o trips.bin
	ff-cat trips.bin | head -3 >actual
	diff -u expected actual
	# appending to the file being read
	ff-gen-trips -n 10 --start 2018-02-01 --days 1 >day.csv
	ff-cat --format bin -o trips.bin trips.bin day.csv
	run -0 bash -c 'ff-cat trips.bin | wc -l'
	assert_output 1000011
}

@test "bash completion offers the output formats" {
	source "$TOP/completions/ff.bash"
	COMP_WORDS=(ff-cat --format b)
	COMP_CWORD=2
	_ff
	[ "${COMPREPLY[*]}" = "bin" ]
	COMP_WORDS=(ff-cat --fo)
	COMP_CWORD=1
	_ff
	[ "${COMPREPLY[*]}" = "--format" ]
}

# A binary stream with typed columns, written by hand: n integer, x real,
# t timestamp; records (7, 0.5, 1.5 s after the epoch) and all NULL.
typed_bin() {
	printf '\211FFR\r\n\032\n\001\003\000\000\000' >typed.bin
	printf '\001\001\000\000\000n\002\001\000\000\000x\003\001\000\000\000t' >>typed.bin
	printf '\031\000\000\000\000\007\000\000\000\000\000\000\000' >>typed.bin
	printf '\000\000\000\000\000\000\340\077\140\343\026\000\000\000\000\000' >>typed.bin
	printf '\001\000\000\000\007' >>typed.bin
}

@test "typed binary columns: CSV output, bin -> bin, conversion of other inputs" {
	typed_bin
	run -0 ff-cat typed.bin
	assert_output "n,x,t
7,0.5,1970-01-01 00:00:01.5
,,"
	ff-cat --format bin typed.bin >again.bin
	cmp typed.bin again.bin
	# CSV after typed binary: parsed into the first input's types
	printf 'n,x,t\n-3,1e-300,2018-01-01 00:00:00Z\n,,\n' >more.csv
	ff-cat --format bin typed.bin more.csv >both.bin
	run -0 ff-cat both.bin
	assert_output "n,x,t
7,0.5,1970-01-01 00:00:01.5
,,
-3,1e-300,2018-01-01 00:00:00
,,"
	# typed binary after CSV: formatted as text
	run -0 ff-cat more.csv typed.bin
	assert_output "n,x,t
-3,1e-300,2018-01-01 00:00:00Z
,,
7,0.5,1970-01-01 00:00:01.5
,,"
	printf 'n,x,t\n1,2,2018-01-01 00:00:00\nabc,1,2018-01-01 00:00:00\n' >bad.csv
	run --separate-stderr ff-cat typed.bin bad.csv
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "ff-cat: bad.csv:3: column 'n': bad integer 'abc'"
	{ head -c 13 typed.bin; printf '\003'; tail -c +15 typed.bin; } >ts.bin
	run --separate-stderr ff-cat typed.bin ts.bin
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "ff-cat: ts.bin: column 'n' is timestamp, in typed.bin it is integer"
}

@test "a quoted field left open at the end of the input is an error naming its line" {
	printf 'a,b\n1,2\n3,"x\n4,5\n' >cut.csv
	run --separate-stderr -1 ff-cat cut.csv
	[ "$stderr" = "ff-cat: cut.csv:3: a quoted field is not closed at the end of the input" ]
	# Left open in the row's first field: its line too.
	printf 'a,b\n1,2\n"x,3\n4,5\n' >first.csv
	run --separate-stderr -1 ff-cat first.csv
	[ "$stderr" = "ff-cat: first.csv:3: a quoted field is not closed at the end of the input" ]
	printf 'a,b\n1,"x\ny"\n' >ok.csv
	run -0 ff-cat ok.csv
}

@test "a UTF-8 byte order mark before the header is not part of the first name" {
	printf '\357\273\277a,b\n1,2\n' >bom.csv
	run -0 ff-cat bom.csv
	[ "$output" = "$(printf 'a,b\n1,2')" ]
}

@test "gzip and zstd inputs are read decompressed, told by their bytes, not their names" {
	ff-gen-trips -n 300 --seed 3 >trips.csv
	gzip -c trips.csv >trips.csv.gz
	zstd -q -c trips.csv >packed.csv   # a zstd file whatever its name
	ff-cat trips.csv.gz >out.csv
	diff -u trips.csv out.csv
	ff-cat packed.csv >out.csv
	diff -u trips.csv out.csv
	ff-cat <trips.csv.gz >out.csv
	diff -u trips.csv out.csv
	zstd -q -c trips.csv | ff-cat >out.csv
	diff -u trips.csv out.csv
	# several gzip members and zstd frames, one after the other
	{ head -n 100 trips.csv | gzip -c; tail -n +101 trips.csv | gzip -c; } | ff-cat >out.csv
	diff -u trips.csv out.csv
	{ head -n 100 trips.csv | zstd -q -c; tail -n +101 trips.csv | zstd -q -c; } >two.zst
	ff-cat two.zst >out.csv
	diff -u trips.csv out.csv
	# and binary ff-rec, compressed
	ff-cat --format bin trips.csv | gzip -c >trips.bin.gz
	ff-cat trips.bin.gz >out.csv
	diff -u trips.csv out.csv
}

@test "a cut or damaged compressed input is an error, not a short answer" {
	ff-gen-trips -n 300 --seed 3 >trips.csv
	gzip -c trips.csv >trips.csv.gz
	head -c 2000 trips.csv.gz >cut.gz
	run -1 ff-cat cut.gz
	assert_line 'ff-cat: cut.gz: gzip data: cut short (truncated file?)'
	zstd -q -c trips.csv | head -c 2000 >cut.zst
	run -1 ff-cat cut.zst
	assert_line 'ff-cat: cut.zst: zstd data: cut short (truncated file?)'
	printf '\037\213\010\000garbage, not deflate' >bad.gz
	run -1 --separate-stderr ff-cat bad.gz
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "ff-cat: bad.gz: gzip data: "* ]]
}

@test "ff-cat refuses inputs it cannot read, saying what they are, and prints nothing" {
	printf 'a,b\n1,2\n' >t.csv
	printf 'BZh91AY&SY\001\002' >t.bz2
	printf '\3757zXZ\000\000\004' >t.xz
	printf 'PK\003\004rest' >t.zip
	sqlite3 t.db 'CREATE TABLE x(a)'
	run -1 --separate-stderr ff-cat t.bz2
	assert_equal "$output" ""
	assert_equal "$stderr" "ff-cat: t.bz2: compressed with bzip2, which ff does not read (it reads gzip and zstd): decompress it first"
	run -1 --separate-stderr ff-cat - <t.xz
	assert_equal "$output" ""
	assert_equal "$stderr" "ff-cat: stdin: compressed with xz, which ff does not read (it reads gzip and zstd): decompress it first"
	run -1 --separate-stderr ff-cat t.zip
	assert_equal "$stderr" "ff-cat: t.zip: a zip archive, which ff does not read: extract the file first"
	run -1 --separate-stderr ff-cat t.db
	assert_equal "$output" ""
	assert_equal "$stderr" "ff-cat: t.db: an SQLite database, not CSV or ff-rec records"
	# a text that merely begins like a magic number is text
	printf 'SQ,BZh\n1,2\n' >s.csv
	run -0 ff-cat s.csv
	assert_output "$(cat s.csv)"
	printf 'B\n' | ff-cat >one.csv
	diff -u - one.csv <<<'B'
}

@test "--delimiter: TSV and ';' files read, CSV written with commas; a bad delimiter is a usage error" {
	printf 'a\tb c\tnote\n1\tx,y\t"q\tq"\n' > t.tsv
	run -0 ff-cat --delimiter tab t.tsv
	assert_output - <<'EOF'
a,b c,note
1,"x,y",q	q
EOF
	printf 'a;b\n1;2\n' | ff-cat --delimiter ';' > out.csv
	printf 'a,b\n1,2\n' | diff -u - out.csv
	for bad in ab '"' a 1 ''; do
		run -2 --separate-stderr ff-cat --delimiter "$bad" t.tsv
		[ "$stderr" = "ff-cat: bad --delimiter '$bad': one byte such as ';' or '|', or tab
Try 'ff-cat --help' for more information." ]
	done
}
