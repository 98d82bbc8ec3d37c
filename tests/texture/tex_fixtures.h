/* tex_fixtures.h: generated test images and image metrics for the
 * kiln-texture unit tests. Everything is static inline so that each test
 * executable takes what it uses. Images are RGBA8, rows packed. */
#ifndef KILN_TEX_FIXTURES_H
#define KILN_TEX_FIXTURES_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "path.h"

/* A deterministic generator, so a failing PSNR can be reproduced. */
static inline uint32_t fx_rand(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

static inline uint8_t fx_clamp(int v)
{
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* A "natural-ish" image: smooth two-axis colour gradients, a soft
 * low-frequency wave, and grain of +-noise per channel. alpha 0: opaque;
 * 1: a soft alpha ramp with grain; 2: hard cut-out (0 or 255). */
static inline uint8_t *fx_natural(uint32_t w, uint32_t h, int noise, int alpha, uint32_t seed)
{
	uint8_t *px = malloc((size_t)w * h * 4);
	if (!px)
		return NULL;
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			double u = w > 1 ? (double)x / (w - 1) : 0, v = h > 1 ? (double)y / (h - 1) : 0;
			double wave = 30.0 * sin(u * 6.1 + v * 3.7) * cos(v * 5.3 - u * 1.3);
			int n = noise ? (int)(fx_rand(&seed) % (2u * (uint32_t)noise + 1)) - noise : 0;
			uint8_t *p = px + ((size_t)y * w + x) * 4;
			p[0] = fx_clamp((int)(40 + 170 * u + wave) + n);
			p[1] = fx_clamp((int)(200 - 120 * v + 0.5 * wave) + n);
			p[2] = fx_clamp((int)(60 + 90 * u * v - wave) + n);
			if (alpha == 1)
				p[3] = fx_clamp((int)(255 * (0.15 + 0.85 * u)) + n);
			else if (alpha == 2)
				p[3] = (u - 0.5) * (u - 0.5) + (v - 0.5) * (v - 0.5) < 0.12 ? 255 : 0;
			else
				p[3] = 255;
		}
	return px;
}

/* PSNR in dB of b against a over the first `channels` channels of every
 * pixel (3: RGB, 4: RGBA). Identical images give INFINITY. */
static inline double fx_psnr(const uint8_t *a, const uint8_t *b, uint32_t w, uint32_t h, int channels)
{
	double se = 0;
	size_t n = (size_t)w * h;
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < channels; c++) {
			double d = (double)a[i * 4 + c] - (double)b[i * 4 + c];
			se += d * d;
		}
	if (se == 0)
		return INFINITY;
	double mse = se / ((double)n * channels);
	return 10.0 * log10(255.0 * 255.0 / mse);
}

/* A fresh temporary folder; the caller removes it with path_rmtree. */
static inline int fx_tmpdir(char *out, size_t outsz)
{
	snprintf(out, outsz, "/tmp/kiln-texture-test.XXXXXX");
	return mkdtemp(out) ? 0 : -1;
}

/* Reads a whole file into a malloc'd buffer. Returns NULL on error. */
static inline uint8_t *fx_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	*len = (size_t)n;
out:
	fclose(f);
	return buf;
}

static inline int fx_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t n = len ? fwrite(data, 1, len, f) : 0;
	return (fclose(f) == 0 && n == len) ? 0 : -1;
}

#endif
