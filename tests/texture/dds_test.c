/* dds_test.c: DDS header fields and sizes for BC1, BC3 and RGBA8 at odd
 * sizes and 1x1, and the header reader's refusals. */
#include <string.h>

#include "dds.h"
#include "kerr.h"
#include "mip.h"
#include "test.h"

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_level_sizes(void)
{
	CHECK_EQ_INT(dds_level_size(DDS_BC1, 1, 1), 8);
	CHECK_EQ_INT(dds_level_size(DDS_BC3, 1, 1), 16);
	CHECK_EQ_INT(dds_level_size(DDS_RGBA8, 1, 1), 4);
	CHECK_EQ_INT(dds_level_size(DDS_BC1, 4, 4), 8);
	CHECK_EQ_INT(dds_level_size(DDS_BC1, 5, 4), 16);
	CHECK_EQ_INT(dds_level_size(DDS_BC1, 37, 19), 10 * 5 * 8);
	CHECK_EQ_INT(dds_level_size(DDS_BC3, 3, 5), 1 * 2 * 16);
	CHECK_EQ_INT(dds_level_size(DDS_RGBA8, 3, 5), 60);
	CHECK_EQ_INT(dds_level_size(DDS_BC3, 16384, 16384), 4096ull * 4096 * 16);

	/* 37x19: 37x19, 18x9, 9x4, 4x2, 2x1, 1x1. */
	uint64_t bc1 = 128 + 10 * 5 * 8 + 5 * 3 * 8 + 3 * 1 * 8 + 8 + 8 + 8;
	CHECK_EQ_INT(mip_count(37, 19), 6);
	CHECK_EQ_INT(dds_file_size(DDS_BC1, 37, 19, 6), bc1);
	uint64_t rgba = 128 + 4 * (37 * 19 + 18 * 9 + 9 * 4 + 4 * 2 + 2 * 1 + 1);
	CHECK_EQ_INT(dds_file_size(DDS_RGBA8, 37, 19, 6), rgba);
	CHECK_EQ_INT(dds_file_size(DDS_BC3, 1, 1, 1), 128 + 16);
	/* 1x7: 1x7, 1x3, 1x1. */
	CHECK_EQ_INT(dds_file_size(DDS_RGBA8, 1, 7, 3), 128 + 4 * (7 + 3 + 1));
}

static void test_header_bc1(void)
{
	uint8_t h[DDS_HEADER_SIZE];
	dds_info info;
	char err[128];

	dds_write_header(h, DDS_BC1, 37, 19, 6);
	CHECK(memcmp(h, "DDS ", 4) == 0);
	CHECK_EQ_INT(get32(h + 4), 124);
	/* CAPS|HEIGHT|WIDTH|PIXELFORMAT|MIPMAPCOUNT|LINEARSIZE */
	CHECK_EQ_INT(get32(h + 8), 0x1 | 0x2 | 0x4 | 0x1000 | 0x20000 | 0x80000);
	CHECK_EQ_INT(get32(h + 12), 19);
	CHECK_EQ_INT(get32(h + 16), 37);
	CHECK_EQ_INT(get32(h + 20), 10 * 5 * 8);
	CHECK_EQ_INT(get32(h + 28), 6);
	CHECK_EQ_INT(get32(h + 76), 32);
	CHECK_EQ_INT(get32(h + 80), 0x4);
	CHECK(memcmp(h + 84, "DXT1", 4) == 0);
	CHECK_EQ_INT(get32(h + 108), 0x1000 | 0x8 | 0x400000);
	CHECK_EQ_INT(get32(h + 112), 0);

	CHECK_EQ_INT(dds_parse_header(h, sizeof(h), &info, err, sizeof(err)), 0);
	CHECK_EQ_INT(info.format, DDS_BC1);
	CHECK_EQ_INT(info.width, 37);
	CHECK_EQ_INT(info.height, 19);
	CHECK_EQ_INT(info.mips, 6);
}

