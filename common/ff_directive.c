#include "ff_directive.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_util.h"

int ff_directives_read(const char *path, ff_directive_fn fn, void *ctx)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return ff_error("%s: %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	int rc = 0;
	while (rc == 0 && getline(&line, &cap, f) > 0) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			continue;
		char *word = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (*p)
			*p++ = '\0';
		while (isspace((unsigned char)*p))
			p++;
		size_t n = strlen(p);
		while (n && isspace((unsigned char)p[n - 1]))
			p[--n] = '\0';
		char where[600];
		snprintf(where, sizeof where, "%s:%ld", path, lineno);
		rc = fn(ctx, word, p, where);
	}
	if (rc == 0 && ferror(f))
		rc = ff_error("%s: read error", path);
	free(line);
	fclose(f);
	return rc;
}
