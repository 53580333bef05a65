#!/usr/bin/env bats
# Found while reviewing the PostgreSQL store: an incremental sync into
# Redis after a version that only appended rows (no change feed since).

load test_helper/common
load test_helper/redis
bats_require_minimum_version 1.5.0

setup() { common_setup; }
teardown() { redis_stop_all; }

@test "ff-sync-online into Redis after a version that only appended: the new rows, as a full copy gives" {
	need_redis
	port=$(redis_start "$BATS_TEST_TMPDIR/redis")
	TBL=(--table t --time ts --key k --window 1h --feature 'n=count(*)')
	printf 'ts,k\n2018-01-01 00:10:00,a\n2018-01-01 00:20:00,b\n' > d1.csv
	printf 'ts,k\n2018-01-02 00:10:00,a\n' > d2.csv
	ff-compute -q -s s.db "${TBL[@]}" d1.csv
	ff-sync-online -q -s s.db --online "redis://127.0.0.1:$port/1"
	# Day 2 is later than every stored row: no change feed, an append.
	ff-compute -q -s s.db "${TBL[@]}" d2.csv
	[ "$(sqlite3 s.db 'SELECT count(*) FROM ff_changes_t')" -eq 0 ]
	run --separate-stderr ff-sync-online -s s.db --online "redis://127.0.0.1:$port/1"
	echo "$stderr"
	assert_success
	ff-sync-online -q -s s.db --online "redis://127.0.0.1:$port/2" --full
	# The times (scores) of key a's rows: both days', as the full copy's
	# (members carry a generation of their own: not compared).
	times() {
		redis-cli -p "$port" -n "$1" zrange "$(redis-cli -p "$port" -n "$1" --scan --pattern 'ff:t:*:{a}')" 0 -1 \
			withscores | mawk 'NR % 2 == 0'
	}
	[ "$(times 2 | wc -l)" -eq 2 ]
	diff -u <(times 2) <(times 1)
}
