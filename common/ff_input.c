#include "ff_input.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "ff_util.h"

/* ---- what the first bytes say ---- */

enum kind { PLAIN, GZIP, ZSTD, REFUSED };

/* '?' in a magic number stands for any byte. */
static const struct magic {
	const char *bytes;
	size_t len;
	enum kind kind;
	const char *what;
} magics[] = {
	{"\x1f\x8b\x08", 3, GZIP, "gzip"},
	{"\x28\xb5\x2f\xfd", 4, ZSTD, "zstd"},
	{"BZh?1AY&SY", 10, REFUSED,
	 "compressed with bzip2, which ff does not read (it reads gzip and zstd): decompress it first"},
	{"\xfd" "7zXZ\0", 6, REFUSED,
	 "compressed with xz, which ff does not read (it reads gzip and zstd): decompress it first"},
	{"\x04\x22\x4d\x18", 4, REFUSED,
	 "compressed with lz4, which ff does not read (it reads gzip and zstd): decompress it first"},
	{"PK\x03\x04", 4, REFUSED, "a zip archive, which ff does not read: extract the file first"},
	{"SQLite format 3\0", 16, REFUSED, "an SQLite database, not CSV or ff-rec records"},
};
#define SNIFF 16 /* the longest magic number */

static int prefix_of(const struct magic *m, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n && i < m->len; i++)
		if (m->bytes[i] != '?' && (unsigned char)m->bytes[i] != p[i])
			return 0;
	return 1;
}

/* The magic number the n bytes at p begin with (NULL: plain input), or
 * *more set when more bytes are needed to tell. */
static const struct magic *sniff(const unsigned char *p, size_t n, int *more)
{
	*more = 0;
	for (size_t k = 0; k < sizeof magics / sizeof *magics; k++) {
		if (!prefix_of(&magics[k], p, n))
			continue;
		if (n >= magics[k].len)
			return &magics[k];
		*more = 1;
	}
	return NULL;
}

/* ---- sources: inputs read through a stream of their own ---- */

#define INBUF (1 << 16)

/* An input read by this module: compressed, or a pipe whose first bytes
 * were read to sniff it. */
struct source {
	FILE *f; /* the stream handed out */
	int fd, own_fd;
	char *name;
	const struct magic *magic; /* NULL: plain */
	unsigned char head[SNIFF]; /* bytes read while sniffing */
	size_t head_pos, head_len;

	unsigned char *in; /* compressed bytes */
	int in_eof;
	z_stream z;
	int z_live, z_end;
	ZSTD_DCtx *zd;
	ZSTD_inBuffer zin;
	int frame_done; /* at the end of a zstd frame */
	struct source *next;
};

static pthread_mutex_t sources_mu = PTHREAD_MUTEX_INITIALIZER;
static struct source *sources;

static struct source *source_of(FILE *f)
{
	pthread_mutex_lock(&sources_mu);
	struct source *s = sources;
	while (s && s->f != f)
		s = s->next;
	pthread_mutex_unlock(&sources_mu);
	return s;
}

/* Why the last read failed, when errno does not say. */
static _Thread_local char read_failure[200];

static long corrupt(struct source *s, const char *what)
{
	snprintf(read_failure, sizeof read_failure, "%s data: %s", s->magic->what, what);
	errno = EBADMSG;
	return -1;
}

static long raw_read(struct source *s, void *buf, size_t n)
{
	if (s->head_pos < s->head_len) {
		size_t k = s->head_len - s->head_pos;
		if (k > n)
			k = n;
		memcpy(buf, s->head + s->head_pos, k);
		s->head_pos += k;
		return (long)k;
	}
	for (;;) {
		ssize_t got = read(s->fd, buf, n);
		if (got >= 0 || errno != EINTR)
			return (long)got;
	}
}

/* Read more compressed bytes into s->in; the count, 0 at the end (then
 * in_eof is set), -1 on error. */
static long refill(struct source *s)
{
	long got = raw_read(s, s->in, INBUF);
	s->in_eof = got == 0;
	return got;
}

