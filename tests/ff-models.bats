#!/usr/bin/env bats
# ff-models: the model registry. Artifacts are trained once per file on 2,000
# generated trips with the taxi specs (three rounds, seeds 1 and 2: two
# different models of one blueprint), plus one whose lookup takes every
# feature of its table.

load test_helper/common
bats_require_minimum_version 1.5.0

setup_file() {
	local d=$BATS_FILE_TMPDIR
	ff-gen-trips -n 2000 -o "$d/trips.csv"
	ff-compute -q -s "$d/off.db" -f "$EXAMPLES/pickup_features.spec" -f "$EXAMPLES/dropoff_features.spec" \
		--lateness 35d "$d/trips.csv"
	ff-train-set -q -s "$d/off.db" -f "$EXAMPLES/training_set.spec" -b "$d/ts.blueprint" -o "$d/ts.csv" \
		"$d/trips.csv"
	ff-train -q -b "$d/ts.blueprint" -o "$d/a.json" --rounds 3 --seed 1 "$d/ts.csv"
	ff-train -q -b "$d/ts.blueprint" -o "$d/b.json" --rounds 3 --seed 2 "$d/ts.csv"
	printf '%s\n' 'lookup trip_pickup_features' 'key pickup_zip' 'label fare_amount' \
		'inputs trip_distance' >"$d/all.spec"
	ff-train-set -q -s "$d/off.db" -f "$d/all.spec" -b "$d/all.blueprint" -o "$d/all.csv" "$d/trips.csv"
	ff-train -q -b "$d/all.blueprint" -o "$d/all.json" --rounds 3 "$d/all.csv"
}

setup() {
	common_setup
	unset FF_REGISTRY
	cp "$BATS_FILE_TMPDIR"/{a,b,all}.json .
}

# An attribute of an artifact (sqlite3 reads the JSON; no jq needed).
attr() {
	sqlite3 :memory: "SELECT json_extract(CAST(readfile('$1') AS TEXT), '\$.learner.attributes.$2')" | grep .
}

# The holdout RMSE an artifact carries, as ff-models list prints it.
rmse() {
	attr "$1" ff_metrics | awk '$1 == "holdout_rmse" { print $2 }'
}

# What sqlite3 makes of a number, to compare with JSON read by sqlite3.
num() {
	sqlite3 :memory: "SELECT $1"
}

# Align '|'-separated columns as ff-models does: each but the last padded to
# its widest cell, two spaces between.
align() {
	awk -F'|' '{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n[NR] = NF }
		END { for (r = 1; r <= NR; r++) { line = ""
			for (i = 1; i < n[r]; i++) line = line sprintf("%-" w[i] "s  ", c[r, i])
			print line c[r, n[r]] } }'
}

# "KEY VALUE" lines as aligned columns.
align_pairs() {
	sed 's/ /|/' | align
}

# The hash ff-models keeps of a registered file.
hash_of() {
	q models.db "SELECT hash FROM models WHERE source = '$PWD/$1'"
}

# Creation times vary: the same width of letters instead.
mask_time() {
	sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}/YYYY-MM-DD HH:MM:SS/g'
}

# ---- register ----

@test "register prints models:/NAME/VERSION and numbers versions per name from 1" {
	run -0 ff-models register taxi a.json
	assert_output models:/taxi/1
	run -0 ff-models register taxi b.json
	assert_output models:/taxi/2
	run -0 ff-models register other b.json
	assert_output models:/other/1
	run -0 q models.db "PRAGMA application_id; PRAGMA journal_mode; SELECT name, version, size FROM models ORDER BY 1, 2"
	diff -u - <(printf '%s\n' 1717960706 wal "other|1|$(stat -c %s b.json)" "taxi|1|$(stat -c %s a.json)" \
		"taxi|2|$(stat -c %s b.json)") <<<"$output"
}

