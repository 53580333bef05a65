#!/usr/bin/env bats
# Conventions every ff command shares: help, version, usage errors, stdin,
# a closed pipe, completions in step with --help, a man page.

load test_helper/common

setup() { common_setup; }

commands() {
	local c
	for c in "$FF_BIN"/ff-*; do
		[ -x "$c" ] && basename "$c"
	done
}

@test "there are commands to check" {
	run commands
	assert_success
	assert_line ff-compute
}

@test "--help and -h print usage on stdout and exit 0" {
	for c in $(commands); do
		run "$c" --help
		assert_success
		assert_output --partial "usage: $c"
		run -0 "$c" -h
		[ -n "$output" ]
	done
}

@test "--version and -V print the version and exit 0" {
	for c in $(commands); do
		run -0 "$c" --version
		assert_output --regexp "^$c \(ff\) [0-9]+\.[0-9]+\.[0-9]+$"
		run -0 "$c" -V
	done
}

@test "an unknown option exits 2 with a message on stderr and nothing on stdout" {
	for c in $(commands); do
		run --separate-stderr "$c" --no-such-option
		[ "$status" -eq 2 ]
		[ -z "$output" ]
		[[ "$stderr" == *"$c"* ]]
	done
}

@test "a bad option is reported one way by every command (ff_opt)" {
	for c in $(commands); do
		[ "$c" = ff-compute ] && continue # its options are not on ff_opt yet
		try="Try '$c --help' for more information."
		run -2 --separate-stderr "$c" --no-such-option
		[ "$stderr" = "$c: unknown option '--no-such-option'
$try" ] || fail "$c --no-such-option: $stderr"
		run -2 --separate-stderr "$c" -Z
		[ "$stderr" = "$c: unknown option '-Z'
$try" ] || fail "$c -Z: $stderr"
		run -2 --separate-stderr "$c" --help=yes
		[ "$stderr" = "$c: option '--help=yes' takes no value
$try" ] || fail "$c --help=yes: $stderr"
	done
}

@test "every long option of --help is in the bash and zsh completions" {
	for c in $(commands); do
		for opt in $("$c" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
			grep -q -- "$opt" "$TOP/completions/ff.bash" || fail "$c $opt missing from completions/ff.bash"
			sed -n "/^_${c//-/_}()/,/^}/p" "$TOP/completions/_ff" | grep -q -- "$opt" ||
				fail "$c $opt missing from completions/_ff"
		done
		grep -q "$c" "$TOP/completions/ff.bash" || fail "$c not completed by bash"
	done
}

@test "every command has a man page, and every page passes mandoc's lint" {
	for c in $(commands); do
		[ -f "$TOP/man/$c.1" ] || fail "no man/$c.1"
	done
	for page in "$TOP"/man/*.[157]; do
		run mandoc -T lint -W warning "$page"
		assert_success
		assert_output ""
	done
}

@test "bash completion offers options" {
	source "$TOP/completions/ff.bash"
	COMP_WORDS=(ff-compute --sk)
	COMP_CWORD=1
	_ff
	[ "${COMPREPLY[*]}" = "--skip-bad" ]
	COMP_WORDS=(ff-compute --mode o)
	COMP_CWORD=2
	_ff
	[ "${COMPREPLY[*]}" = "overwrite" ]
}
