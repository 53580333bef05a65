/* CSV rows (ff_csv): any bytes are rows or one error naming the line. */
#include "ff_csv.h"
#include "fuzz.h"

static int on_row(void *ctx, const struct ff_field *fields, size_t n, long line)
{
	size_t *bytes = ctx;
	(void)line;
	for (size_t i = 0; i < n; i++)
		if (fields[i].len)
			*bytes += (unsigned char)fields[i].ptr[0] + (unsigned char)fields[i].ptr[fields[i].len - 1];
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	FILE *f = fopen(fuzz_file(data, size), "r");
	if (!f)
		abort();
	struct ff_csv_reader *r = ff_csv_open(f, "fuzz.csv");
	size_t bytes = 0;
	ff_csv_each(r, on_row, &bytes);
	ff_csv_close(r);
	fclose(f);
	return 0;
}