# XGBoost 1.7 crashed (exit 139) registering a model whose num_trees is
# above the trees it gives: every model is checked before XGBoost reads it.
@test "register refuses a damaged model with one line, exit 1, and registers nothing" {
	[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3"
	local damage=$BATS_TEST_DIRNAME/fixtures/model/damage.py
	/usr/bin/python3 "$damage" a.json 'g["gbtree_model_param"]["num_trees"] = "9"' > bad.json
	run -1 --separate-stderr ff-models register taxi bad.json
	[ -z "$output" ]
	[ "$stderr" = "ff-models: bad.json: num_trees is 9 but 3 trees are given" ]
	/usr/bin/python3 "$damage" a.json 't[2]["split_indices"][0] = 70' > bad.json
	run -1 --separate-stderr ff-models register taxi bad.json
	[ "$stderr" = "ff-models: bad.json: tree 2: split_indices[0] = 70 out of range (num_feature 7)" ]
	[ ! -e models.db ]
	run -0 ff-models register taxi a.json
	assert_output models:/taxi/1
}

@test "register keeps the hash, the real source path and the lineage of the blueprint" {
	ff-models register taxi a.json >/dev/null
	ff-models register taxi b.json >/dev/null
	run -0 q models.db "SELECT hash, source FROM models ORDER BY version"
	assert_line --index 0 --regexp "^xxh3-128:[0-9a-f]{32}\|$PWD/a.json\$"
	assert_line --index 1 --regexp "^xxh3-128:[0-9a-f]{32}\|$PWD/b.json\$"
	[ "$(hash_of a.json)" != "$(hash_of b.json)" ]
	run -0 q models.db "DELETE FROM lineage WHERE version = 2"
	run -0 q models.db "SELECT lookup, position, table_name, table_version, feature FROM lineage ORDER BY 1, 2"
	diff -u - <<-'EOF' <(echo "$output")
	0|0|trip_pickup_features|1|mean_fare_window_1h_pickup_zip
	0|1|trip_pickup_features|1|count_trips_window_1h_pickup_zip
	1|0|trip_dropoff_features|1|count_trips_window_30m_dropoff_zip
	1|1|trip_dropoff_features|1|dropoff_is_weekend
	EOF
}

@test "registering the identical artifact again gives its version, no new one" {
	ff-models register taxi a.json >/dev/null
	ff-models register taxi b.json >/dev/null
	cp a.json again.json
	run -0 ff-models register taxi again.json
	assert_output models:/taxi/1
	run -0 q models.db "SELECT count(*) FROM models"
	assert_output 2
	# Under another name it is another model.
	run -0 ff-models register taxi2 a.json
	assert_output models:/taxi2/1
}

@test "register again with --alias and --description sets them on the version there" {
	ff-models register taxi a.json >/dev/null
	run -0 ff-models register --alias champion --description 'seed 1' taxi a.json
	assert_output models:/taxi/1
	run -0 q models.db "SELECT m.version, description, alias FROM models m JOIN aliases USING (name)"
	assert_output "1|seed 1|champion"
}

@test "register with several --alias and a --description" {
	run -0 ff-models register taxi a.json --alias champion --alias staging --description 'first, "quoted"'
	assert_output models:/taxi/1
	run -0 ff-models list --format csv
	assert_line --index 1 --regexp '^models:/taxi/1,taxi,1,"champion,staging",.*,"first, ""quoted"""$'
}

@test "register reads the model from stdin with -" {
	run -0 ff-models register taxi - <a.json
	assert_output models:/taxi/1
	ff-models export taxi/1 | cmp - a.json
	run -0 q models.db "SELECT source IS NULL FROM models"
	assert_output 1
}

@test "register refuses what is not an ff model, and creates no registry" {
	run -1 ff-models register taxi "$BATS_FILE_TMPDIR/ts.csv"
	assert_output "ff-models: $BATS_FILE_TMPDIR/ts.csv: not an ff model (not an XGBoost JSON model)"
	: >empty.json
	run -1 ff-models register taxi empty.json
	assert_output "ff-models: empty.json: not an ff model (not an XGBoost JSON model)"
	echo '{"learner": 1}' >bad.json
	run -1 ff-models register taxi bad.json
	assert_output "ff-models: bad.json: learner is missing or not an object"
	sqlite3 :memory: "SELECT json_remove(CAST(readfile('a.json') AS TEXT), '\$.learner.attributes.ff_format')" >plain.json
	run -1 ff-models register taxi plain.json
	assert_output "ff-models: plain.json: not an ff model (no ff-model 1 attributes)"
	run -1 ff-models register taxi missing.json
	assert_output "ff-models: missing.json: No such file or directory"
	[ ! -e models.db ]
}

@test "register warns of a blueprint without table versions; -q silences it" {
	sqlite3 :memory: "SELECT json_set(j, '\$.learner.attributes.ff_blueprint',
		replace(json_extract(j, '\$.learner.attributes.ff_blueprint'), 'table-version 1' || char(10), ''))
		FROM (SELECT CAST(readfile('a.json') AS TEXT) AS j)" >old.json
	run -0 --separate-stderr ff-models register old old.json
	assert_output models:/old/1
	diff -u - <(echo "$stderr") <<-'EOF'
	ff-models: warning: old.json: the blueprint gives no table version of lookup trip_pickup_features
	ff-models: warning: old.json: the blueprint gives no table version of lookup trip_dropoff_features
	EOF
	run -0 --separate-stderr ff-models -q register old2 old.json
	assert_output models:/old2/1
	[ -z "$stderr" ]
	run -0 ff-models needs old --format csv
	diff -u - <(echo "$output") <<-'EOF'
	table,table_version,features
	trip_pickup_features,,"mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip"
	trip_dropoff_features,,"count_trips_window_30m_dropoff_zip,dropoff_is_weekend"
	EOF
	run -0 ff-models needs old
	assert_line --index 1 --regexp '^trip_pickup_features +- +mean_fare'
	run -1 ff-models register dir .
	assert_output "ff-models: .: Is a directory"
}

