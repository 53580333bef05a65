#include "ff_cell.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ff_time.h"
#include "ff_util.h"

/* Decimal digits of v, ending at end; returns the start. */
static char *format_int(char *end, int64_t v)
{
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	char *p = end;
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	return p;
}

const char *ff_cell_text(const struct ff_cell *c, enum ff_type type, char *buf, size_t *len)
{
	if (c->null) {
		*len = 0;
		return NULL;
	}
	switch (type) {
	case FF_TYPE_TEXT:
		*len = c->len;
		return c->s;
	case FF_TYPE_REAL:
		*len = (size_t)ff_format_double(buf, c->d);
		return buf;
	case FF_TYPE_TIMESTAMP:
		*len = (size_t)ff_time_format(c->i, buf);
		return buf;
	case FF_TYPE_INTEGER:
		break;
	}
	char *p = format_int(buf + FF_CELL_TEXT_MAX, c->i);
	*len = (size_t)(buf + FF_CELL_TEXT_MAX - p);
	return p;
}

static int parse_real(const char *s, size_t len, double *d)
{
	if (ff_parse_double(s, len, d) == 0)
		return 0;
	/* What ff_format_double writes for values that are not finite. */
	static const char *const special[] = {"inf", "-inf", "nan", "-nan"};
	for (size_t i = 0; i < sizeof special / sizeof *special; i++)
		if (len == strlen(special[i]) && memcmp(s, special[i], len) == 0) {
			*d = strtod(special[i], NULL);
			return 0;
		}
	return -1;
}

int ff_cell_convert(const struct ff_cell *in, enum ff_type from, enum ff_type to,
		    struct ff_cell *out, char *buf)
{
	*out = *in;
	if (in->null || from == to)
		return 0;
	if (to == FF_TYPE_TEXT) {
		out->s = ff_cell_text(in, from, buf, &out->len);
		return 0;
	}
	switch (to) {
	case FF_TYPE_INTEGER: return ff_parse_int64(in->s, in->len, &out->i);
	case FF_TYPE_REAL: return parse_real(in->s, in->len, &out->d);
	default: return ff_time_parse(in->s, in->len, 0, &out->i);
	}
}

void ff_cell_bind(sqlite3_stmt *st, int idx, enum ff_type type, const struct ff_cell *c)
{
	if (c->null) {
		sqlite3_bind_null(st, idx);
		return;
	}
	switch (type) {
	case FF_TYPE_TEXT: sqlite3_bind_text(st, idx, c->s, (int)c->len, SQLITE_STATIC); break;
	case FF_TYPE_REAL: sqlite3_bind_double(st, idx, c->d); break;
	case FF_TYPE_TIMESTAMP: sqlite3_bind_int64(st, idx, ff_floor_div(c->i, FF_USEC)); break;
	case FF_TYPE_INTEGER: sqlite3_bind_int64(st, idx, c->i); break;
	}
}

void ff_cell_column(sqlite3_stmt *st, int col, enum ff_type type, struct ff_cell *out)
{
	memset(out, 0, sizeof *out);
	out->null = sqlite3_column_type(st, col) == SQLITE_NULL;
	if (out->null)
		return;
	switch (type) {
	case FF_TYPE_TEXT:
		out->s = (const char *)sqlite3_column_text(st, col);
		out->len = (size_t)sqlite3_column_bytes(st, col);
		break;
	case FF_TYPE_REAL: out->d = sqlite3_column_double(st, col); break;
	case FF_TYPE_TIMESTAMP: out->i = sqlite3_column_int64(st, col) * FF_USEC; break;
	case FF_TYPE_INTEGER: out->i = sqlite3_column_int64(st, col); break;
	}
}
