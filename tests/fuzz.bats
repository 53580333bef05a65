#!/usr/bin/env bats
# The fuzzing harnesses of fuzz/ replayed on their seed corpora
# (fuzz/corpus/NAME) and on every crash `make fuzz` ever found
# (fuzz/crashes/NAME), through a plain main() under the sanitizers of the
# check build: a parser that crashes, leaks or trips UBSan fails here.

load test_helper/common
bats_require_minimum_version 1.5.0

replay() {
	local name=$1 files=()
	[ -x "$FF_BIN/fuzz/replay_$name" ] || fail "no $FF_BIN/fuzz/replay_$name: make check-build"
	shopt -s nullglob
	files=("$TOP/fuzz/corpus/$name"/* "$TOP/fuzz/crashes/$name"/*)
	[ "${#files[@]}" -gt 0 ] || fail "no seeds in fuzz/corpus/$name"
	run -0 "$FF_BIN/fuzz/replay_$name" "${files[@]}"
	[ "$output" = "${#files[@]} files replayed" ] || fail "$output"
}

@test "every harness of fuzz/ has seeds and a replay test" {
	local f name
	for f in "$TOP"/fuzz/fuzz_*.c; do
		name=${f##*/fuzz_}
		name=${name%.c}
		grep -q "^@test \"fuzz corpus: $name\"" "$BATS_TEST_FILENAME" || fail "no test replays $name"
	done
}

@test "fuzz corpus: csv" { replay csv; }
@test "fuzz corpus: rec" { replay rec; }
@test "fuzz corpus: time" { replay time; }
@test "fuzz corpus: spec" { replay spec; }
@test "fuzz corpus: join_spec" { replay join_spec; }
@test "fuzz corpus: blueprint" { replay blueprint; }
@test "fuzz corpus: request" { replay request; }
@test "fuzz corpus: model" { replay model; }