@test "register: bad names and aliases, missing or extra arguments are usage errors" {
	run -2 ff-models register 9taxi a.json
	assert_line --index 0 "ff-models: bad model name '9taxi': letters, digits, _ . - with a letter or _ first"
	run -2 ff-models register taxi a.json --alias 'no way'
	assert_line --index 0 "ff-models: bad alias 'no way': letters, digits, _ . - with a letter or _ first"
	run -2 ff-models register taxi
	assert_output - <<-'EOF'
	ff-models: register needs more arguments
	usage: ff-models [-r REGISTRY] register NAME MODEL [--alias ALIAS]... [--description TEXT]
	EOF
	run -2 ff-models register taxi a.json b.json
	assert_line --index 0 "ff-models: register has too many arguments"
	run -2 ff-models register taxi a.json --force
	assert_line --index 0 "ff-models: register does not take --force"
	[ ! -e models.db ]
}

@test "names may hold letters, digits, _ . - after a letter or _" {
	run -0 ff-models register _Taxi.fare-v2 a.json --alias prod.eu-1
	assert_output models:/_Taxi.fare-v2/1
	ff-models export models:/_Taxi.fare-v2@prod.eu-1 | cmp - a.json
}

@test "two processes registering at once get distinct versions" {
	for round in 1 2 3; do
		rm -f race.db*
		ff-models -r race.db register taxi a.json >out.a &
		ff-models -r race.db register taxi b.json >out.b &
		wait %1
		wait %2
		run -0 sort out.a out.b
		assert_output "$(printf 'models:/taxi/1\nmodels:/taxi/2')"
		ff-models -r race.db export "$(cat out.a)" | cmp - a.json
		ff-models -r race.db export "$(cat out.b)" | cmp - b.json
	done
}

@test "two processes registering the same artifact at once get one version" {
	ff-models -r race.db register taxi a.json >out.1 &
	ff-models -r race.db register taxi a.json >out.2 &
	wait %1
	wait %2
	run -0 cat out.1 out.2
	assert_output "$(printf 'models:/taxi/1\nmodels:/taxi/1')"
}

# ---- list ----

@test "list: one aligned line per version with its aliases and holdout RMSE" {
	ff-models register taxi a.json --alias champion --alias prod >/dev/null
	ff-models register taxi b.json >/dev/null
	ff-models register everything all.json --alias new >/dev/null
	run -0 ff-models list
	diff -u - <(mask_time <<<"$output") <<-EOF
	$(align <<-ROWS
	NAME|VERSION|ALIASES|CREATED|HOLDOUT_RMSE
	everything|1|new|YYYY-MM-DD HH:MM:SS|$(rmse all.json)
	taxi|1|champion,prod|YYYY-MM-DD HH:MM:SS|$(rmse a.json)
	taxi|2|-|YYYY-MM-DD HH:MM:SS|$(rmse b.json)
	ROWS
	)
	EOF
	run -0 ff-models list taxi
	assert_equal "${#lines[@]}" 3
	assert_line --index 2 --regexp "^taxi +2 +- +[0-9-]+ [0-9:]+ +$(rmse b.json)$"
}

@test "list --format csv and json" {
	ff-models register taxi a.json --alias champion --description 'seed 1' >/dev/null
	ff-models register taxi b.json >/dev/null
	run -0 ff-models list --format csv
	diff -u - <(mask_time <<<"$output") <<-EOF
	ref,name,version,aliases,created,holdout_rmse,size,hash,source,description
	models:/taxi/1,taxi,1,champion,YYYY-MM-DD HH:MM:SS,$(rmse a.json),$(stat -c %s a.json),$(hash_of a.json),$PWD/a.json,seed 1
	models:/taxi/2,taxi,2,,YYYY-MM-DD HH:MM:SS,$(rmse b.json),$(stat -c %s b.json),$(hash_of b.json),$PWD/b.json,
	EOF
	ff-models list --format json >list.json
	run -0 q :memory: "SELECT json_extract(value, '\$.ref'), json_extract(value, '\$.version'),
		json_extract(value, '\$.aliases'), json_extract(value, '\$.holdout_rmse'),
		ifnull(json_extract(value, '\$.description'), 'null'), json_extract(value, '\$.source'),
		json_extract(value, '\$.created') GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]'
		FROM json_each(CAST(readfile('list.json') AS TEXT))"
	diff -u - <(echo "$output") <<-EOF
	models:/taxi/1|1|["champion"]|$(num "$(rmse a.json)")|seed 1|$PWD/a.json|1
	models:/taxi/2|2|[]|$(num "$(rmse b.json)")|null|$PWD/b.json|1
	EOF
}

