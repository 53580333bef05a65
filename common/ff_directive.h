/* ff_directive: the line format of ff's spec files: one directive a line,
 * "WORD VALUE...", '#' to the end of a line is a comment, blank lines are
 * skipped, blanks around the value are dropped. */
#ifndef FF_DIRECTIVE_H
#define FF_DIRECTIVE_H

/* Called per directive; value is "" when the line has only the word; where
 * is "file:line" for messages. A non-zero return stops the reading. */
typedef int (*ff_directive_fn)(void *ctx, const char *word, const char *value, const char *where);

/* Read path through fn. Returns 0, fn's value, or -1 if the file cannot be
 * read (reported). */
int ff_directives_read(const char *path, ff_directive_fn fn, void *ctx);

#endif
