/* The trip generator of ff-gen-trips(1).
 *
 * Same options, same bytes on every machine: the generator uses its own PRNG
 * (xoshiro256** seeded by splitmix64) and integer arithmetic only (distances
 * in hundredths of a mile, money in cents, log-normal factors from a fixed
 * table of powers of two), so no libm, FPU mode or locale can change a digit. */
#include "ff_gen_trips.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ff_time.h"
#include "ff_util.h"

/* ---- random numbers ---- */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* Uniform in [0, n). */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

/* Roughly standard normal, in units of 1/4096: a sum of four uniforms
 * (Irwin-Hall), which stays within 3.46 standard deviations. */
static int32_t rng_normal(struct rng *r)
{
	uint64_t v = rng_next(r);
	int32_t s = (int32_t)(v & 0xffff) + (int32_t)((v >> 16) & 0xffff) +
		    (int32_t)((v >> 32) & 0xffff) + (int32_t)(v >> 48) - 131070;
	return s * 4096 / 37837;
}

/* 2^(i/32) * 2^30 for i = 0..32. */
static const uint32_t exp2_table[33] = {
	1073741824, 1097253708, 1121280436, 1145833280, 1170923762, 1196563654,
	1222764986, 1249540052, 1276901417, 1304861917, 1333434672, 1362633090,
	1392470869, 1422962010, 1454120821, 1485961921, 1518500250, 1551751076,
	1585730000, 1620452965, 1655936265, 1692196547, 1729250827, 1767116489,
	1805811301, 1845353420, 1885761398, 1927054196, 1969251188, 2012372174,
	2056437387, 2101467502, 2147483648,
};

/* v * 2^(x/4096), rounded down; |x| stays far below 2^17 here. */
static int64_t scale_pow2(int64_t v, int32_t x)
{
	int32_t ip = x >= 0 ? x / 4096 : -((-x + 4095) / 4096);
	uint32_t f = (uint32_t)(x - ip * 4096);
	uint64_t a = exp2_table[f >> 7], b = exp2_table[(f >> 7) + 1];
	uint64_t m = a + (((b - a) * (f & 127)) >> 7); /* 2^(f/4096) * 2^30 */
	int sh = 30 - ip;
	uint64_t p = (uint64_t)v * m;
	return sh >= 63 ? 0 : sh >= 0 ? (int64_t)(p >> sh) : (int64_t)(p << -sh);
}

/* v times a log-normal factor of median 1 whose log2 has standard deviation
 * sigma/4096. */
static int64_t lognormal(struct rng *r, int64_t v, int32_t sigma)
{
	return scale_pow2(v, sigma * rng_normal(r) / 4096);
}

/* ---- the city ---- */

enum { NZONES = 265, UNKNOWN_ZONE = 264, JFK = 132 };

/* Borough of zones 1..265 (TLC taxi zones): EWR, Queens, bronX, Manhattan,
 * Staten island, brooKlyn, Unknown. */
static const char borough[NZONES + 1] =
	"EQXMSSQQQQKMMKQQKXQXKKSMKKQQKQXXKKKKKQKKMMMSMXXMKM"
	"XKQKKQQXXXKKKQKKKMXQKKQMMKKXMKXQQSKQMMKMKQQXQQKQSM"
	"QQMMMKMKSSKKMMSMQSXMQQKQMXMMQQQQKQQXMQQMMMMMQQXMKK"
	"MMMKKSQMXQMMMMKMXXXMQSQXQSKKQQKXXXXMSKKKQQQMKQQQXX"
	"QMQSQSQXMKMXXSQQKQQXSKQMKQKKMMMMMMXMMMMXXXMMSMXXMX"
	"SQQXKKKQXQMMMUU";

/* Zones placed by hand: position in hundredths of a mile east and north of
 * the Battery, pickups and dropoffs per 100,000 trips (from the 2018 sample),
 * and kind: Business, Residential, Nightlife, Airport, Other. */
struct landmark {
	short id, x, y, pick, drop;
	char kind;
};