static long gzip_read(struct source *s, unsigned char *out, size_t n)
{
	for (;;) {
		if (s->z.avail_in == 0 && !s->in_eof) {
			long got = refill(s);
			if (got < 0)
				return -1;
			s->z.next_in = s->in;
			s->z.avail_in = (uInt)got;
		}
		if (s->z_end) { /* another member may follow (cat a.gz b.gz) */
			if (s->z.avail_in == 0) {
				if (s->in_eof)
					return 0;
				continue;
			}
			inflateReset(&s->z);
			s->z_end = 0;
		}
		s->z.next_out = out;
		s->z.avail_out = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
		size_t before = s->z.avail_out;
		int rc = inflate(&s->z, Z_NO_FLUSH);
		size_t made = before - s->z.avail_out;
		if (rc == Z_STREAM_END)
			s->z_end = 1;
		else if (rc != Z_OK && rc != Z_BUF_ERROR)
			return corrupt(s, s->z.msg ? s->z.msg : "not valid");
		if (made)
			return (long)made;
		if (!s->z_end && s->z.avail_in == 0 && s->in_eof)
			return corrupt(s, "cut short (truncated file?)");
	}
}

static long zstd_read(struct source *s, unsigned char *out, size_t n)
{
	for (;;) {
		if (s->zin.pos == s->zin.size && !s->in_eof) {
			long got = refill(s);
			if (got < 0)
				return -1;
			s->zin = (ZSTD_inBuffer){s->in, (size_t)got, 0};
		}
		ZSTD_outBuffer o = {out, n, 0};
		size_t before = s->zin.pos;
		size_t r = ZSTD_decompressStream(s->zd, &o, &s->zin);
		if (ZSTD_isError(r))
			return corrupt(s, ZSTD_getErrorName(r));
		/* 0: a frame ended; then only input begins another (a call
		 * without input answers how much the next frame header needs) */
		if (r == 0)
			s->frame_done = 1;
		else if (s->zin.pos > before)
			s->frame_done = 0;
		if (o.pos)
			return (long)o.pos;
		if (s->zin.pos == s->zin.size && s->in_eof)
			return s->frame_done ? 0 : corrupt(s, "cut short (truncated file?)");
	}
}

static long source_read(struct source *s, void *buf, size_t n)
{
	if (n == 0)
		return 0;
	switch (s->magic ? s->magic->kind : PLAIN) {
	case GZIP: return gzip_read(s, buf, n);
	case ZSTD: return zstd_read(s, buf, n);
	default: return raw_read(s, buf, n);
	}
}

static ssize_t cookie_read(void *cookie, char *buf, size_t n)
{
	long got = source_read(cookie, buf, n);
	return got < 0 ? -1 : (ssize_t)got;
}

static int cookie_close(void *cookie)
{
	struct source *s = cookie;
	pthread_mutex_lock(&sources_mu);
	struct source **p = &sources;
	while (*p && *p != s)
		p = &(*p)->next;
	if (*p)
		*p = s->next;
	pthread_mutex_unlock(&sources_mu);
	if (s->z_live)
		inflateEnd(&s->z);
	ZSTD_freeDCtx(s->zd);
	int rc = s->own_fd ? close(s->fd) : 0;
	free(s->in);
	free(s->name);
	free(s);
	return rc;
}

static FILE *source_open(int fd, int own_fd, const char *name, const struct magic *m,
			 const unsigned char *head, size_t n)
{
	struct source *s = ff_xcalloc(1, sizeof *s);
	s->fd = fd;
	s->own_fd = own_fd;
	s->name = ff_xstrdup(name);
	s->magic = m;
	memcpy(s->head, head, n);
	s->head_len = n;
	if (m && m->kind == GZIP) {
		/* 15 + 16: a window of up to 32 KiB, gzip framing */
		if (inflateInit2(&s->z, 15 + 16) != Z_OK)
			ff_die(FF_EXIT_FAIL, "out of memory");
		s->z_live = 1;
	} else if (m && m->kind == ZSTD) {
		if (!(s->zd = ZSTD_createDCtx()))
			ff_die(FF_EXIT_FAIL, "out of memory");
	}
	if (m)
		s->in = ff_xmalloc(INBUF);
	cookie_io_functions_t io = {.read = cookie_read, .close = cookie_close};
	s->f = fopencookie(s, "rb", io);
	if (!s->f)
		ff_die(FF_EXIT_FAIL, "out of memory");
	pthread_mutex_lock(&sources_mu);
	s->next = sources;
	sources = s;
	pthread_mutex_unlock(&sources_mu);
	return s->f;
}

