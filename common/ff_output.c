#include "ff_output.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ff_util.h"

void ff_output_remove_stale(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? ff_xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : ff_xstrdup(".");
	const char *base = slash ? slash + 1 : path;
	size_t n = strlen(base);
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		const char *pid = e->d_name + n + 5;
		if (strncmp(e->d_name, base, n) != 0 || strncmp(e->d_name + n, ".new-", 5) != 0 || !*pid ||
		    strspn(pid, "0123456789") != strlen(pid) || strlen(pid) > 9)
			continue;
		long p = strtol(pid, NULL, 10);
		/* Only a run that is gone: a live one may be writing it. */
		if (p > 0 && p != (long)getpid() && kill((pid_t)p, 0) < 0 && errno == ESRCH)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d)
		closedir(d);
	free(dir);
}

int ff_output_open(struct ff_output *out, const char *path)
{
	memset(out, 0, sizeof *out);
	if (!path || strcmp(path, "-") == 0) {
		out->f = stdout;
		return 0;
	}
	out->path = ff_xstrdup(path);
	struct stat st;
	int exists = stat(path, &st) == 0;
	if (exists && !S_ISREG(st.st_mode)) {
		/* /dev/null, a FIFO, /dev/stdout: never rename over those. */
		out->f = fopen(path, "w");
	} else {
		ff_output_remove_stale(path);
		size_t n = strlen(path) + 32;
		out->tmp_path = ff_xmalloc(n);
		snprintf(out->tmp_path, n, "%s.new-%ld", path, (long)getpid());
		out->f = fopen(out->tmp_path, "w");
	}
	if (!out->f) {
		ff_error("%s: %s", path, strerror(errno));
		free(out->tmp_path);
		free(out->path);
		memset(out, 0, sizeof *out);
		return -1;
	}
	return 0;
}

int ff_output_close(struct ff_output *out, int ok)
{
	int rc = 0;
	if (!out->f)
		return 0;
	if (!out->path) {
		rc = ff_close_stdout();
	} else {
		/* A write error is told here, once, whoever saw it first. */
		int failed = ferror(out->f), err = ff_write_errno(out->f);
		errno = 0;
		if (fclose(out->f) != 0) {
			failed = 1;
			if (!err)
				err = errno;
		}
		if (failed && err)
			rc = ff_error("%s: write error: %s", out->path, strerror(err));
		else if (failed)
			rc = ff_error("%s: write error", out->path);
		if (out->tmp_path) {
			if (ok && rc == 0 && rename(out->tmp_path, out->path) < 0)
				rc = ff_error("%s: %s", out->path, strerror(errno));
			if (!ok || rc != 0)
				unlink(out->tmp_path);
		}
	}
	free(out->tmp_path);
	free(out->path);
	memset(out, 0, sizeof *out);
	return rc;
}