static const struct landmark landmarks[] = {
	{1, -900, -200, 13, 210, 'A'}, {4, 90, 230, 190, 480, 'N'},
	{7, 350, 650, 170, 430, 'R'}, {12, -20, 20, 47, 66, 'O'},
	{13, -60, 60, 880, 930, 'R'}, {17, 320, 80, 10, 130, 'R'},
	{24, -30, 710, 300, 350, 'R'}, {25, 140, -30, 95, 190, 'R'},
	{33, 90, 30, 110, 310, 'R'}, {34, 180, 100, 4, 15, 'O'},
	{36, 440, 180, 4, 76, 'R'}, {37, 400, 120, 24, 110, 'R'},
	{40, 90, -80, 62, 120, 'R'}, {41, 30, 770, 370, 700, 'R'},
	{42, 40, 830, 180, 480, 'R'}, {43, 0, 580, 1490, 1220, 'O'},
	{45, 30, 130, 210, 290, 'O'}, {48, -60, 410, 3120, 2740, 'N'},
	{49, 260, 40, 27, 160, 'R'}, {50, -90, 420, 850, 1150, 'R'},
	{52, 90, -30, 49, 77, 'R'}, {54, 50, -50, 3, 34, 'R'},
	{61, 350, -80, 17, 160, 'R'}, {65, 140, 20, 140, 210, 'B'},
	{66, 120, 80, 40, 160, 'R'}, {68, -40, 300, 2340, 2140, 'N'},
	{69, 180, 1030, 5, 36, 'R'}, {70, 630, 640, 12, 35, 'R'},
	{74, 100, 750, 420, 790, 'R'}, {75, 90, 690, 690, 1220, 'R'},
	{79, 60, 240, 2770, 2310, 'N'}, {80, 340, 260, 41, 160, 'N'},
	{82, 600, 460, 31, 80, 'R'}, {87, 0, 80, 770, 810, 'B'},
	{88, 0, 40, 400, 400, 'B'}, {90, 0, 300, 1770, 1460, 'B'},
	{92, 850, 580, 5, 35, 'R'}, {95, 750, 320, 13, 100, 'R'},
	{97, 200, 40, 82, 150, 'R'}, {100, -30, 380, 2080, 1580, 'B'},
	{103, -50, -80, 1, 1, 'O'}, {104, -90, -40, 1, 1, 'O'},
	{105, -110, -60, 1, 1, 'O'}, {106, 140, -100, 14, 49, 'R'},
	{107, 40, 290, 2360, 2040, 'R'}, {112, 280, 360, 40, 210, 'R'},
	{113, -10, 240, 1550, 1340, 'N'}, {114, -30, 200, 1330, 1010, 'N'},
	{116, -20, 860, 120, 260, 'R'}, {120, 30, 980, 1, 4, 'O'},
	{125, -50, 170, 610, 540, 'B'}, {127, 30, 1100, 12, 85, 'R'},
	{128, 0, 1130, 1, 5, 'O'}, {129, 560, 520, 45, 170, 'R'},
	{132, 1150, -450, 2540, 860, 'A'}, {137, 60, 330, 1280, 1410, 'R'},
	{138, 650, 800, 2780, 1140, 'A'}, {140, 90, 540, 1750, 1760, 'R'},
	{141, 50, 540, 2340, 2400, 'R'}, {142, -40, 500, 2970, 2730, 'R'},
	{143, -80, 510, 1180, 1340, 'R'}, {144, 10, 170, 1000, 900, 'N'},
	{145, 200, 420, 100, 320, 'R'}, {146, 260, 490, 100, 140, 'R'},
	{148, 60, 170, 1350, 1050, 'N'}, {151, -30, 690, 870, 810, 'R'},
	{152, -40, 810, 91, 170, 'R'}, {153, 60, 1150, 3, 3, 'R'},
	{158, -80, 260, 940, 1040, 'N'}, {161, 10, 430, 3800, 3740, 'B'},
	{162, 40, 420, 3520, 3100, 'B'}, {163, -10, 460, 2740, 2380, 'B'},
	{164, 0, 350, 2400, 2110, 'B'}, {166, -40, 760, 550, 750, 'R'},
	{168, 200, 900, 14, 81, 'R'}, {170, 40, 370, 3200, 3140, 'R'},
	{179, 280, 680, 58, 130, 'R'}, {181, 200, -160, 100, 310, 'R'},
	{186, -40, 350, 3430, 2660, 'B'}, {189, 250, -80, 15, 93, 'R'},
	{193, 210, 540, 72, 79, 'R'}, {194, 150, 750, 5, 12, 'O'},
	{195, 20, -100, 9, 36, 'O'}, {202, 110, 500, 3, 42, 'R'},
	{209, 30, 90, 210, 260, 'B'}, {211, -20, 160, 750, 850, 'N'},
	{217, 240, 160, 8, 23, 'R'}, {223, 420, 680, 45, 180, 'R'},
	{224, 90, 280, 220, 440, 'R'}, {226, 360, 460, 150, 230, 'R'},
	{229, 70, 460, 1910, 1820, 'R'}, {230, -20, 410, 3420, 3090, 'B'},
	{231, -40, 120, 1760, 1590, 'B'}, {232, 80, 130, 170, 450, 'R'},
	{233, 70, 400, 1310, 1490, 'B'}, {234, 10, 270, 3050, 2640, 'N'},
	{236, 80, 600, 3830, 3810, 'R'}, {237, 50, 500, 3910, 3670, 'R'},
	{238, -40, 630, 1900, 2130, 'R'}, {239, -50, 560, 2610, 2480, 'R'},
	{243, 10, 1020, 21, 190, 'R'}, {244, 0, 940, 100, 360, 'R'},
	{246, -90, 320, 1400, 1810, 'N'}, {247, 120, 1000, 12, 44, 'R'},
	{249, -60, 230, 2000, 1630, 'N'}, {255, 250, 280, 94, 240, 'N'},
	{256, 260, 220, 71, 240, 'N'}, {260, 460, 460, 50, 110, 'R'},
	{261, -30, 90, 580, 490, 'B'}, {262, 120, 600, 1220, 1330, 'R'},
	{263, 100, 620, 1930, 1890, 'R'},
};

