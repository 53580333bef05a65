/* Unit tests of common/ff_agg: window membership, the watermark, ranges. */
#include <math.h>
#include <stdlib.h>

#include "ff_agg.h"
#include "ff_time.h"
#include "unit.h"

struct out {
	char text[4096];
	size_t len;
	int rows;
};

static struct ff_agg *current;

static int emit(void *ctx, const struct ff_agg_row *row)
{
	struct out *o = ctx;
	char t[32];
	struct ff_value v[4];
	ff_agg_values(current, row->state, row->window_end, v);
	o->rows++;
	if (o->len > sizeof o->text - 100)
		return 0;
	ff_time_format(row->window_end, t);
	o->len += (size_t)snprintf(o->text + o->len, sizeof o->text - o->len, "%.*s %s %lld\n",
				   (int)row->key_lens[0], row->keys[0], t + 11, (long long)v[0].i);
	if (row->again && o->len < sizeof o->text - 10)
		o->len += (size_t)snprintf(o->text + o->len, sizeof o->text - o->len, "again\n");
	return 0;
}

/* Keep the state of the last window handed out. */
static int emit_state(void *ctx, const struct ff_agg_row *row)
{
	memcpy(ctx, row->state, ff_agg_state_size(current));
	return 0;
}

/* A day's count and mean of column v, with its stddev and min if asked. */
static void spec_stats(struct ff_spec *s, int more)
{
	ff_spec_init(s, "test");
	ff_spec_set(s, "table", "t", "test");
	ff_spec_set(s, "time", "ts", "test");
	ff_spec_set(s, "key", "k", "test");
	ff_spec_set(s, "window", "1d", "test");
	ff_spec_set(s, "feature", "n=count(*)", "test");
	ff_spec_set(s, "feature", "m=mean(v)", "test");
	if (more) {
		ff_spec_set(s, "feature", "sd=stddev(v)", "test");
		ff_spec_set(s, "feature", "lo=min(v)", "test");
	}
	ff_spec_finish(s);
}

static void spec_window(struct ff_spec *s, const char *window, const char *slide)
{
	ff_spec_init(s, "test");
	ff_spec_set(s, "table", "t", "test");
	ff_spec_set(s, "time", "ts", "test");
	ff_spec_set(s, "key", "k", "test");
	ff_spec_set(s, "window", window, "test");
	if (slide)
		ff_spec_set(s, "slide", slide, "test");
	ff_spec_set(s, "feature", "n=count(*)", "test");
	ff_spec_finish(s);
}

/* Feed rows "time,key" through an aggregation; returns the line of the first
 * bad row, or 0. */
static long feed(struct ff_agg *a, const char *const *rows, size_t n)
{
	struct ff_field header[2] = {{"ts", 2}, {"k", 1}};
	char msg[256];
	const char *reason;
	current = a;
	if (ff_agg_bind(a, header, 2, "test") < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char buf[64];
		snprintf(buf, sizeof buf, "%s", rows[i]);
		char *comma = strchr(buf, ',');
		*comma = '\0';
		struct ff_field f[2] = {{buf, strlen(buf)}, {comma + 1, strlen(comma + 1)}};
		if (ff_agg_stage(a, f, 2, msg, sizeof msg, &reason) < 0)
			return (long)i + 2;
		ff_agg_commit(a);
	}
	ff_agg_finish(a);
	return 0;
}