static void test_header_bc3_1x1(void)
{
	uint8_t h[DDS_HEADER_SIZE];
	dds_info info;
	char err[128];

	dds_write_header(h, DDS_BC3, 1, 1, 1);
	CHECK(memcmp(h + 84, "DXT5", 4) == 0);
	CHECK_EQ_INT(get32(h + 20), 16);
	CHECK_EQ_INT(get32(h + 28), 1);
	/* One level: a plain texture, no mipmap or complex caps. */
	CHECK_EQ_INT(get32(h + 108), 0x1000);
	CHECK_EQ_INT(dds_parse_header(h, sizeof(h), &info, err, sizeof(err)), 0);
	CHECK_EQ_INT(info.format, DDS_BC3);
	CHECK_EQ_INT(info.mips, 1);
}

static void test_header_rgba8(void)
{
	uint8_t h[DDS_HEADER_SIZE];
	dds_info info;
	char err[128];

	dds_write_header(h, DDS_RGBA8, 3, 5, 3);
	/* CAPS|HEIGHT|WIDTH|PITCH|PIXELFORMAT|MIPMAPCOUNT */
	CHECK_EQ_INT(get32(h + 8), 0x1 | 0x2 | 0x4 | 0x8 | 0x1000 | 0x20000);
	CHECK_EQ_INT(get32(h + 20), 12);
	CHECK_EQ_INT(get32(h + 80), 0x40 | 0x1);
	CHECK_EQ_INT(get32(h + 84), 0);
	CHECK_EQ_INT(get32(h + 88), 32);
	CHECK_EQ_INT(get32(h + 92), 0x00ff0000);
	CHECK_EQ_INT(get32(h + 96), 0x0000ff00);
	CHECK_EQ_INT(get32(h + 100), 0x000000ff);
	CHECK_EQ_INT(get32(h + 104), 0xff000000u);
	CHECK_EQ_INT(dds_parse_header(h, sizeof(h), &info, err, sizeof(err)), 0);
	CHECK_EQ_INT(info.format, DDS_RGBA8);
	CHECK_EQ_INT(info.width, 3);
	CHECK_EQ_INT(info.height, 5);
	CHECK_EQ_INT(info.mips, 3);
	CHECK_EQ_INT(info.pitch, 12);
}

static void test_parse_refusals(void)
{
	uint8_t h[DDS_HEADER_SIZE];
	dds_info info;
	char err[128];

	dds_write_header(h, DDS_BC1, 8, 8, 4);
	CHECK_EQ_INT(dds_parse_header(h, 100, &info, err, sizeof(err)), KILN_E_PROTO);
	h[0] = 'X';
	CHECK_EQ_INT(dds_parse_header(h, sizeof(h), &info, err, sizeof(err)), KILN_E_PROTO);
	CHECK(strstr(err, "magic") != NULL);

	dds_write_header(h, DDS_BC1, 8, 8, 5); /* 8x8 has 4 levels */
	CHECK_EQ_INT(dds_parse_header(h, sizeof(h), &info, err, sizeof(err)), KILN_E_PROTO);

	dds_write_header(h, DDS_BC1, 8, 8, 4);
	memcpy(h + 84, "ATI2", 4);
	CHECK_EQ_INT(dds_parse_header(h, sizeof(h), &info, err, sizeof(err)), KILN_E_PROTO);

	dds_write_header(h, DDS_RGBA8, 8, 8, 4);
	h[92] = 0xff; /* R mask 0x00ff00ff: not BGRA */
	CHECK_EQ_INT(dds_parse_header(h, sizeof(h), &info, err, sizeof(err)), KILN_E_PROTO);
}

int main(void)
{
	test_level_sizes();
	test_header_bc1();
	test_header_bc3_1x1();
	test_header_rgba8();
	test_parse_refusals();
	TEST_DONE();
}