/* Other zones: a fixed pseudo-random spot in a box around their borough,
 * and a default popularity. Unknown zones (264, 265) have no place. */
struct borough_box {
	char code;
	short x0, y0, w, h, pick, drop;
};

static const struct borough_box boxes[] = {
	{'K', 50, -750, 600, 1000, 2, 25}, {'Q', 350, -350, 1000, 1200, 3, 20},
	{'X', 50, 850, 700, 600, 1, 12},   {'S', -900, -1200, 650, 750, 1, 2},
	{'M', -60, 0, 160, 1150, 20, 40},  {'E', -900, -200, 1, 1, 13, 210},
	{'U', 0, 0, 1, 1, 0, 0},
};

/* Times of day that change where trips start and end. */
enum { NIGHT, MORNING, DAYTIME, EVENING, NPERIODS };
static const char kinds[] = "BRNAO";
/* Percent of the base popularity by period and kind (B R N A O). */
static const short pick_mult[NPERIODS][5] = {
	{60, 80, 250, 60, 100}, {80, 170, 60, 100, 100},
	{110, 100, 80, 110, 100}, {120, 80, 130, 100, 100},
};
static const short drop_mult[NPERIODS][5] = {
	{60, 170, 100, 60, 120}, {170, 70, 50, 100, 80},
	{110, 100, 80, 100, 100}, {80, 130, 130, 100, 100},
};

/* Trips per hour, Monday to Sunday (shape of the 2018 sample). */
static const unsigned char hour_profile[7][24] = {
	{28, 17, 11, 9, 10, 18, 45, 70, 86, 82, 78, 82,
	 83, 85, 93, 92, 84, 99, 115, 105, 94, 95, 80, 55},
	{32, 16, 10, 8, 9, 19, 45, 75, 90, 86, 83, 84,
	 87, 88, 96, 93, 84, 99, 113, 110, 104, 105, 95, 66},
	{40, 21, 12, 9, 10, 18, 47, 77, 96, 91, 88, 88,
	 89, 88, 96, 94, 86, 99, 118, 110, 106, 104, 100, 78},
	{46, 26, 15, 11, 11, 18, 46, 81, 96, 90, 88, 88,
	 90, 89, 98, 96, 86, 100, 118, 114, 106, 110, 103, 91},
	{60, 35, 23, 17, 14, 19, 45, 76, 94, 85, 85, 86,
	 92, 93, 101, 94, 88, 101, 114, 116, 100, 101, 98, 96},
	{85, 70, 56, 41, 28, 14, 20, 30, 42, 63, 78, 86,
	 95, 93, 90, 93, 92, 100, 104, 100, 88, 86, 93, 92},
	{90, 78, 55, 42, 29, 12, 16, 26, 40, 55, 68, 84,
	 89, 89, 87, 84, 83, 82, 88, 80, 72, 65, 57, 44},
};

