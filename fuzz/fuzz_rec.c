/* Record streams (ff_rec): CSV or binary as detected; each row read is
 * written again in the other format, so the writers run on what the
 * readers accept. */
#include "ff_rec.h"
#include "fuzz.h"

struct ctx {
	FILE *null;
	struct ff_rec_writer *w;
	size_t ncols;
};

static int on_schema(void *p, const struct ff_rec_schema *s)
{
	struct ctx *c = p;
	c->w = ff_rec_writer_open(c->null, FF_REC_CSV, s);
	c->ncols = s->ncols;
	return 0;
}

static int on_row(void *p, const struct ff_cell *cells, size_t n, long pos)
{
	struct ctx *c = p;
	(void)pos;
	/* A CSV row of another width is the caller's to refuse, as every
	 * command does ("N fields, the header has M"). */
	if (n != c->ncols)
		return 1;
	return ff_rec_writer_put(c->w, cells) < 0 ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet();
	static FILE *null;
	if (!null)
		null = fopen("/dev/null", "w");
	FILE *f = fopen(fuzz_file(data, size), "r");
	if (!f)
		abort();
	struct ctx c = {null, NULL, 0};
	struct ff_rec_reader *r = ff_rec_open(f, "fuzz.bin");
	ff_rec_each(r, on_schema, on_row, &c);
	ff_rec_writer_close(c.w);
	ff_rec_close(r);
	fclose(f);
	return 0;
}