@test "list of an unknown name fails; a registry with no versions left lists none" {
	ff-models register taxi a.json >/dev/null
	run -1 ff-models list nope
	assert_output "ff-models: models.db: no model named 'nope'"
	ff-models delete taxi/1
	run -0 ff-models list
	assert_output "NAME  VERSION  ALIASES  CREATED  HOLDOUT_RMSE"
	run -0 ff-models list --format json
	assert_output "[]"
}

# ---- show ----

@test "show: metadata, metrics, params, vector, tables and importance" {
	ff-models register taxi a.json --alias champion --description 'seed 1' >/dev/null
	run -0 ff-models show models:/taxi@champion
	mask_time <<<"$output" >actual
	{
		echo models:/taxi/1
		align <<-EOF
		aliases|champion
		created|YYYY-MM-DD HH:MM:SS
		size|$(stat -c %s a.json)
		hash|$(hash_of a.json)
		source|$PWD/a.json
		description|seed 1
		label|fare_amount
		EOF
		printf '\nmetrics\n'
		attr a.json ff_metrics | align_pairs | sed 's/^/  /'
		printf '\nparams\n'
		attr a.json ff_params | align_pairs | sed 's/^/  /'
		printf '\nvector\n'
		attr a.json ff_blueprint | sed -n 's/^vector //p' | align_pairs | sed 's/^/  /'
		printf '\ntables\n'
		align <<-EOF | sed 's/^/  /'
		trip_pickup_features|1|mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip
		trip_dropoff_features|1|count_trips_window_30m_dropoff_zip,dropoff_is_weekend
		EOF
		printf '\nimportance\n'
		attr a.json ff_importance | sort -k2,2gr -s | align_pairs | sed 's/^/  /'
	} >expected
	diff -u expected actual
}

@test "show --format json holds what the artifact says" {
	ff-models register taxi a.json --alias champion >/dev/null
	ff-models show --format json taxi >show.json
	# Each object of show.json as "KEY VALUE" lines.
	pairs() {
		q :memory: "SELECT key || ' ' || value FROM json_each(CAST(readfile('show.json') AS TEXT), '\$.$1')"
	}
	run -0 pairs metrics
	diff -u <(attr a.json ff_metrics | awk '{ print $1, $2 + 0 }') <(awk '{ print $1, $2 + 0 }' <<<"$output")
	run -0 pairs params
	diff -u <(attr a.json ff_params) - <<<"$output"
	run -0 pairs vector
	diff -u <(attr a.json ff_blueprint | sed -n 's/^vector //p') - <<<"$output"
	run -0 pairs importance
	diff -u <(attr a.json ff_importance | sort -k2,2gr -s | awk '{ print $1, $2 + 0 }') \
		<(awk '{ print $1, $2 + 0 }' <<<"$output")
	run -0 q :memory: "SELECT json_extract(j, '\$.ref', '\$.name', '\$.version', '\$.aliases', '\$.label',
		'\$.source', '\$.description', '\$.tables') FROM (SELECT CAST(readfile('show.json') AS TEXT) AS j)"
	assert_output '["models:/taxi/1","taxi",1,["champion"],"fare_amount","'"$PWD"'/a.json",null,[{"table":"trip_pickup_features","table_version":1,"features":["mean_fare_window_1h_pickup_zip","count_trips_window_1h_pickup_zip"]},{"table":"trip_dropoff_features","table_version":1,"features":["count_trips_window_30m_dropoff_zip","dropoff_is_weekend"]}]]'
}

