# Shared setup of the bats tests: the build under test first on PATH, a fixed
# locale and zone, a scratch directory, and bats-assert/bats-support.
bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load.bash'
load '/usr/lib/bats/bats-assert/load.bash'

TOP="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
: "${FF_BIN:=$TOP/build/check}"
PATH="$FF_BIN:$PATH"
export LC_ALL=C TZ=UTC NO_COLOR=1
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
SHARED_DATA="$TOP/../shared/data"
EXAMPLES="$TOP/examples/taxi"

common_setup() {
	WORK="$BATS_TEST_TMPDIR/work"
	mkdir -p "$WORK"
	cd "$WORK" || return 1
}

# Skip a test that needs the real sample when ../shared is not there.
need_sample() {
	[ -f "$SHARED_DATA/nyctaxi_sample.csv" ] || skip "no ../shared/data/nyctaxi_sample.csv"
}

# sqlite3 on a store, one row per line, columns separated by '|'.
q() {
	sqlite3 -batch "$1" "$2"
}
