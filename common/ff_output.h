/* ff_output: where a command writes its result. A regular file (or a new
 * one) is written under a temporary name beside it and renamed into place
 * only when the command succeeds, so a failed run leaves the old file (and
 * no temporary one: those of killed runs are removed by the next open);
 * stdout, devices and pipes are written directly. */
#ifndef FF_OUTPUT_H
#define FF_OUTPUT_H

#include <stdio.h>

struct ff_output {
	FILE *f;
	char *path;     /* NULL for stdout */
	char *tmp_path; /* NULL when written directly */
};

/* Remove path's temporary files (PATH.new-PID) left by runs that were
 * killed (kill -9) before they could: only those whose PID is no process. */
void ff_output_remove_stale(const char *path);

/* Open path for writing ("-" or NULL: stdout). Returns 0 or -1 (reported). */
int ff_output_open(struct ff_output *out, const char *path);
/* Finish: with ok, flush, close and put the file in place; otherwise throw
 * the partial file away. Returns 0 or -1 (reported). */
int ff_output_close(struct ff_output *out, int ok);

#endif
