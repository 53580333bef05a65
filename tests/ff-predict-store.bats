#!/usr/bin/env bats
# A model is bound to the store it was trained on (ff-blueprint(5),
# Binding): the blueprint records the store's identity, absolute path and
# each table's version and definition; ff-predict refuses another store or
# a redefined table, says where the store's path came from, and reports
# how many versions a table moved on since training.

load test_helper/common
bats_require_minimum_version 1.5.0

TRAIN_SPEC=$EXAMPLES/training_set.spec

# In $BATS_FILE_TMPDIR: trips.csv (300 trips) and other.csv (300 others);
# small.db and other.db, the taxi tables of each; bp and model.json,
# trained on small.db; req.csv, a few requests.
setup_file() {
	cd "$BATS_FILE_TMPDIR" || return 1
	ff-gen-trips -n 300 --days 2 -o trips.csv
	ff-gen-trips -n 300 --days 2 --seed 7 -o other.csv
	for s in small:trips other:other; do
		ff-compute -q -s "${s%%:*}.db" -f "$EXAMPLES/pickup_features.spec" \
			-f "$EXAMPLES/dropoff_features.spec" --lateness 35d "${s##*:}.csv"
	done
	ff-train-set -q -s small.db -f "$TRAIN_SPEC" -b bp -o ts.csv trips.csv
	ff-train -q -b bp -o model.json --rounds 5 ts.csv
	head -20 trips.csv > req.csv
	ff-predict -m model.json req.csv > expected.csv
}

setup() {
	common_setup
	F=$BATS_FILE_TMPDIR
}

id_of() { q "$1" 'SELECT id FROM ff_store_info'; }

@test "a store has a random 128-bit identity from its first write, kept by later writes" {
	run id_of "$F/small.db"
	assert_success
	[[ $output =~ ^[0-9a-f]{32}$ ]]
	[ "$(id_of "$F/small.db")" != "$(id_of "$F/other.db")" ]
	cp "$F/small.db" s.db
	before=$(id_of s.db)
	ff-gen-trips -n 50 --days 1 --start 2018-01-05 -o more.csv
	ff-compute -q -s s.db -f "$EXAMPLES/pickup_features.spec" --lateness 35d more.csv
	[ "$(id_of s.db)" = "$before" ]
}

@test "a store made before identities gets one on its next write" {
	cp "$F/small.db" s.db
	q s.db 'DROP TABLE ff_store_info'
	ff-gen-trips -n 50 --days 1 --start 2018-01-05 -o more.csv
	ff-compute -q -s s.db -f "$EXAMPLES/pickup_features.spec" --lateness 35d more.csv
	run id_of s.db
	[[ $output =~ ^[0-9a-f]{32}$ ]]
}

@test "the blueprint records the store's identity, absolute path and table definitions" {
	run grep -E '^(store|store-path|store-id|table-version|table-definition) ' "$F/bp"
	id=$(id_of "$F/small.db")
	diff -u - <(printf '%s\n' "$output" | sed 's/xxh3-128:[0-9a-f]\{32\}/HASH/') <<-EOF
	store small.db
	store-path $F/small.db
	store-id $id
	table-version 1
	table-definition HASH
	table-version 1
	table-definition HASH
	EOF
}

@test "run from another directory with its own small.db, the model reads its own store" {
	cp "$F/other.db" small.db
	run -0 ff-predict -m "$F/model.json" "$F/req.csv"
	diff -u "$F/expected.csv" - <<< "$output"
}

@test "another store is refused, naming where its path came from" {
	run -1 --separate-stderr ff-predict -m "$F/model.json" -s "$F/other.db" "$F/req.csv"
	[ -z "$output" ]
	diff -u - <(printf '%s\n' "$stderr") <<-EOF
	ff-predict: $F/other.db, given with --store, is another store (id $(id_of "$F/other.db"), the model was trained on $(id_of "$F/small.db")); give --store with the store the model was trained on, or --any-store
	EOF
}

