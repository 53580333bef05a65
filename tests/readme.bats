#!/usr/bin/env bats
# The README runs as written, as jq runs its manual: the ```console blocks
# of README.md are one session, run in order in a scratch directory that
# stands for the top of a fresh checkout (examples/ linked in), against the
# commands in $FF_BIN. A "$ " line is a command (it goes on while its shell
# text is not complete), the lines under it what it prints on stdout and
# stderr, "..." what varies. tests/fixtures/readme/transcript.py turns the
# blocks into a script and compares the outputs.

load test_helper/common
bats_require_minimum_version 1.5.0

TRANSCRIPT="/usr/bin/python3 $BATS_TEST_DIRNAME/fixtures/readme/transcript.py"

setup() {
	common_setup
	unset FF_REGISTRY
	OUT=$BATS_TEST_TMPDIR/transcript
	mkdir -p "$OUT"
}

# No server started by a transcript outlives its test.
teardown() {
	local pid
	for pid in $(cat "$OUT/pids" 2>/dev/null); do
		kill -KILL "$pid" 2>/dev/null || true
	done
}

# run_doc DOC: run the console blocks of DOC in the current directory (a
# command that hangs, such as a wait for a server that died, ends the run
# after 5 minutes).
run_doc() {
	$TRANSCRIPT script "$1" "$OUT" || fail "cannot read the blocks of $1"
	bash -n "$OUT/script.sh" || fail "the blocks of $1 are not shell text"
	run timeout 300 bash "$OUT/script.sh"
}

@test "README.md: every command of the session runs and prints what is shown" {
	ln -s "$TOP/examples" examples
	run_doc "$TOP/README.md"
	[ "$status" = 0 ] || fail "$output"
	[[ $output == *" commands run" ]] || fail "$output"
}

@test "the transcript check fails on other output, a failed command, and passes '...'" {
	cat > ok.md <<-'EOF'
		Text, and a block that is not a transcript:

		    $ not run

		```console
		$ printf 'a\nb\nc\n'; echo "it's" \
		    done
		a
		...
		c
		it's done
		$ ff-gen-trips -n 2 --seed 1 | cut -d, -f1
		tpep_pickup_datetime
		...
		$ sleep 30 &
		$ kill $!
		```
	EOF
	run_doc ok.md
	[ "$status" = 0 ] || fail "$output"
	[ "$output" = "4 commands run" ] || fail "$output"

	sed 's/^it.s done$/it is done/' ok.md > wrong.md
	run_doc wrong.md
	[ "$status" = 1 ] || fail "a wrong output passed: $output"
	assert_line --index 0 "wrong.md:6: the output differs from the one shown"
	assert_line "it is done"

	printf '```console\n$ true\n$ ff-compute --no-such-option\n$ echo not reached\n```\n' > fails.md
	run_doc fails.md
	[ "$status" = 1 ] || fail "a failed command passed: $output"
	assert_line --index 0 "fails.md:3: exit 2: ff-compute --no-such-option"
	refute_line "not reached"
}