@test "show: unknown model, version or alias fails naming the registry; bad references are usage errors" {
	ff-models register taxi a.json --alias champion >/dev/null
	run -1 ff-models show nope
	assert_output "ff-models: models.db: no model named 'nope'"
	run -1 ff-models show models:/taxi/7
	assert_output "ff-models: models.db: model 'taxi' has no version 7"
	run -1 ff-models show models:/taxi@staging
	assert_output "ff-models: models.db: model 'taxi' has no alias 'staging'"
	for bad in models:/taxi/0 models:/taxi/x models:/taxi/ models:/taxi@ models:/ 'ta xi' models:/taxi/1/2; do
		run -2 ff-models show "$bad"
		assert_line --index 0 --partial "ff-models: bad model reference '$bad': "
		assert_line --index 1 "Try 'ff-models --help' for more information."
	done
	run -2 ff-models show --format csv taxi
	assert_line --index 0 "ff-models: show has no csv format: use text or json"
	run -2 ff-models show
	assert_line --index 0 "ff-models: show needs more arguments"
}

# ---- alias, unalias ----

@test "alias points a name at a version and moves it; unalias removes it" {
	ff-models register taxi a.json >/dev/null
	ff-models register taxi b.json >/dev/null
	run -0 ff-models alias taxi 1 champion
	assert_output ""
	ff-models export taxi@champion | cmp - a.json
	run -0 ff-models alias taxi 2 champion
	assert_output ""
	ff-models export taxi@champion | cmp - b.json
	run -0 q models.db "SELECT alias, version FROM aliases"
	assert_output "champion|2"
	run -0 ff-models unalias taxi champion
	assert_output ""
	run -1 ff-models export taxi@champion
	assert_output "ff-models: models.db: model 'taxi' has no alias 'champion'"
}

@test "alias and unalias errors" {
	ff-models register taxi a.json >/dev/null
	run -1 ff-models alias taxi 3 champion
	assert_output "ff-models: models.db: model 'taxi' has no version 3"
	run -1 ff-models alias nope 1 champion
	assert_output "ff-models: models.db: no model named 'nope'"
	run -1 ff-models unalias taxi champion
	assert_output "ff-models: models.db: model 'taxi' has no alias 'champion'"
	run -1 ff-models unalias nope champion
	assert_output "ff-models: models.db: no model named 'nope'"
	run -2 ff-models alias taxi one champion
	assert_line --index 0 "ff-models: bad version 'one': a whole number from 1"
	run -2 ff-models alias taxi 0 champion
	assert_line --index 0 "ff-models: bad version '0': a whole number from 1"
	run -2 ff-models alias taxi 1 2nd
	assert_line --index 0 "ff-models: bad alias '2nd': letters, digits, _ . - with a letter or _ first"
	run -2 ff-models alias taxi 1
	assert_output - <<-'EOF'
	ff-models: alias needs more arguments
	usage: ff-models [-r REGISTRY] alias NAME VERSION ALIAS
	EOF
	run -2 ff-models unalias taxi
	assert_line --index 0 "ff-models: unalias needs more arguments"
	run -1 ff-models -r none.db alias taxi 1 champion
	assert_output "ff-models: none.db: no such model registry (ff-models register makes one)"
	[ ! -e none.db ]
}

# ---- delete ----

@test "delete removes a version, its artifact and lineage; its number is never given again" {
	ff-models register taxi a.json >/dev/null
	ff-models register taxi b.json >/dev/null
	run -0 ff-models delete models:/taxi/2
	assert_output ""
	run -0 q models.db "SELECT count(*) FROM models WHERE version = 2; SELECT count(*) FROM lineage WHERE version = 2"
	assert_output "$(printf '0\n0')"
	run -1 ff-models export taxi/2
	assert_output "ff-models: models.db: model 'taxi' has no version 2"
	# The latest is now 1; the next version is 3.
	ff-models export taxi | cmp - a.json
	run -0 ff-models register taxi b.json
	assert_output models:/taxi/3
	ff-models delete taxi/1
	ff-models delete taxi/3
	run -0 ff-models register taxi a.json
	assert_output models:/taxi/4
}

@test "delete refuses a version an alias points to, unless --force, which removes the alias" {
	ff-models register taxi a.json --alias champion --alias prod >/dev/null
	run -1 ff-models delete taxi/1
	assert_output "ff-models: models.db: models:/taxi/1 has alias champion,prod: move or remove it first, or use --force"
	run -1 ff-models delete taxi@prod
	assert_output "ff-models: models.db: models:/taxi/1 has alias champion,prod: move or remove it first, or use --force"
	ff-models export taxi/1 | cmp - a.json
	run -0 ff-models delete --force taxi@prod
	assert_output ""
	run -0 q models.db "SELECT count(*) FROM models; SELECT count(*) FROM aliases"
	assert_output "$(printf '0\n0')"
}

