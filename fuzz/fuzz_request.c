/* Scoring request bodies (ff_request), as ff-serve parses them: the first
 * byte picks JSON or CSV; the rows' buffers are reused from input to
 * input, as a worker thread does. */
#include "ff_request.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ff_strlist columns;
	static struct ff_request_rows rows;
	fuzz_quiet();
	if (!columns.n) {
		ff_strlist_add_split(&columns, "tpep_pickup_datetime,tpep_dropoff_datetime,pickup_zip,dropoff_zip,"
					       "trip_distance");
		rows.columns = &columns;
		rows.max_rows = 1000;
	}
	if (size < 1)
		return 0;
	static const char *const types[] = {"application/json", "text/csv", NULL, "application/json; format=pandas-split"};
	ff_request_parse(&rows, (const char *)data + 1, size - 1, types[data[0] % 4]);
	return 0;
}
