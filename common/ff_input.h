/* ff_input: the one place ff opens and reads its inputs, files or stdin.
 * An input compressed with gzip or zstd is read decompressed, told by its
 * first bytes and not by its name; an input that ff cannot read (bzip2, xz,
 * lz4 or zip compressed, an SQLite database) is refused when opened, with a
 * message that says what it is. */
#ifndef FF_INPUT_H
#define FF_INPUT_H

#include <stddef.h>
#include <stdio.h>

/* Open FILE for reading, "-" or NULL meaning stdin. Returns stdin itself for
 * stdin when it is a plain file, else a stream of the input's (decompressed)
 * bytes that the caller closes with fclose (closing it leaves stdin open).
 * NULL and an error message ("file: why") on failure. Reading stdin from a
 * pipe waits here for its first bytes. */
FILE *ff_open_input(const char *path);

/* Read what is there, up to n bytes, from f (not its stdio buffer: inputs
 * are read only this way, so that a request on a pipe is handled as soon as
 * it arrives). Returns the bytes read, 0 at the end, -1 on error (then
 * ff_read_error says why). ff_read_full reads until n bytes or the end. */
long ff_read(FILE *f, void *buf, size_t n);
long ff_read_full(FILE *f, void *buf, size_t n);

/* Report the error of the last failed ff_read of this thread on input name:
 * "name: read error: <errno text>", or what was wrong with compressed data
 * ("name: gzip data: invalid block type"). Returns -1. */
int ff_read_error(const char *name);

/* Read a whole file ("-" or NULL: stdin), decompressed, into *data
 * (malloc'd, with a NUL after the *len bytes). Returns 0, or -1 with
 * "file: why" reported. */
int ff_read_file(const char *path, char **data, size_t *len);

/* Display name of an input path for messages: "-" and NULL give "stdin". */
const char *ff_input_name(const char *path);

#endif