@test "delete errors" {
	ff-models register taxi a.json >/dev/null
	run -2 ff-models delete taxi
	assert_line --index 0 "ff-models: delete taxi: give the version to delete, as models:/NAME/VERSION"
	run -2 ff-models delete models:/taxi
	assert_line --index 0 "ff-models: delete models:/taxi: give the version to delete, as models:/NAME/VERSION"
	run -1 ff-models delete taxi/5
	assert_output "ff-models: models.db: model 'taxi' has no version 5"
	run -1 ff-models delete nope/1
	assert_output "ff-models: models.db: no model named 'nope'"
	run -2 ff-models delete
	assert_line --index 0 "ff-models: delete needs more arguments"
	run -2 ff-models delete taxi/1 --alias x
	assert_line --index 0 "ff-models: delete does not take --alias"
	ff-models export taxi/1 | cmp - a.json
}

# ---- export ----

@test "export: the three reference forms give the registered bytes" {
	ff-models register taxi a.json >/dev/null
	ff-models register taxi b.json --alias champion >/dev/null
	ff-models export models:/taxi/1 >v1.json
	cmp v1.json a.json
	ff-models export models:/taxi@champion >alias.json
	cmp alias.json b.json
	ff-models export models:/taxi >latest.json
	cmp latest.json b.json
	# Without the prefix, and with -o.
	run -0 ff-models export taxi/1 -o out.json
	assert_output ""
	cmp out.json a.json
	run -0 ff-models export --output out2.json taxi@champion
	cmp out2.json b.json
	# The exported artifact is a model ff-models takes again as the same version.
	run -0 ff-models register taxi v1.json
	assert_output models:/taxi/1
}

@test "export of an unknown reference fails and writes no file" {
	ff-models register taxi a.json >/dev/null
	run -1 ff-models export taxi/2 -o out.json
	assert_output "ff-models: models.db: model 'taxi' has no version 2"
	[ ! -e out.json ]
	run -1 ff-models export nope -o out.json
	assert_output "ff-models: models.db: no model named 'nope'"
	[ ! -e out.json ]
	run -2 ff-models export
	assert_line --index 0 "ff-models: export needs more arguments"
	run -2 ff-models list -o x
	assert_line --index 0 "ff-models: list does not take --output"
}

@test "export into a closed pipe ends quietly" {
	ff-models register taxi a.json >/dev/null
	run -0 bash -c 'set -o pipefail; ff-models export taxi | head -c 10; echo " status ${PIPESTATUS[0]}"'
	assert_output --regexp '^\{.* status (0|141)$'
}

# ---- lineage ----

@test "needs: the tables, versions and features a model reads" {
	ff-models register taxi a.json --alias champion >/dev/null
	ff-models register everything all.json >/dev/null
	run -0 ff-models needs taxi@champion
	diff -u - <(echo "$output") <<-'EOF'
	TABLE                  VERSION  FEATURES
	trip_pickup_features   1        mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip
	trip_dropoff_features  1        count_trips_window_30m_dropoff_zip,dropoff_is_weekend
	EOF
	run -0 ff-models needs everything --format csv
	diff -u - <(echo "$output") <<-'EOF'
	table,table_version,features
	trip_pickup_features,1,*
	EOF
	run -0 ff-models needs models:/taxi/1 --format csv
	diff -u - <(echo "$output") <<-'EOF'
	table,table_version,features
	trip_pickup_features,1,"mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip"
	trip_dropoff_features,1,"count_trips_window_30m_dropoff_zip,dropoff_is_weekend"
	EOF
	run -0 ff-models needs everything --format json
	diff -u - <(echo "$output") <<-'EOF'
	[
	  {"table": "trip_pickup_features", "table_version": 1, "features": null}
	]
	EOF
	run -1 ff-models needs taxi/9
	assert_output "ff-models: models.db: model 'taxi' has no version 9"
}

@test "uses: the models that read a table, or one of its features" {
	ff-models register taxi a.json >/dev/null
	ff-models register taxi b.json >/dev/null
	ff-models register everything all.json >/dev/null
	ff-models delete taxi/1
	run -0 ff-models uses trip_pickup_features
	assert_output "$(printf 'models:/everything/1\nmodels:/taxi/2')"
	run -0 ff-models uses trip_dropoff_features
	assert_output models:/taxi/2
	run -0 ff-models uses trip_dropoff_features.dropoff_is_weekend
	assert_output models:/taxi/2
	# A model whose lookup takes every feature of the table uses each one.
	run -0 ff-models uses trip_pickup_features.mean_fare_window_1h_pickup_zip
	assert_output "$(printf 'models:/everything/1\nmodels:/taxi/2')"
	run -0 ff-models uses trip_dropoff_features.no_such_feature
	assert_output ""
	run -0 ff-models uses no_such_table
	assert_output ""
}

