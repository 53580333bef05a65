#!/usr/bin/env bats
# Faults every command must survive with one true message and no debris: a
# full disk (a small tmpfs, where the tests may mount one) and kill -9 (the
# temporary files of a killed run are removed by the next one).

load test_helper/common
bats_require_minimum_version 1.5.0

# For the whole file: a store, a training set, its blueprint and a model
# (about 30 KB) of 1,000 generated trips.
setup_file() {
	cd "$BATS_FILE_TMPDIR" || return 1
	ff-gen-trips -n 1000 --days 2 -o trips.csv
	ff-compute -q -s off.db -f "$EXAMPLES/pickup_features.spec" -f "$EXAMPLES/dropoff_features.spec" \
		--lateness 35d trips.csv
	ff-train-set -q -s off.db -f "$EXAMPLES/training_set.spec" -b bp -o ts.csv trips.csv
	ff-train -q -b bp -o model.json --rounds 3 ts.csv
}

setup() {
	common_setup
	cp "$BATS_FILE_TMPDIR"/{off.db,ts.csv,bp,model.json} .
}

teardown() {
	if [ -n "${WORK:-}" ] && mountpoint -q "$WORK/disk" 2>/dev/null; then
		umount "$WORK/disk"
	fi
}

# small_disk KB: ./disk, a tmpfs of KB kilobytes; the test is skipped, with
# the reason, where one cannot be mounted.
small_disk() {
	[ "$(id -u)" = 0 ] || skip "a full disk is a small tmpfs, and mounting one needs root"
	mkdir -p disk
	mount -t tmpfs -o "size=${1}k" tmpfs disk 2>/dev/null ||
		skip "cannot mount a tmpfs here (no CAP_SYS_ADMIN in this container?)"
}

# ff-train wrote the model, found the disk full, and exited 1 saying nothing.
@test "full disk: ff-train says so in one line and leaves no file" {
	small_disk 16
	run -1 --separate-stderr ff-train -q -b bp -o disk/model.json --rounds 3 ts.csv
	[ "$stderr" = "ff-train: disk/model.json: write error: No space left on device" ] || fail "$stderr"
	[ -z "$(ls disk)" ] || fail "left: $(ls disk)"
}

# ff-models register left a 0-byte registry that later read as "not an ff
# model registry".
@test "full disk: ff-models register fails in one line and leaves no registry" {
	small_disk 16
	run -1 --separate-stderr ff-models -r disk/models.db register taxi model.json
	[ "$stderr" = "ff-models: disk/models.db: database or disk is full" ] || fail "$stderr"
	[ -z "$(ls disk)" ] || fail "left: $(ls -l disk)"
	run -1 --separate-stderr ff-models -r disk/models.db list
	[ "$stderr" = "ff-models: disk/models.db: no such model registry (ff-models register makes one)" ] ||
		fail "$stderr"
}

# ff-sync-online said "table (null): database or disk is full".
@test "full disk: ff-sync-online fails in one line that names no null table" {
	small_disk 32
	run -1 --separate-stderr ff-sync-online -s off.db --online disk/on.db
	[[ $stderr != *$'\n'* && $stderr == "ff-sync-online: disk/on.db: "* && $stderr != *"(null)"* ]] ||
		fail "$stderr"
	[[ $stderr == *"disk is full" || $stderr == *"disk I/O error" ]] || fail "$stderr"
}

# A run killed with -9 left PATH.new-PID behind for good: the next run that
# writes PATH removes those of dead runs, and never a live run's.
@test "kill -9: the temporary file of a killed run is removed by the next run" {
	mkfifo in
	ff-cat -o out.csv in 3>&- &
	exec 4> in
	local pid i tmp
	for ((i = 0; i < 100; i++)); do
		[ -n "$(ls out.csv.new-* 2>/dev/null)" ] && break
		sleep 0.05
	done
	tmp=$(ls out.csv.new-*)
	pid=${tmp#out.csv.new-}
	kill -9 "$pid"
	wait "$pid" || true
	exec 4>&-
	# a live process's temporary file (this shell's) stays
	: > "out.csv.new-$$"
	printf 'a\n1\n' | ff-cat -o out.csv
	[ "$(ls out.csv*)" = "$(printf 'out.csv\nout.csv.new-%s' $$)" ] || fail "$(ls out.csv*)"
	[ "$(cat out.csv)" = "$(printf 'a\n1')" ]
	# the same for a model
	: > "model2.json.new-4194304"
	ff-train -q -b bp -o model2.json --rounds 1 ts.csv
	[ ! -e model2.json.new-4194304 ]
}