/* ---- opening ---- */

/* Read the first bytes of fd into head (*n of them) until they tell what
 * the input is. A regular file is read in place (pread), leaving its offset
 * alone; anything else is consumed, and *consumed set. */
static int read_head(int fd, unsigned char *head, size_t *n, int *consumed,
		     const struct magic **m)
{
	struct stat st;
	off_t at = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? lseek(fd, 0, SEEK_CUR) : -1;
	int more = 1;
	*n = 0;
	*consumed = at < 0;
	while (more && *n < SNIFF) {
		ssize_t got = at >= 0 ? pread(fd, head + *n, SNIFF - *n, at + (off_t)*n)
				      : read(fd, head + *n, SNIFF - *n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		*n += (size_t)got;
		*m = sniff(head, *n, &more);
	}
	if (more) /* the input ended within a magic number's first bytes */
		*m = NULL;
	return 0;
}

FILE *ff_open_input(const char *path)
{
	int std = !path || strcmp(path, "-") == 0;
	const char *name = ff_input_name(path);
	int fd = std ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ff_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	unsigned char head[SNIFF];
	size_t n;
	int consumed;
	const struct magic *m = NULL;
	if (read_head(fd, head, &n, &consumed, &m) < 0) {
		ff_error("%s: %s", name, strerror(errno));
		goto fail;
	}
	if (m && m->kind == REFUSED) {
		ff_error("%s: %s", name, m->what);
		goto fail;
	}
	if (!m && (!consumed || n == 0)) {
		if (std)
			return stdin;
		FILE *f = fdopen(fd, "rb");
		if (!f) {
			ff_error("%s: %s", name, strerror(errno));
			goto fail;
		}
		return f;
	}
	return source_open(fd, !std, name, m, head, consumed ? n : 0);
fail:
	if (!std)
		close(fd);
	return NULL;
}

/* ---- reading ---- */

long ff_read(FILE *f, void *buf, size_t n)
{
	read_failure[0] = '\0';
	struct source *s = source_of(f);
	if (s)
		return source_read(s, buf, n);
	if (fileno(f) < 0) { /* a memory stream (tests): no descriptor */
		size_t got = fread(buf, 1, n, f);
		return got == 0 && ferror(f) ? -1 : (long)got;
	}
	for (;;) {
		ssize_t got = read(fileno(f), buf, n);
		if (got >= 0 || errno != EINTR)
			return (long)got;
	}
}

long ff_read_full(FILE *f, void *buf, size_t n)
{
	size_t total = 0;
	while (total < n) {
		long got = ff_read(f, (char *)buf + total, n - total);
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		total += (size_t)got;
	}
	return (long)total;
}

int ff_read_error(const char *name)
{
	if (read_failure[0])
		return ff_error("%s: %s", name, read_failure);
	return ff_error("%s: read error: %s", name, strerror(errno ? errno : EIO));
}

int ff_read_file(const char *path, char **data, size_t *len)
{
	FILE *f = ff_open_input(path);
	if (!f)
		return -1;
	char *buf = NULL;
	size_t n = 0, cap = 0;
	long got;
	do {
		ff_grow(&buf, &cap, n + 65536 + 1, 1);
		got = ff_read(f, buf + n, cap - n - 1);
		if (got > 0)
			n += (size_t)got;
	} while (got > 0);
	if (got < 0)
		ff_read_error(ff_input_name(path));
	if (f != stdin)
		fclose(f);
	if (got < 0) {
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}

const char *ff_input_name(const char *path)
{
	return (!path || strcmp(path, "-") == 0) ? "stdin" : path;
}