@test "uses --format csv and json give a line per lookup" {
	ff-models register taxi a.json >/dev/null
	ff-models register everything all.json >/dev/null
	run -0 ff-models uses trip_pickup_features --format csv
	diff -u - <(echo "$output") <<-'EOF'
	ref,name,version,table,table_version,features
	models:/everything/1,everything,1,trip_pickup_features,1,*
	models:/taxi/1,taxi,1,trip_pickup_features,1,"mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip"
	EOF
	run -0 ff-models uses trip_dropoff_features.dropoff_is_weekend --format json
	diff -u - <(echo "$output") <<-'EOF'
	[
	  {"ref": "models:/taxi/1", "name": "taxi", "version": 1, "table": "trip_dropoff_features", "table_version": 1, "features": ["count_trips_window_30m_dropoff_zip", "dropoff_is_weekend"]}
	]
	EOF
	run -0 ff-models uses nothing --format json
	assert_output "[]"
}

@test "uses and needs: usage errors" {
	ff-models register taxi a.json >/dev/null
	run -2 ff-models uses 'bad table'
	assert_line --index 0 "ff-models: bad table 'bad table': use TABLE or TABLE.FEATURE"
	run -2 ff-models uses a.b.c
	assert_line --index 0 "ff-models: bad table 'a.b.c': use TABLE or TABLE.FEATURE"
	run -2 ff-models uses
	assert_line --index 0 "ff-models: uses needs more arguments"
	run -2 ff-models needs
	assert_line --index 0 "ff-models: needs needs more arguments"
	run -2 ff-models needs taxi --format yaml
	assert_line --index 0 "ff-models: bad --format 'yaml': use text, csv or json"
}

# ---- the registry file ----

@test "the registry is models.db, else \$FF_REGISTRY, else -r" {
	run -0 ff-models register taxi a.json
	[ -f models.db ]
	export FF_REGISTRY=env.db
	run -0 ff-models register taxi b.json
	assert_output models:/taxi/1
	[ -f env.db ]
	run -0 ff-models -r opt.db register taxi a.json --alias x
	assert_output models:/taxi/1
	run -0 ff-models --registry=opt.db list --format csv
	assert_line --index 1 --regexp '^models:/taxi/1,taxi,1,x,'
	ff-models export taxi | cmp - b.json
	ff-models -r models.db export taxi | cmp - a.json
	unset FF_REGISTRY
	ff-models export taxi | cmp - a.json
}

@test "reading a missing registry, or a file that is not one, fails naming it" {
	run -1 ff-models list
	assert_output "ff-models: models.db: no such model registry (ff-models register makes one)"
	[ ! -e models.db ]
	for c in "show taxi" "export taxi" "needs taxi" "uses t" "delete taxi/1" "unalias taxi a"; do
		run -1 ff-models -r gone.db $c
		assert_output "ff-models: gone.db: no such model registry (ff-models register makes one)"
	done
	[ ! -e gone.db ]
	run -1 ff-models -r "$BATS_FILE_TMPDIR/off.db" list
	assert_output "ff-models: $BATS_FILE_TMPDIR/off.db: not an ff model registry"
	run -1 ff-models -r "$BATS_FILE_TMPDIR/off.db" register taxi a.json
	assert_output "ff-models: $BATS_FILE_TMPDIR/off.db: not an ff model registry"
	run -1 ff-models -r a.json register taxi b.json
	assert_output "ff-models: a.json: not an ff model registry (not an SQLite database)"
	cmp a.json "$BATS_FILE_TMPDIR/a.json"
}

