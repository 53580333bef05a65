/* ff_gen_trips: synthetic NYC yellow-taxi trips for the demo, the tests and
 * the benchmarks, shaped like the real 2018 records (ff-gen-trips(1)): CSV
 * with a header, in pickup order up to 4 minutes of jitter. The same
 * options give the same bytes on every machine. */
#ifndef FF_GEN_TRIPS_H
#define FF_GEN_TRIPS_H

#include <stdint.h>
#include <stdio.h>

/* Where trips start and end: the city's own zones, skewed like the real
 * ones and varying with the hour (the default); or zones 1 to
 * FF_GEN_TRIPS_RANKED_ZONES drawn independently for pickup and dropoff,
 * zone k with a weight of 1/k^s (Zipf; s = 0 is uniform), which makes far
 * denser feature tables. */
enum ff_gen_trips_zones { FF_GEN_TRIPS_CITY, FF_GEN_TRIPS_ZIPF };
enum { FF_GEN_TRIPS_RANKED_ZONES = 255, FF_GEN_TRIPS_ZIPF_MAX = 3000 };

struct ff_gen_trips_options {
	int64_t rows;   /* trips, 0 or more */
	uint64_t seed;
	int64_t start;  /* microseconds: midnight UTC of the first day of pickups */
	int64_t days;   /* days of pickups, 1 or more; pickups plus two hours
			   must stay within four-digit years */
	enum ff_gen_trips_zones zones;
	int32_t zipf_milli; /* FF_GEN_TRIPS_ZIPF: the exponent s in thousandths,
			       0 to FF_GEN_TRIPS_ZIPF_MAX */
};

/* Write the trips to out. Returns 0, or -1 when a write failed (not
 * reported: out's error flag and errno tell). */
int ff_gen_trips(FILE *out, const struct ff_gen_trips_options *o);

#endif
