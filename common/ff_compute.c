#include "ff_compute.h"

#include <stdlib.h>
#include <string.h>

#include "ff_agg.h"
#include "ff_csv.h"
#include "ff_time.h"
#include "ff_util.h"

#define MAX_REPORTED_BAD 10

struct target {
	const struct ff_spec *spec;
	struct ff_table_def def;
	struct ff_agg *agg;
	struct ff_table_writer *writer; /* NULL when writing CSV */
	FILE *out;
	struct ff_cell *cells;
	int64_t rows;
};

/* Reasons for skipping rows, counted for the report. */
struct bad_counts {
	const char *reason[16];
	int64_t count[16];
	size_t n;
	int64_t total;
};

static void count_bad(struct bad_counts *b, const char *reason)
{
	b->total++;
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->reason[i], reason) == 0) {
			b->count[i]++;
			return;
		}
	if (b->n < 16) {
		b->reason[b->n] = reason;
		b->count[b->n++] = 1;
	}
}

static void write_csv_row(struct target *t)
{
	const struct ff_table_def *def = &t->def;
	char buf[64];
	for (size_t i = 0; i < def->ncols; i++) {
		const struct ff_cell *c = &t->cells[i];
		if (i)
			putc(',', t->out);
		if (c->null)
			continue;
		switch (def->cols[i].type) {
		case FF_TYPE_TEXT: ff_csv_put_field(t->out, c->s, c->len); break;
		case FF_TYPE_REAL: fwrite(buf, 1, (size_t)ff_format_double(buf, c->d), t->out); break;
		case FF_TYPE_TIMESTAMP: fwrite(buf, 1, (size_t)ff_time_format(c->i * FF_USEC, buf), t->out); break;
		case FF_TYPE_INTEGER: fprintf(t->out, "%lld", (long long)c->i); break;
		}
	}
	putc('\n', t->out);
}

static int emit(void *ctx, const struct ff_agg_row *row)
{
	struct target *t = ctx;
	const struct ff_spec *s = t->spec;
	size_t c = 0;
	for (size_t k = 0; k < s->nkeys; k++, c++)
		t->cells[c] = (struct ff_cell){.s = row->keys[k], .len = row->key_lens[k]};
	t->cells[c++] = (struct ff_cell){.i = row->window_end / FF_USEC};
	for (size_t f = 0; f < s->nfeatures; f++, c++)
		t->cells[c] = (struct ff_cell){.null = row->values[f].null, .i = row->values[f].i,
					       .d = row->values[f].d};
	if (s->partition)
		t->cells[c++] = (struct ff_cell){.s = row->partition, .len = 7};
	t->rows++;
	if (t->writer)
		return ff_table_writer_put(t->writer, t->cells) < 0 ? -1 : 0;
	write_csv_row(t);
	return 0;
}

static void write_csv_header(struct target *t)
{
	for (size_t i = 0; i < t->def.ncols; i++) {
		if (i)
			putc(',', t->out);
		ff_csv_put_field(t->out, t->def.cols[i].name, strlen(t->def.cols[i].name));
	}
	putc('\n', t->out);
}

static void report_bad(const struct bad_counts *bad)
{
	if (!bad->total)
		return;
	char detail[512];
	size_t n = 0;
	detail[0] = '\0';
	for (size_t i = 0; i < bad->n && n < sizeof detail; i++)
		n += (size_t)snprintf(detail + n, sizeof detail - n, "%s%lld %s", i ? ", " : "",
				      (long long)bad->count[i], bad->reason[i]);
	ff_warn("skipped %lld bad row%s (%s)", (long long)bad->total, bad->total == 1 ? "" : "s",
		detail);
}

/* Read one input through every target. Returns 0 or -1. */
static int read_input(struct target *targets, size_t ntargets, const char *path,
		      const struct ff_compute_options *opt, struct bad_counts *bad, int64_t *nrows)
{
	FILE *f = ff_open_input(path);
	if (!f)
		return -1;
	const char *name = ff_input_name(path);
	struct ff_csv_reader *r = ff_csv_open(f, name);
	struct ff_field *fields;
	size_t n, header_n;
	int rc = -1;
	char msg[512];
	const char *reason;

	int got = ff_csv_next(r, &fields, &n);
	if (got <= 0) {
		if (got == 0)
			ff_error("%s: empty input: a header line is required", name);
		goto out;
	}
	header_n = n;
	char where[512];
	snprintf(where, sizeof where, "%s:%ld", name, ff_csv_line(r));
	for (size_t i = 0; i < ntargets; i++)
		if (ff_agg_bind(targets[i].agg, fields, n, where) < 0)
			goto out;
	while ((got = ff_csv_next(r, &fields, &n)) > 0) {
		long line = ff_csv_line(r);
		(*nrows)++;
		if (opt->progress && (*nrows & 0xfffff) == 0)
			fprintf(stderr, "%s: %lld rows\r", ff_progname(), (long long)*nrows);
		int ok = 1;
		if (n != header_n) {
			snprintf(msg, sizeof msg, "%zu fields, the header has %zu", n, header_n);
			reason = "wrong field count";
			ok = 0;
		}
		for (size_t i = 0; i < ntargets && ok; i++)
			if (ff_agg_stage(targets[i].agg, fields, n, msg, sizeof msg, &reason) < 0)
				ok = 0;
		if (!ok) {
			if (!opt->skip_bad) {
				ff_error("%s:%ld: %s", name, line, msg);
				goto out;
			}
			if (bad->total < MAX_REPORTED_BAD)
				ff_warn("%s:%ld: skipped: %s", name, line, msg);
			count_bad(bad, reason);
			continue;
		}
		for (size_t i = 0; i < ntargets; i++)
			if (ff_agg_commit(targets[i].agg, line) != 0)
				goto out;
	}
	if (got == 0)
		rc = 0;
out:
	ff_csv_close(r);
	if (f != stdin)
		fclose(f);
	return rc;
}