@test "command line: no command, an unknown one, options of other commands" {
	run -2 ff-models
	assert_output - <<-'EOF'
	ff-models: no command: give register, list, show, alias, unalias, delete, export, uses or needs
	Try 'ff-models --help' for more information.
	EOF
	run -2 ff-models frob
	assert_line --index 0 "ff-models: unknown command 'frob': use register, list, show, alias, unalias, delete, export, uses or needs"
	run -2 ff-models list --description x
	assert_line --index 0 "ff-models: list does not take --description"
	run -2 ff-models needs taxi --force
	assert_line --index 0 "ff-models: needs does not take --force"
	run -2 ff-models --bogus list
	assert_line --index 1 "Try 'ff-models --help' for more information."
	run -0 ff-models --help
	assert_line --index 0 "usage: ff-models [-r REGISTRY] COMMAND [ARG...]"
	run -0 ff-models -V
	assert_output --regexp '^ff-models \(ff\) [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "the examples of ff-models(1) and ff-registry(5)" {
	# The commands of the pages, on the small models: the outputs that do not
	# depend on the model are compared whole.
	run -0 ff-models register --alias champion taxi_fare a.json
	assert_output models:/taxi_fare/1
	run -0 ff-models register --description 'rounds 50' taxi_fare b.json
	assert_output models:/taxi_fare/2
	run -0 ff-models register taxi_fare b.json
	assert_output models:/taxi_fare/2
	run -0 ff-models list
	assert_line --index 0 "NAME       VERSION  ALIASES   CREATED              HOLDOUT_RMSE"
	assert_line --index 1 --regexp '^taxi_fare  1        champion  [0-9-]{10} [0-9:]{8}  [0-9.]+$'
	assert_line --index 2 --regexp '^taxi_fare  2        -         [0-9-]{10} [0-9:]{8}  [0-9.]+$'
	run -0 ff-models needs taxi_fare@champion
	diff -u - <(echo "$output") <<-'EOF'
	TABLE                  VERSION  FEATURES
	trip_pickup_features   1        mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip
	trip_dropoff_features  1        count_trips_window_30m_dropoff_zip,dropoff_is_weekend
	EOF
	run -0 ff-models uses trip_dropoff_features.dropoff_is_weekend
	assert_output "$(printf 'models:/taxi_fare/1\nmodels:/taxi_fare/2')"
	run -1 ff-models delete taxi_fare/1
	assert_output "ff-models: models.db: models:/taxi_fare/1 has alias champion: move or remove it first, or use --force"
	run -0 ff-models alias taxi_fare 2 champion
	assert_output ""
	run -0 ff-models delete taxi_fare/1
	assert_output ""
	run -0 ff-models export models:/taxi_fare@champion -o champion.json
	assert_output ""
	cmp champion.json b.json
	run -0 bash -c 'ff-models show taxi_fare | sed -n 1,8p'
	diff -u - <(mask_time <<<"$output") <<-EOF
	models:/taxi_fare/2
	aliases      champion
	created      YYYY-MM-DD HH:MM:SS
	size         $(stat -c %s b.json)
	hash         $(hash_of b.json)
	source       $PWD/b.json
	description  rounds 50
	label        fare_amount
	EOF
	# ff-registry(5)
	run -0 sqlite3 models.db 'SELECT name, version, size, hash FROM models'
	assert_output "taxi_fare|2|$(stat -c %s b.json)|$(hash_of b.json)"
	run -0 sqlite3 models.db "SELECT DISTINCT name, version FROM lineage
	    WHERE table_name = 'trip_pickup_features' AND table_version = 1"
	assert_output "taxi_fare|2"
}

@test "the taxi model of the real sample" {
	need_sample
	ff-compute -q -s off.db -f "$EXAMPLES/pickup_features.spec" -f "$EXAMPLES/dropoff_features.spec" \
		--lateness 35d "$SHARED_DATA/nyctaxi_sample.csv"
	ff-train-set -q -s off.db -f "$EXAMPLES/training_set.spec" -b ts.blueprint -o ts.csv \
		"$SHARED_DATA/nyctaxi_sample.csv"
	ff-train -q -b ts.blueprint -o m.json --rounds 5 ts.csv
	run -0 ff-models register taxi_fare m.json
	assert_output models:/taxi_fare/1
	run -0 ff-models needs taxi_fare
	diff -u - <(echo "$output") <<-'EOF'
	TABLE                  VERSION  FEATURES
	trip_pickup_features   1        mean_fare_window_1h_pickup_zip,count_trips_window_1h_pickup_zip
	trip_dropoff_features  1        count_trips_window_30m_dropoff_zip,dropoff_is_weekend
	EOF
	ff-models export taxi_fare | cmp - m.json
}

@test "list and show --format json stay JSON with a description that is not UTF-8" {
	ff-models register --description "$(printf 'caf\351 \tcr\350me\001')" taxi a.json >/dev/null
	for cmd in "list" "show taxi"; do
		ff-models $cmd --format json > out.json
		run -0 python3 -c 'import json, sys
d = json.load(open("out.json"))
print((d[0] if isinstance(d, list) else d)["description"])'
		assert_output "$(printf 'caf\357\277\275 \tcr\357\277\275me\001')"
	done
}

@test "--wait: a registry another run holds is waited for, then named as held" {
	ff-models register taxi a.json
	{ echo 'BEGIN IMMEDIATE;'; sleep 4; echo 'COMMIT;'; } | sqlite3 models.db &
	local holder=$!
	sleep 0.5
	run -1 --separate-stderr ff-models --wait 0.5 register taxi b.json
	wait "$holder"
	[ "$stderr" = "ff-models: models.db: another ff run is writing this store (waited 0.5 s); try again or raise --wait" ]
	run -0 q models.db "SELECT count(*) FROM models"
	assert_output 1
}