int main(void)
{
	struct ff_spec s;
	struct out o = {0};
	struct ff_agg_options opt = {.lateness = 3600 * FF_USEC};

	spec_window(&s, "1h", "15m");
	struct ff_agg *a = ff_agg_new(&s, &opt, emit, &o);
	const char *one[] = {"2018-01-01 10:15:00,z"};
	CHECK(feed(a, one, 1) == 0, "a row on a boundary is accepted");
	CHECK_STR(o.text, "z 10:30:00 1\nz 10:45:00 1\nz 11:00:00 1\nz 11:15:00 1\n",
		  "a time on a boundary falls in the 4 windows that start at or before it");
	ff_agg_free(a);

	memset(&o, 0, sizeof o);
	a = ff_agg_new(&s, &opt, emit, &o);
	const char *disorder[] = {"2018-01-01 10:20:00,b", "2018-01-01 10:05:00,a", "2018-01-01 10:16:00,b"};
	feed(a, disorder, 3);
	CHECK_STR(o.text,
		  "a 10:15:00 1\na 10:30:00 1\nb 10:30:00 2\na 10:45:00 1\nb 10:45:00 2\n"
		  "a 11:00:00 1\nb 11:00:00 2\nb 11:15:00 2\n",
		  "out-of-order rows: windows in end order, keys in byte order");
	ff_agg_free(a);
	ff_spec_release(&s);

	spec_window(&s, "30m", NULL);
	memset(&o, 0, sizeof o);
	opt.lateness = 10 * 60 * FF_USEC;
	a = ff_agg_new(&s, &opt, emit, &o);
	const char *late[] = {"2018-01-01 10:00:00,a", "2018-01-01 11:00:00,a", "2018-01-01 10:10:00,a"};
	CHECK(feed(a, late, 3) == 0, "a row behind windows handed out already is taken");
	CHECK_STR(o.text, "a 10:30:00 1\na 10:30:00 1\nagain\na 11:30:00 1\n",
		  "its window is handed out again, marked so, with the late row alone");
	CHECK(ff_agg_late_rows(a) == 1, "the late row is counted");
	ff_agg_free(a);

	memset(&o, 0, sizeof o);
	opt.lateness = -1;
	a = ff_agg_new(&s, &opt, emit, &o);
	CHECK(feed(a, late, 3) == 0, "unbounded lateness folds the late row in");
	CHECK_STR(o.text, "a 10:30:00 2\na 11:30:00 1\n", "late row counted in its window");
	ff_agg_free(a);

	/* Memory follows open windows, not rows: a day of ordered events. */
	memset(&o, 0, sizeof o);
	opt.lateness = 3600 * FF_USEC;
	a = ff_agg_new(&s, &opt, emit, &o);
	struct ff_field header[2] = {{"ts", 2}, {"k", 1}};
	current = a;
	ff_agg_bind(a, header, 2, "test");
	size_t most_open = 0;
	char msg[256];
	const char *reason;
	for (int i = 0; i < 86400; i += 10) {
		char t[32], k[8];
		ff_time_format((1514764800LL + i) * FF_USEC, t);
		snprintf(k, sizeof k, "%d", i % 7);
		struct ff_field f[2] = {{t, strlen(t)}, {k, strlen(k)}};
		ff_agg_stage(a, f, 2, msg, sizeof msg, &reason);
		ff_agg_commit(a);
		if (ff_agg_open_windows(a) > most_open)
			most_open = ff_agg_open_windows(a);
	}
	ff_agg_finish(a);
	CHECK(most_open <= 7 * 4, "open windows stay bounded by keys x (lateness + window) / slide");
	CHECK(o.rows == 7 * 48, "every window of the day emitted once");
	ff_agg_free(a);

	/* Memory follows open windows, not keys ever seen: 400000 keys, each
	 * seen once, in time order. */
	memset(&o, 0, sizeof o);
	a = ff_agg_new(&s, &opt, emit, &o);
	current = a;
	ff_agg_bind(a, header, 2, "test");
	size_t most_keys = 0;
	for (int i = 0; i < 400000; i++) {
		char t[32], k[16];
		ff_time_format((1514764800LL + i) * FF_USEC, t);
		snprintf(k, sizeof k, "user%d", i);
		struct ff_field f[2] = {{t, strlen(t)}, {k, strlen(k)}};
		ff_agg_stage(a, f, 2, msg, sizeof msg, &reason);
		ff_agg_commit(a);
		if (ff_agg_keys(a) > most_keys)
			most_keys = ff_agg_keys(a);
	}
	ff_agg_finish(a);
	CHECK(most_keys <= 2 * 65536 + 1, "keys of closed windows are forgotten");
	CHECK(o.rows == 400000, "every key's window handed out once");
	ff_agg_free(a);

	/* Range: windows ending in (10:30, 11:00]. */
	memset(&o, 0, sizeof o);
	opt = (struct ff_agg_options){.lateness = -1, .has_start = 1, .has_end = 1};
	ff_time_parse("2018-01-01 10:30:00", 19, 0, &opt.start);
	ff_time_parse("2018-01-01 11:00:00", 19, 0, &opt.end);
	a = ff_agg_new(&s, &opt, emit, &o);
	const char *range[] = {"2018-01-01 10:00:00,a", "2018-01-01 10:40:00,a", "2018-01-01 11:00:00,a"};
	feed(a, range, 3);
	CHECK_STR(o.text, "a 11:00:00 1\n", "only windows whose end is in (start, end]");
	ff_agg_free(a);
	ff_spec_release(&s);

	/* States: exact sums in any order, the stored form, what values say. */
	spec_stats(&s, 1);
	struct out o2[2];
	static unsigned char states[2][512];
	static const char *vals[] = {"0.1", "1e9", "0.2", "-1e9", "0.3", "12.35", "7.05", "1e-3"};
	for (int pass = 0; pass < 2; pass++) {
		memset(&o2[pass], 0, sizeof o2[pass]);
		struct ff_agg_options sopt = {.lateness = -1};
		a = ff_agg_new(&s, &sopt, emit_state, states[pass]);
		current = a;
		struct ff_field hdr[3] = {{"ts", 2}, {"k", 1}, {"v", 1}};
		ff_agg_bind(a, hdr, 3, "test");
		for (int i = 0; i < 8; i++) {
			const char *v = vals[pass ? 7 - i : i];
			struct ff_field f[3] = {{"2018-01-01 10:00:00", 19}, {"a", 1}, {v, strlen(v)}};
			CHECK(ff_agg_stage(a, f, 3, msg, sizeof msg, &reason) == 0, "a value is staged");
			ff_agg_commit(a);
		}
		ff_agg_finish(a);
		if (pass)
			break;
		ff_agg_free(a);
	}
	struct ff_value v[4], w[4];
	ff_agg_values(a, states[0], 0, v);
	ff_agg_values(a, states[1], 0, w);
	CHECK(v[1].d == w[1].d && v[3].d == w[3].d, "the same mean in either order: double-double sums are exact");
	CHECK(fabs(v[2].d - w[2].d) <= 1e-12 * v[2].d, "the same stddev in either order, to the last digits");
	CHECK(v[0].i == 8 && v[1].d == (0.1 + 0.2 + 0.3 + 12.35 + 7.05 + 1e-3) / 8,
	      "the mean of values that cancel out is the correctly rounded one");
	unsigned char enc[600], back[512], scratch[512];
	size_t n = ff_agg_state_encode(a, states[0], enc);
	CHECK(ff_agg_state_decode(a, enc, n, back) == 0, "a stored state reads back");
	size_t n2 = ff_agg_state_encode(a, back, enc + 300);
	CHECK(n2 == n && memcmp(enc, enc + 300, n) == 0, "and encodes to the same bytes");
	CHECK(ff_agg_state_decode(a, enc, n - 1, back) < 0, "a cut state is refused");
	CHECK(!ff_agg_state_derivable(a, states[0], v, scratch), "a stddev's state is not in its values");
	ff_agg_free(a);
	ff_spec_release(&s);

	spec_stats(&s, 0);
	struct ff_agg_options sopt = {.lateness = -1};
	a = ff_agg_new(&s, &sopt, emit_state, states[0]);
	current = a;
	struct ff_field hdr[3] = {{"ts", 2}, {"k", 1}, {"v", 1}};
	ff_agg_bind(a, hdr, 3, "test");
	const char *two[] = {"9.5", "12"};
	for (int i = 0; i < 2; i++) {
		struct ff_field f[3] = {{"2018-01-01 10:00:00", 19}, {"a", 1}, {two[i], strlen(two[i])}};
		ff_agg_stage(a, f, 3, msg, sizeof msg, &reason);
		ff_agg_commit(a);
	}
	ff_agg_finish(a);
	ff_agg_values(a, states[0], 0, v);
	CHECK(ff_agg_state_derivable(a, states[0], v, scratch), "a count and a mean of 2 cents values say their state");
	CHECK(ff_agg_state_derive(a, v, back) == 0 && (ff_agg_state_merge(a, back, states[0]), 1), "derived, merged");
	ff_agg_values(a, back, 0, v);
	CHECK(v[0].i == 4 && v[1].d == 10.75, "the merged state counts both halves");
	ff_agg_free(a);
	ff_spec_release(&s);
	return UNIT_DONE();
}
