#!/usr/bin/env bash
# The taxi fare pipeline of the seed design, end to end, as a shell script
# you can copy: raw trips -> offline feature tables -> training set and
# blueprint -> model in a registry -> batch predictions -> online tables
# and real-time predictions.
#
# usage: examples/taxi/run.sh [TRIPS_CSV] [WORKDIR]
#   TRIPS_CSV  trips with the columns of ff-semantics(7); default: trips generated
#              by ff-gen-trips (TRIPS rows, default 200000)
#   WORKDIR    where offline.db and the other results go; default build/demo
#              in this checkout
# Environment: TRIPS (rows to generate), ROUNDS (boosting rounds).
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

# 1. Offline feature tables: both specs in one pass over the trips, in any
#    order. A rerun finds the same trips folded in already and changes nothing.
ff-compute --store "$work/offline.db" --quiet \
	--spec "$here/pickup_features.spec" \
	--spec "$here/dropoff_features.spec" \
	"$trips"

# The model learns from the first 80% of the trips by pickup day and
# predicts the rest: the later period it would serve.
cutoff=$(tail -n +2 "$trips" | cut -c1-10 | sort | awk '{ d[NR] = $0 } END { print d[int(NR * 0.8) + 1] }')
awk -F, -v cutoff="$cutoff" 'NR == 1 || substr($1, 1, 10) < cutoff' "$trips" >"$work/train_trips.csv"
awk -F, -v cutoff="$cutoff" 'NR == 1 || substr($1, 1, 10) >= cutoff' "$trips" >"$work/later_trips.csv"

# 2. Training set: round the trip times, look the features up as of those
#    times, keep the label; the blueprint records how, for serving.
ff-train-set --store "$work/offline.db" --spec "$here/training_set.spec" \
	--blueprint "$work/training_set.blueprint" --output "$work/training_set.csv" \
	--quiet "$work/train_trips.csv"

# 3. Model: XGBoost on the training set, packaged with its blueprint, and
#    registered as taxi_fare with the alias champion.
ff-train --blueprint "$work/training_set.blueprint" --output "$work/model.json" \
	--rounds "${ROUNDS:-100}" --depth 6 --eta 0.1 --quiet "$work/training_set.csv"
export FF_REGISTRY=$work/models.db
model=$(ff-models register taxi_fare "$work/model.json" --alias champion)

# 4. Batch predictions for the later trips: the model finds its own features.
ff-predict --model models:/taxi_fare@champion --output "$work/predictions.csv" \
	"$work/later_trips.csv"

# 5. Online: sync the feature tables into the online store (a rerun copies
#    only what changed), score a few requests as a real-time caller would,
#    and check that online and offline give the same feature vectors.
ff-sync-online --store "$work/offline.db" --online "$work/online.db"
head -n 6 "$work/later_trips.csv" >"$work/requests.csv"
ff-predict --model models:/taxi_fare@champion --online "$work/online.db" \
	--with-fallbacks --output "$work/online_predictions.csv" "$work/requests.csv"
ff-predict --model models:/taxi_fare@champion --online "$work/online.db" \
	--skew-check --output "$work/skew.txt" "$work/requests.csv"

# 6. Over HTTP: ff-serve answers MLflow's scoring protocol with the same
#    features; one request, as any MLflow client would send it. The port
#    file of an earlier run must not pass for this server's.
rm -f "$work/serve.port"
ff-serve --online "$work/online.db" --model models:/taxi_fare@champion \
	--port 0 --port-file "$work/serve.port" 2>"$work/serve.err" &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s "$work/serve.port" ] || ! kill -0 $server 2>/dev/null && break; sleep 0.05; done
[ -s "$work/serve.port" ] || { cat "$work/serve.err" >&2; exit 1; }
request=$(awk -F, 'NR == 1 { split($0, h, ","); next } NR == 2 {
	printf "{\"dataframe_records\": [{"
	for (i = 1; i <= NF; i++) printf "%s\"%s\": \"%s\"", (i > 1 ? ", " : ""), h[i], $i
	print "}]}"; exit }' "$work/requests.csv")
curl -sS --fail-with-body -H 'Content-Type: application/json' -d "$request" \
	"http://127.0.0.1:$(cat "$work/serve.port")/invocations" >"$work/http_prediction.json"
kill -TERM $server
wait $server
trap - EXIT

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
echo "training set: $work/training_set.csv ($(($(wc -l <"$work/training_set.csv") - 1)) trips before $cutoff)"
echo "blueprint:    $work/training_set.blueprint"
echo "model:        $work/model.json, registered as $model (champion)"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	{ e = $col["prediction"] - $col["fare_amount"]; se += e * e; ae += (e < 0 ? -e : e); n++ }
	END { printf "predictions:  %s (%d trips from %s): RMSE %.3f, MAE %.3f\n", FILENAME, n, cutoff, sqrt(se / n), ae / n }' \
	cutoff="$cutoff" "$work/predictions.csv"
echo "online:       $work/online.db; $(tail -n 1 "$work/skew.txt") between online and offline"
echo "requests scored online ($work/online_predictions.csv):"
cut -d, -f1,3,5,6,7 "$work/online_predictions.csv" | sed 's/^/  /'
echo "over HTTP:    POST /invocations $request"
echo "              -> $(cat "$work/http_prediction.json")"