@test "a store moved away: the message says the path came from the blueprint" {
	mkdir m && cp "$F/trips.csv" "$F/small.db" m/
	ff-train-set -q -s m/small.db -f "$TRAIN_SPEC" -b m/bp -o m/ts.csv m/trips.csv
	ff-train -q -b m/bp -o m/model.json --rounds 5 m/ts.csv
	mv m/small.db moved.db
	run -1 --separate-stderr ff-predict -m m/model.json "$F/req.csv"
	diff -u - <(printf '%s\n' "$stderr") <<-EOF
	ff-predict: $PWD/m/small.db, named in m/model.json's blueprint: No such file or directory; give --store
	EOF
	cp "$F/other.db" m/small.db
	run -1 --separate-stderr ff-predict -m m/model.json "$F/req.csv"
	diff -u - <(printf '%s\n' "$stderr") <<-EOF
	ff-predict: $PWD/m/small.db, named in m/model.json's blueprint, is another store (id $(id_of "$F/other.db"), the model was trained on $(id_of moved.db)); give --store
	EOF
	run -0 ff-predict -m m/model.json -s moved.db "$F/req.csv"
}

@test "a copy of the store is the same store" {
	cp "$F/small.db" copy.db
	run -0 --separate-stderr ff-predict -m "$F/model.json" -s copy.db "$F/req.csv"
	[ -z "$stderr" ]
	diff -u "$F/expected.csv" - <<< "$output"
}

@test "--any-store uses another store, with a warning on every run, -q or not" {
	run -0 --separate-stderr ff-predict -q -m "$F/model.json" -s "$F/other.db" --any-store "$F/req.csv"
	diff -u - <(printf '%s\n' "$stderr") <<-EOF
	ff-predict: warning: $F/other.db, given with --store, is another store (id $(id_of "$F/other.db"), the model was trained on $(id_of "$F/small.db")); used because of --any-store
	EOF
	[ "$(wc -l <<< "$output")" -eq 20 ]
}

@test "a table redefined with --replace is refused, --any-store or not" {
	cp "$F/small.db" s.db
	sed 's/^window .*/window 2h/' "$EXAMPLES/pickup_features.spec" > pickup.spec
	ff-compute -q -s s.db -f pickup.spec --replace --lateness 35d "$F/trips.csv"
	for any in "" --any-store; do
		run -1 --separate-stderr ff-predict -m "$F/model.json" -s s.db $any "$F/req.csv"
		[[ $stderr =~ ^"ff-predict: s.db, given with --store: table trip_pickup_features was redefined since $F/model.json was trained (definition xxh3-128:" ]]
		[[ $stderr =~ "; retrain the model"$ ]]
	done
}

@test "a newer version of a table is used, and --stats says how far it is from training's" {
	cp "$F/small.db" s.db
	ff-gen-trips -n 50 --days 1 --start 2018-01-05 -o more.csv
	ff-compute -q -s s.db -f "$EXAMPLES/pickup_features.spec" --lateness 35d more.csv
	run -0 --separate-stderr ff-predict -m "$F/model.json" -s s.db --stats "$F/req.csv"
	[[ $stderr == *" fallbacks; table versions trip_pickup_features 2 (model 1, +1), trip_dropoff_features 1 (model 1, +0); scorer "* ]] ||
		fail "$stderr"
}

@test "a blueprint made before identities is bound by its store line, relative to the current directory" {
	grep -vE '^(store-path|store-id|table-definition) ' "$F/bp" > old.bp
	ff-train -q -b old.bp -o old.json --rounds 5 "$F/ts.csv"
	run -1 --separate-stderr ff-predict -m old.json "$F/req.csv"
	diff -u - <(printf '%s\n' "$stderr") <<-EOF
	ff-predict: small.db, named in old.json's blueprint: No such file or directory; give --store
	EOF
	cp "$F/small.db" .
	run -0 ff-predict -m old.json "$F/req.csv"
	diff -u "$F/expected.csv" - <<< "$output"
	run -0 ff-predict -m old.json -s "$F/other.db" "$F/req.csv"
}
