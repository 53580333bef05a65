#!/usr/bin/env bash
# The taxi fare pipeline of the seed design, end to end, as a shell script
# you can copy: raw trips -> offline feature tables -> training set and
# blueprint (-> model, online tables and predictions as ff grows).
#
# usage: examples/taxi/run.sh [TRIPS_CSV] [WORKDIR]
#   TRIPS_CSV  trips with the header of SEMANTICS.md; default: trips generated
#              by ff-gen-trips (TRIPS rows, default 200000)
#   WORKDIR    where offline.db and the other results go; default build/demo
#              in this checkout
# Environment: TRIPS (rows to generate), LATENESS (how far behind the newest
# trip a trip may arrive; the real NYC sample is shuffled within each month).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# Prefer the commands built in this checkout, else those installed on PATH.
[ -x "$top/build/ff-compute" ] && PATH="$top/build:$PATH"

trips=${1:-}
work=${2:-$top/build/demo}
mkdir -p "$work"

if [ -z "$trips" ]; then
	trips=$work/trips.csv
	ff-gen-trips --rows "${TRIPS:-200000}" --seed 1 --start 2018-01-01 --days 60 >"$trips.tmp"
	mv "$trips.tmp" "$trips"
fi

# 1. Offline feature tables: both specs in one pass over the trips. A rerun
#    merges the same rows again and records no new version.
ff-compute --store "$work/offline.db" \
	--spec "$here/pickup_features.spec" \
	--spec "$here/dropoff_features.spec" \
	--lateness "${LATENESS:-35d}" \
	"$trips"

# 2. Training set: round the trip times, look the features up as of those
#    times, keep the label; the blueprint records how, for serving.
ff-train-set --store "$work/offline.db" --spec "$here/training_set.spec" \
	--blueprint "$work/training_set.blueprint" --output "$work/training_set.csv" \
	--quiet "$trips"

# Summary: what the run left in WORKDIR.
echo "trips:   $trips ($(($(wc -l <"$trips") - 1)) rows)"
echo "offline: $work/offline.db"
for table in trip_pickup_features trip_dropoff_features; do
	ts=$(sqlite3 -batch "$work/offline.db" "SELECT timestamp_key FROM ff_catalog WHERE name = '$table'")
	sqlite3 -batch "$work/offline.db" "
		SELECT printf('  %-22s version %d: %d rows, windows %s .. %s UTC', '$table',
			(SELECT version FROM ff_catalog WHERE name = '$table'), count(*),
			datetime(min($ts), 'unixepoch'),
			datetime(max($ts), 'unixepoch'))
		FROM $table;"
done
echo "training set: $work/training_set.csv ($(($(wc -l <"$work/training_set.csv") - 1)) rows)"
echo "blueprint:    $work/training_set.blueprint"