/* Street speed in tenths of a mile per hour, weekdays and weekends. */
static const unsigned char speed_profile[2][24] = {
	{155, 160, 170, 180, 190, 170, 135, 100, 85, 80, 80, 80,
	 80, 80, 76, 76, 80, 80, 85, 95, 100, 110, 120, 135},
	{135, 145, 155, 160, 180, 190, 180, 160, 145, 130, 115, 100,
	 95, 95, 95, 95, 95, 95, 95, 100, 100, 100, 110, 125},
};

enum {
	JITTER = 240,          /* at most this many seconds out of pickup order */
	SAME_ZONE_PCT = 7,     /* trips that end in the zone they started in */
	KERNEL = 100,          /* dropoffs thin out beyond this distance (0.01 mi) */
	MIN_DIST = 30,         /* shortest ordinary trip, 0.30 mi */
	MAX_DIST = 3000,       /* longest trip, 30 mi */
	MAX_DURATION = 6600,   /* plus up to 10 minutes: trips end within 2 h */
};

/* Walker's alias table for drawing zones in proportion to weights: bucket i
 * keeps zone i + 1 when a uniform number below total falls under keep[i], and
 * gives zone alias[i] + 1 otherwise. */
struct zone_table {
	uint32_t total;
	uint32_t keep[NZONES];
	unsigned short alias[NZONES];
};

struct gen {
	struct rng rng;
	uint64_t day_seed;
	int64_t start; /* seconds */
	int x[NZONES + 1], y[NZONES + 1];
	char kind[NZONES + 1];
	unsigned short dist[NZONES + 1][NZONES + 1];
	struct zone_table pick[NPERIODS];
	struct zone_table drop[NPERIODS][NZONES + 1]; /* by pickup zone */
	int64_t date_day[2];
	char date_text[2][12];
};

static int kind_index(char k) { return (int)(strchr(kinds, k) - kinds); }