int ff_compute_run(struct ff_spec *specs, size_t nspecs, char **inputs, size_t ninputs,
		   const struct ff_compute_options *opt)
{
	struct target *targets = ff_xcalloc(nspecs, sizeof *targets);
	struct ff_store *st = NULL;
	struct bad_counts bad = {0};
	int64_t nrows = 0;
	int rc = -1;
	struct ff_agg_options aopt = {
		.has_start = opt->has_start, .has_end = opt->has_end,
		.start = opt->start, .end = opt->end, .lateness = opt->lateness,
	};
	struct ff_write_options wopt = {
		.mode = (enum ff_write_mode)opt->mode, .replace = opt->replace,
		.has_range = opt->has_start || opt->has_end,
		.start = opt->has_start ? ff_floor_div(opt->start, FF_USEC) : INT64_MIN,
		.end = opt->has_end ? ff_floor_div(opt->end, FF_USEC) : INT64_MAX,
	};

	for (size_t i = 0; i < nspecs; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(specs[i].table, specs[j].table) == 0) {
				ff_error("table %s is defined twice (%s, %s)", specs[i].table,
					 specs[j].origin, specs[i].origin);
				goto out;
			}
	if (opt->store) {
		if (ff_store_open(opt->store, FF_STORE_WRITE, &st) < 0 || ff_store_begin(st) < 0)
			goto out;
	}
	for (size_t i = 0; i < nspecs; i++) {
		struct target *t = &targets[i];
		t->spec = &specs[i];
		ff_spec_table_def(t->spec, &t->def);
		t->cells = ff_xcalloc(t->def.ncols, sizeof *t->cells);
		t->agg = ff_agg_new(t->spec, &aopt, emit, t);
		if (st) {
			if (ff_table_writer_open(st, &t->def, &wopt, &t->writer) < 0)
				goto out;
		} else {
			t->out = opt->out;
			write_csv_header(t);
		}
	}
	char *stdin_only[] = {"-"};
	if (ninputs == 0) {
		inputs = stdin_only;
		ninputs = 1;
	}
	for (size_t i = 0; i < ninputs; i++)
		if (read_input(targets, nspecs, inputs[i], opt, &bad, &nrows) < 0)
			goto out;
	for (size_t i = 0; i < nspecs; i++)
		if (ff_agg_finish(targets[i].agg) != 0)
			goto out;
	if (opt->progress)
		fprintf(stderr, "%*s\r", 40, "");
	report_bad(&bad);
	if (st) {
		struct ff_write_stats ws[nspecs ? nspecs : 1];
		for (size_t i = 0; i < nspecs; i++)
			if (ff_table_writer_finish(targets[i].writer, &ws[i]) < 0)
				goto out;
		if (ff_store_commit(st) < 0)
			goto out;
		for (size_t i = 0; i < nspecs && opt->verbose; i++)
			fprintf(stderr, "%s: %s: version %lld: %lld inserted, %lld updated, %lld deleted, "
				"%lld unchanged\n", ff_progname(), targets[i].def.name, (long long)ws[i].version,
				(long long)ws[i].inserted, (long long)ws[i].updated,
				(long long)ws[i].deleted, (long long)ws[i].unchanged);
	}
	if (opt->verbose)
		fprintf(stderr, "%s: %lld rows read\n", ff_progname(), (long long)nrows);
	rc = 0;
out:
	for (size_t i = 0; i < nspecs; i++) {
		ff_table_writer_free(targets[i].writer);
		ff_agg_free(targets[i].agg);
		ff_table_def_release(&targets[i].def);
		free(targets[i].cells);
	}
	free(targets);
	ff_store_close(st);
	return rc;
}
