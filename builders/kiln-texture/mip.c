/* mip.c: the mip filter (see mip.h). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mip.h"

/* Most four source pixels overlap one destination pixel on an axis: the
 * ratio n / (n / 2) is at most 3, and a span of 3 that starts mid-pixel
 * touches four. */
#define MAX_TAPS 4
#define GUESS_N  4096

typedef struct tap {
	uint32_t first, n;
	float w[MAX_TAPS];
} tap;

/* to_linear[v] decodes a byte; threshold[k] is the smallest linear value
 * that rounds to byte k (the decoded midpoint between k - 1 and k), so
 * encoding is "the largest k with threshold[k] <= l". guess[] indexes a
 * uniform grid of linear values to a byte at most a step or two away. */
static struct {
	float to_linear[256];
	float threshold[257];
	uint8_t guess[GUESS_N + 1];
} tables;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static double decode_srgb(double s)
{
	return s <= 0.04045 ? s / 12.92 : pow((s + 0.055) / 1.055, 2.4);
}

static void tables_init(void)
{
	for (int k = 0; k < 256; k++)
		tables.to_linear[k] = (float)decode_srgb(k / 255.0);
	tables.threshold[0] = -INFINITY;
	for (int k = 1; k < 256; k++)
		tables.threshold[k] = (float)decode_srgb((k - 0.5) / 255.0);
	tables.threshold[256] = INFINITY;
	int k = 0;
	for (int i = 0; i <= GUESS_N; i++) {
		float l = (float)i / GUESS_N;
		while (k < 255 && l >= tables.threshold[k + 1])
			k++;
		tables.guess[i] = (uint8_t)k;
	}
}

float mip_srgb_to_linear(uint8_t v)
{
	pthread_once(&tables_once, tables_init);
	return tables.to_linear[v];
}

static uint8_t encode(float l)
{
	if (!(l > 0.0f))
		return 0;
	if (l >= 1.0f)
		return 255;
	int k = tables.guess[(int)(l * GUESS_N + 0.5f)];
	while (k < 255 && l >= tables.threshold[k + 1])
		k++;
	while (k > 0 && l < tables.threshold[k])
		k--;
	return (uint8_t)k;
}

uint8_t mip_linear_to_srgb(float l)
{
	pthread_once(&tables_once, tables_init);
	return encode(l);
}

uint32_t mip_next(uint32_t n)
{
	return n > 1 ? n / 2 : 1;
}

uint32_t mip_count(uint32_t w, uint32_t h)
{
	uint32_t longest = w > h ? w : h, n = 1;
	while (longest > 1) {
		longest /= 2;
		n++;
	}
	return n;
}

void mip_level_size(uint32_t w, uint32_t h, uint32_t level, uint32_t *lw, uint32_t *lh)
{
	for (uint32_t i = 0; i < level; i++) {
		w = mip_next(w);
		h = mip_next(h);
	}
	*lw = w;
	*lh = h;
}

/* The weights of the n source pixels onto m destination pixels on one
 * axis. Destination pixel i covers [i*n/m, (i+1)*n/m) in source pixels;
 * working in units of 1/m keeps every bound an integer. */
static void axis_taps(uint32_t n, uint32_t m, tap *t)
{
	for (uint32_t i = 0; i < m; i++) {
		uint64_t start = (uint64_t)i * n, end = (uint64_t)(i + 1) * n;
		uint32_t j0 = (uint32_t)(start / m), j1 = (uint32_t)((end + m - 1) / m);
		t[i].first = j0;
		t[i].n = j1 - j0;
		for (uint32_t j = j0; j < j1; j++) {
			uint64_t lo = (uint64_t)j * m > start ? (uint64_t)j * m : start;
			uint64_t hi = (uint64_t)(j + 1) * m < end ? (uint64_t)(j + 1) * m : end;
			t[i].w[j - j0] = (float)(hi - lo) / (float)n;
		}
	}
}

/* Per destination pixel: alpha-weighted linear colour, alpha, and the plain
 * colour for footprints that are wholly transparent. */
enum { ACC_PR, ACC_PG, ACC_PB, ACC_A, ACC_R, ACC_G, ACC_B, ACC_N };

int mip_downsample(const uint8_t *src, uint32_t sw, uint32_t sh, uint8_t *dst)
{
	uint32_t dw = mip_next(sw), dh = mip_next(sh);
	tap *xt = NULL, *yt = NULL;
	float *acc = NULL;
	int rc = 0;

	pthread_once(&tables_once, tables_init);
	xt = malloc(sizeof(*xt) * dw);
	yt = malloc(sizeof(*yt) * dh);
	acc = malloc(sizeof(*acc) * ACC_N * dw);
	if (!xt || !yt || !acc) {
		rc = -ENOMEM;
		goto out;
	}
	axis_taps(sw, dw, xt);
	axis_taps(sh, dh, yt);

	const float *lin = tables.to_linear;
	for (uint32_t y = 0; y < dh; y++) {
		memset(acc, 0, sizeof(*acc) * ACC_N * dw);
		for (uint32_t r = 0; r < yt[y].n; r++) {
			const uint8_t *row = src + (size_t)(yt[y].first + r) * sw * 4;
			float wy = yt[y].w[r];
			for (uint32_t x = 0; x < dw; x++) {
				float *a = acc + (size_t)x * ACC_N;
				const tap *t = &xt[x];
				for (uint32_t k = 0; k < t->n; k++) {
					const uint8_t *p = row + (size_t)(t->first + k) * 4;
					float w = wy * t->w[k], wa = w * (p[3] * (1.0f / 255.0f));
					float cr = lin[p[0]], cg = lin[p[1]], cb = lin[p[2]];
					a[ACC_PR] += wa * cr;
					a[ACC_PG] += wa * cg;
					a[ACC_PB] += wa * cb;
					a[ACC_A] += wa;
					a[ACC_R] += w * cr;
					a[ACC_G] += w * cg;
					a[ACC_B] += w * cb;
				}
			}
		}
		uint8_t *out = dst + (size_t)y * dw * 4;
		for (uint32_t x = 0; x < dw; x++) {
			const float *a = acc + (size_t)x * ACC_N;
			float al = a[ACC_A];
			if (al > 1e-6f) {
				float inv = 1.0f / al;
				out[x * 4 + 0] = encode(a[ACC_PR] * inv);
				out[x * 4 + 1] = encode(a[ACC_PG] * inv);
				out[x * 4 + 2] = encode(a[ACC_PB] * inv);
			} else {
				out[x * 4 + 0] = encode(a[ACC_R]);
				out[x * 4 + 1] = encode(a[ACC_G]);
				out[x * 4 + 2] = encode(a[ACC_B]);
			}
			float av = al * 255.0f + 0.5f;
			out[x * 4 + 3] = (uint8_t)(av >= 255.0f ? 255 : av);
		}
	}
out:
	free(xt);
	free(yt);
	free(acc);
	return rc;
}