static uint32_t isqrt(uint64_t v)
{
	uint64_t r = 0, bit = 1ULL << 62;
	while (bit > v)
		bit >>= 2;
	while (bit) {
		if (v >= r + bit) {
			v -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return (uint32_t)r;
}

/* Vose's construction, in integers: weights scaled by NZONES so that a full
 * bucket holds exactly total. The sum of weights must fit in 32 bits. */
static void table_build(struct zone_table *t, const uint32_t *w)
{
	uint64_t total = 0, scaled[NZONES];
	unsigned short small[NZONES], large[NZONES];
	int ns = 0, nl = 0;
	for (int i = 0; i < NZONES; i++)
		total += w[i];
	for (int i = 0; i < NZONES; i++) {
		scaled[i] = (uint64_t)w[i] * NZONES;
		if (scaled[i] < total)
			small[ns++] = (unsigned short)i;
		else
			large[nl++] = (unsigned short)i;
	}
	while (ns && nl) {
		unsigned short sm = small[--ns], lg = large[nl - 1];
		t->keep[sm] = (uint32_t)scaled[sm];
		t->alias[sm] = lg;
		scaled[lg] -= total - scaled[sm];
		if (scaled[lg] < total) {
			nl--;
			small[ns++] = lg;
		}
	}
	while (nl) {
		unsigned short lg = large[--nl];
		t->keep[lg] = (uint32_t)total;
		t->alias[lg] = lg;
	}
	while (ns) { /* cannot happen with exact sums; kept for safety */
		unsigned short sm = small[--ns];
		t->keep[sm] = (uint32_t)total;
		t->alias[sm] = sm;
	}
	t->total = (uint32_t)total;
}

static void build_city(struct gen *g)
{
	int pick[NZONES + 1], drop[NZONES + 1];
	for (int z = 1; z <= NZONES; z++) {
		const struct borough_box *b = boxes;
		while (b->code != borough[z - 1])
			b++;
		uint64_t h = (uint64_t)z * 0x2545f4914f6cdd1dULL;
		h = splitmix64(&h);
		g->x[z] = b->x0 + (int)(h % (uint64_t)b->w);
		g->y[z] = b->y0 + (int)((h >> 32) % (uint64_t)b->h);
		pick[z] = b->pick;
		drop[z] = b->drop;
		g->kind[z] = b->code == 'M'   ? 'B'
			     : b->code == 'E' ? 'A'
			     : b->code == 'U' ? 'O'
					      : 'R';
	}
	pick[UNKNOWN_ZONE] = 40, drop[UNKNOWN_ZONE] = 40;
	pick[UNKNOWN_ZONE + 1] = 5, drop[UNKNOWN_ZONE + 1] = 25;
	for (size_t i = 0; i < sizeof landmarks / sizeof landmarks[0]; i++) {
		const struct landmark *l = &landmarks[i];
		g->x[l->id] = l->x, g->y[l->id] = l->y;
		pick[l->id] = l->pick, drop[l->id] = l->drop;
		g->kind[l->id] = l->kind;
	}
	for (int p = 1; p <= NZONES; p++)
		for (int q = 1; q <= NZONES; q++) {
			int64_t dx = g->x[p] - g->x[q], dy = g->y[p] - g->y[q];
			g->dist[p][q] = (unsigned short)isqrt((uint64_t)(dx * dx + dy * dy));
			if (borough[p - 1] == 'U' || borough[q - 1] == 'U')
				g->dist[p][q] = 200;
		}
	uint32_t w[NZONES];
	for (int per = 0; per < NPERIODS; per++) {
		for (int z = 1; z <= NZONES; z++)
			w[z - 1] = (uint32_t)(pick[z] * pick_mult[per][kind_index(g->kind[z])]);
		table_build(&g->pick[per], w);
		/* Dropoffs: popularity times a kernel that favours nearby zones but
		 * keeps a long tail (airports, other boroughs). */
		for (int p = 1; p <= NZONES; p++) {
			for (int q = 1; q <= NZONES; q++) {
				uint64_t d = g->dist[p][q];
				d = KERNEL + (g->kind[q] == 'A' ? d / 4 : d);
				uint64_t num = (uint64_t)drop[q] *
					       (uint64_t)drop_mult[per][kind_index(g->kind[q])];
				uint64_t v = num * 4096 / (d * isqrt(d));
				w[q - 1] = q == p ? 0 : v ? (uint32_t)v : 1;
			}
			table_build(&g->drop[per][p], w);
		}
	}
}

/* log2(v) in units of 1/4096, rounded down, for v >= 1: the whole part from
 * the highest bit, the fraction bit by bit by squaring (m in [1, 2) scaled
 * by 2^30). */
static int32_t log2_4096(uint32_t v)
{
	int32_t ip = 31;
	while (!(v >> ip))
		ip--;
	uint64_t m = (uint64_t)v << (30 - ip);
	int32_t frac = 0;
	for (int bit = 2048; bit; bit >>= 1) {
		m = (m * m) >> 30;
		if (m >= 1ULL << 31) {
			m >>= 1;
			frac |= bit;
		}
	}
	return ip * 4096 + frac;
}

/* Zones 1..FF_GEN_TRIPS_RANKED_ZONES with weights 1/k^s (s in thousandths),
 * the same at every hour for pickups and dropoffs alike; no other zone. */
static void build_zipf(struct gen *g, int32_t s_milli)
{
	uint32_t w[NZONES] = {0};
	for (int k = 1; k <= FF_GEN_TRIPS_RANKED_ZONES; k++) {
		int64_t v = scale_pow2(1 << 22, (int32_t)(-(int64_t)s_milli * log2_4096((uint32_t)k) / 1000));
		w[k - 1] = v > 0 ? (uint32_t)v : 1;
	}
	table_build(&g->pick[0], w);
	for (int per = 0; per < NPERIODS; per++) {
		g->pick[per] = g->pick[0];
		for (int p = 1; p <= NZONES; p++)
			g->drop[per][p] = g->pick[0];
	}
}

static int draw_zone(struct rng *r, const struct zone_table *t)
{
	uint64_t v = rng_next(r);
	uint32_t i = (uint32_t)(((v >> 32) * NZONES) >> 32);
	uint32_t u = (uint32_t)(((v & 0xffffffff) * t->total) >> 32);
	return (u < t->keep[i] ? (int)i : t->alias[i]) + 1;
}

/* ---- the clock ---- */

/* 0 = Monday. 1970-01-01 was a Thursday. */
static int weekday(int64_t day) { return (int)((day % 7 + 7 + 3) % 7); }

/* Relative trip rate in minute m (0..1439) of a day: the hourly profile,
 * interpolated between the middles of the hours, times a busier or quieter
 * day (88% to 112%, fixed by the seed). */
static uint64_t minute_weight(const struct gen *g, int64_t day, int m)
{
	int64_t mw = (int64_t)weekday(day) * 1440 + m - 30;
	if (mw < 0)
		mw += 7 * 1440;
	int h0 = (int)(mw / 60), frac = (int)(mw % 60);
	int h1 = (h0 + 1) % 168;
	unsigned a = hour_profile[h0 / 24][h0 % 24], b = hour_profile[h1 / 24][h1 % 24];
	uint64_t x = g->day_seed ^ (uint64_t)day;
	unsigned factor = 88 + (unsigned)(splitmix64(&x) % 25);
	return (a * (unsigned)(60 - frac) + b * (unsigned)frac) * factor / 100;
}

/* ---- output ---- */

static char *put_uint(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

/* "YYYY-MM-DD HH:MM:SS"; slot caches the date of the last call. */
static char *put_time(struct gen *g, int slot, char *p, int64_t t)
{
	int64_t day = ff_floor_div(t, 86400);
	unsigned sod = (unsigned)(t - day * 86400);
	if (day != g->date_day[slot]) {
		int64_t y;
		unsigned m, d;
		ff_civil_from_days(day, &y, &m, &d);
		char *s = g->date_text[slot];
		s = put2(s, (unsigned)(y / 100));
		s = put2(s, (unsigned)(y % 100));
		*s++ = '-';
		s = put2(s, m);
		*s++ = '-';
		s = put2(s, d);
		*s = ' ';
		g->date_day[slot] = day;
	}
	memcpy(p, g->date_text[slot], 11);
	p = put2(p + 11, sod / 3600);
	*p++ = ':';
	p = put2(p, sod / 60 % 60);
	*p++ = ':';
	return put2(p, sod % 60);
}

/* Cents as the meter prints them: at least one decimal, two when needed. */
static char *put_money(char *p, int64_t cents)
{
	if (cents < 0) {
		*p++ = '-';
		cents = -cents;
	}
	p = put_uint(p, (uint64_t)cents / 100);
	*p++ = '.';
	*p++ = (char)('0' + cents / 10 % 10);
	if (cents % 10)
		*p++ = (char)('0' + cents % 10);
	return p;
}

/* One trip picked up at time t (seconds); returns the end of the row. */
static char *trip(struct gen *g, int64_t t, char *p)
{
	struct rng *r = &g->rng;
	if (rng_below(r, 10) == 0) {
		t -= 1 + rng_below(r, JITTER);
		if (t < g->start)
			t = g->start;
	}
	int64_t day = ff_floor_div(t, 86400);
	int hour = (int)(t - day * 86400) / 3600;
	int weekend = weekday(day) >= 5;
	int period = hour < 6    ? NIGHT
		     : hour < 10 ? (weekend ? DAYTIME : MORNING)
		     : hour < 17 ? DAYTIME
				 : EVENING;

	int from = draw_zone(r, &g->pick[period]);
	int to = rng_below(r, 100) < SAME_ZONE_PCT ? from : draw_zone(r, &g->drop[period][from]);

	int64_t dist; /* hundredths of a mile */
	if (borough[from - 1] == 'U' || borough[to - 1] == 'U')
		dist = lognormal(r, 180, 5550);
	else if (from == to)
		dist = lognormal(r, 90, 3300);
	else
		dist = lognormal(r, g->dist[from][to] * 13 / 10, 1450);
	dist = dist < MIN_DIST ? MIN_DIST : dist > MAX_DIST ? MAX_DIST : dist;

	/* Longer trips take faster roads. */
	int64_t speed = speed_profile[weekend][hour];
	int64_t boost = dist < 150 ? 1000 : dist < 1500 ? 1000 + (dist - 150) * 4 / 3 : 2800;
	int64_t travel = dist * 360000 / (speed * boost); /* seconds */
	int64_t duration = 30 + rng_below(r, 60) + lognormal(r, travel, 2000);
	int64_t cap = MAX_DURATION + rng_below(r, 600);
	if (duration > cap)
		duration = cap;

	/* The meter: $2.50, $2.50 a mile, 50 cents a minute in slow traffic. */
	int64_t slow = duration - 3 * dist;
	if (slow < duration * 500 / (1000 + dist))
		slow = duration * 500 / (1000 + dist);
	int64_t cents = 250 + dist * 5 / 2 + slow * 50 / 60 + rng_below(r, 101) - 50;
	cents = (cents + 25) / 50 * 50;
	if (cents < 250)
		cents = 250;
	if ((from == JFK && borough[to - 1] == 'M') || (to == JFK && borough[from - 1] == 'M'))
		cents = 5200;

	/* The oddities of the real records. */
	uint32_t odd = rng_below(r, 10000);
	if (odd < 5) { /* 1 in 2000: no distance recorded */
		dist = 0;
		uint32_t how = rng_below(r, 4);
		if (how < 2) { /* cancelled at the kerb */
			to = from;
			duration = 5 + rng_below(r, 85);
			cents = 250;
		} else if (how == 3) {
			cents = 5200;
		}
	} else if (odd < 7) { /* 1 in 5000: a refund */
		cents = -cents;
	} else if (odd < 14) { /* 1 in 1400: a negotiated fare, to the cent */
		cents = cents * (90 + rng_below(r, 41)) / 100;
	}

	p = put_time(g, 0, p, t);
	*p++ = ',';
	p = put_time(g, 1, p, t + duration);
	*p++ = ',';
	p = put_uint(p, (uint64_t)dist / 100);
	*p++ = '.';
	p = put2(p, (unsigned)(dist % 100));
	*p++ = ',';
	p = put_money(p, cents);
	*p++ = ',';
	p = put_uint(p, (uint64_t)from);
	*p++ = ',';
	p = put_uint(p, (uint64_t)to);
	*p++ = '\n';
	return p;
}

static const char header[] = "tpep_pickup_datetime,tpep_dropoff_datetime,"
			     "trip_distance,fare_amount,pickup_zip,dropoff_zip\n";

enum { BUF_SIZE = 1 << 18, ROW_MAX = 128 };

/* Spread rows over the minutes of the span in proportion to the trip rate
 * (exact counts, carried remainders), each minute's trips in time order. */
static int generate(struct gen *g, FILE *out, char *buf, int64_t rows, int64_t days)
{
	size_t len = sizeof header - 1;
	memcpy(buf, header, len);

	int64_t first_day = ff_floor_div(g->start, 86400);
	uint64_t total = 0;
	for (int64_t d = 0; d < days; d++)
		for (int m = 0; m < 1440; m++)
			total += minute_weight(g, first_day + d, m);
	uint64_t whole = (uint64_t)rows / total, rest = (uint64_t)rows % total;
	uint64_t acc = rng_next(&g->rng) % total;

	for (int64_t d = 0; d < days && rows > 0; d++) {
		for (int m = 0; m < 1440; m++) {
			uint64_t w = minute_weight(g, first_day + d, m);
			acc += rest * w;
			uint64_t n = whole * w + acc / total;
			acc %= total;
			int64_t minute = g->start + d * 86400 + m * 60;
			for (uint64_t j = 0; j < n; j++) {
				uint64_t sec = (j * 60 + rng_below(&g->rng, 60)) / n;
				int64_t t = minute + (int64_t)sec;
				len = (size_t)(trip(g, t, buf + len) - buf);
				if (len > BUF_SIZE - ROW_MAX) {
					if (fwrite(buf, 1, len, out) != len) {
						ff_write_failed(out, errno);
						return -1;
					}
					len = 0;
				}
			}
		}
	}
	if (len && fwrite(buf, 1, len, out) != len) {
		ff_write_failed(out, errno);
		return -1;
	}
	return 0;
}

int ff_gen_trips(FILE *out, const struct ff_gen_trips_options *o)
{
	struct gen *g = ff_xcalloc(1, sizeof *g);
	char *buf = ff_xmalloc(BUF_SIZE);
	rng_seed(&g->rng, o->seed);
	uint64_t s = o->seed ^ 0x6a09e667f3bcc909ULL;
	g->day_seed = splitmix64(&s);
	g->start = ff_floor_div(o->start, FF_USEC);
	g->date_day[0] = g->date_day[1] = INT64_MIN;
	build_city(g);
	if (o->zones == FF_GEN_TRIPS_ZIPF)
		build_zipf(g, o->zipf_milli);
	int rc = generate(g, out, buf, o->rows, o->days);
	free(buf);
	free(g);
	return rc;
}
