/* csv_floor: read a CSV file with ff's own CSV reader (ff_csv) and do nothing
 * else: the floor that benchmarks compare the commands with. Prints the rows. */
#include <stdio.h>

#include "ff_csv.h"
#include "ff_util.h"

static int count(void *ctx, const struct ff_field *fields, size_t n, long line)
{
	(void)fields;
	(void)n;
	(void)line;
	(*(long long *)ctx)++;
	return 0;
}

int main(int argc, char **argv)
{
	ff_set_progname(argv[0]);
	const char *path = argc > 1 ? argv[1] : "-";
	FILE *f = ff_open_input(path);
	if (!f)
		return 1;
	struct ff_csv_reader *r = ff_csv_open(f, ff_input_name(path));
	long long rows = 0;
	int rc = ff_csv_each(r, count, &rows);
	ff_csv_close(r);
	printf("%lld\n", rows);
	return rc != 0;
}
