/* frame_test: the length-prefixed framing, blocking and incremental, and
 * kiln_strerror. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "frame.h"
#include "kerr.h"
#include "test.h"

static int memfd(void)
{
	return memfd_create("frame_test", MFD_CLOEXEC);
}

static void test_put_len(void)
{
	uint8_t b[4];
	frame_put_len(b, 0x01020304u);
	CHECK(b[0] == 1 && b[1] == 2 && b[2] == 3 && b[3] == 4);
	frame_put_len(b, 0xffffffffu);
	CHECK(b[0] == 0xff && b[3] == 0xff);
}

static void test_fd_roundtrip(void)
{
	int fd = memfd();
	CHECK(fd >= 0);
	size_t big = 300 * 1024;
	uint8_t *payload = malloc(big);
	for (size_t i = 0; i < big; i++)
		payload[i] = (uint8_t)(i * 7);
	CHECK_EQ_INT(frame_write_fd(fd, "hello", 5), 0);
	CHECK_EQ_INT(frame_write_fd(fd, NULL, 0), 0);
	CHECK_EQ_INT(frame_write_fd(fd, payload, big), 0);
	CHECK_EQ_INT(lseek(fd, 0, SEEK_END), 4 + 5 + 4 + 4 + (long long)big);
	lseek(fd, 0, SEEK_SET);

	uint8_t *buf = NULL;
	size_t len = 0;
	CHECK_EQ_INT(frame_read_fd(fd, &buf, &len), 0);
	CHECK_EQ_INT(len, 5);
	CHECK(buf && memcmp(buf, "hello", 5) == 0);
	free(buf);
	CHECK_EQ_INT(frame_read_fd(fd, &buf, &len), 0);
	CHECK_EQ_INT(len, 0);
	CHECK(buf != NULL);
	free(buf);
	CHECK_EQ_INT(frame_read_fd(fd, &buf, &len), 0);
	CHECK_EQ_INT(len, big);
	CHECK(buf && memcmp(buf, payload, big) == 0);
	free(buf);
	CHECK_EQ_INT(frame_read_fd(fd, &buf, &len), KILN_E_EOF);
	CHECK(buf == NULL);
	close(fd);
	free(payload);
}

static void test_fd_errors(void)
{
	uint8_t *buf = (uint8_t *)1;
	size_t len = 99;
	int fd;

	/* A header cut short. */
	fd = memfd();
	CHECK_EQ_INT(write(fd, "\0\0", 2), 2);
	lseek(fd, 0, SEEK_SET);
	CHECK_EQ_INT(frame_read_fd(fd, &buf, &len), KILN_E_TRUNC);
	CHECK(buf == NULL);
	close(fd);

	/* A payload cut short. */
	fd = memfd();
	CHECK_EQ_INT(write(fd,
	                   "\0\0\0\x0a"
	                   "abc",
	                   7),
	             7);
	lseek(fd, 0, SEEK_SET);
	CHECK_EQ_INT(frame_read_fd(fd, &buf, &len), KILN_E_TRUNC);
	CHECK(buf == NULL);
	close(fd);

	/* 4 GiB announced: refused from the header alone. */
	fd = memfd();
	CHECK_EQ_INT(write(fd, "\xff\xff\xff\xff", 4), 4);
	lseek(fd, 0, SEEK_SET);
	CHECK_EQ_INT(frame_read_fd(fd, &buf, &len), KILN_E_TOOBIG);
	close(fd);

	/* One byte over the limit. */
	uint8_t hdr[4];
	frame_put_len(hdr, FRAME_MAX + 1);
	fd = memfd();
	CHECK_EQ_INT(write(fd, hdr, 4), 4);
	lseek(fd, 0, SEEK_SET);
	CHECK_EQ_INT(frame_read_fd(fd, &buf, &len), KILN_E_TOOBIG);
	close(fd);

	/* Writing more than the limit is refused before touching payload. */
	CHECK_EQ_INT(frame_write_fd(1, (const void *)8, (size_t)FRAME_MAX + 1), KILN_E_TOOBIG);

	/* A bad descriptor. */
	CHECK_EQ_INT(frame_read_fd(-1, &buf, &len), -EBADF);
	CHECK_EQ_INT(frame_write_fd(-1, "x", 1), -EBADF);

	/* A reader that went away: EPIPE, not a signal. */
	int p[2];
	CHECK_EQ_INT(pipe(p), 0);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	CHECK_EQ_INT(frame_write_fd(p[1], "x", 1), -EPIPE);
	close(p[1]);
}

/* Builds a stream of frames: "a", "", 200 KiB of pattern, "xyz". */
static uint8_t *make_stream(size_t *n, size_t bigsz)
{
	size_t total = 4 + 1 + 4 + 4 + bigsz + 4 + 3;
	uint8_t *s = malloc(total), *p = s;
	frame_put_len(p, 1);
	p[4] = 'a';
	p += 5;
	frame_put_len(p, 0);
	p += 4;
	frame_put_len(p, (uint32_t)bigsz);
	p += 4;
	for (size_t i = 0; i < bigsz; i++)
		p[i] = (uint8_t)(i % 251);
	p += bigsz;
	frame_put_len(p, 3);
	memcpy(p + 4, "xyz", 3);
	*n = total;
	return s;
}

/* Feeds the stream in chunks of `chunk` bytes and checks the four frames. */
static void feed_stream(size_t chunk)
{
	size_t bigsz = 200 * 1024, n;
	uint8_t *s = make_stream(&n, bigsz);
	frame_reader r;
	frame_reader_init(&r);
	size_t pos = 0, got = 0;
	int ok = 1;
	while (pos < n) {
		size_t avail = n - pos < chunk ? n - pos : chunk;
		size_t used = 0;
		uint8_t *f = NULL;
		size_t flen = 0;
		int rc = frame_reader_feed(&r, s + pos, avail, &used, &f, &flen);
		if (rc != 0 || used > avail) {
			ok = 0;
			break;
		}
		pos += used;
		if (f) {
			switch (got) {
			case 0:
				ok &= flen == 1 && f[0] == 'a';
				break;
			case 1:
				ok &= flen == 0;
				break;
			case 2:
				ok &= flen == bigsz && f[1000] == (uint8_t)(1000 % 251) &&
				      f[bigsz - 1] == (uint8_t)((bigsz - 1) % 251);
				break;
			case 3:
				ok &= flen == 3 && memcmp(f, "xyz", 3) == 0;
				break;
			default:
				ok = 0;
			}
			got++;
			free(f);
		} else if (used == 0) {
			ok = 0; /* no progress and no frame */
			break;
		}
	}
	CHECK(ok);
	CHECK_EQ_INT(got, 4);
	CHECK(!frame_reader_partial(&r));
	frame_reader_free(&r);
	free(s);
}

static void test_reader(void)
{
	feed_stream(1);
	feed_stream(3);
	feed_stream(4096);
	feed_stream(1 << 20);

	/* Partial state is reported, and freeing a partial reader is clean. */
	frame_reader r;
	frame_reader_init(&r);
	CHECK(!frame_reader_partial(&r));
	size_t used;
	uint8_t *f;
	size_t flen;
	CHECK_EQ_INT(frame_reader_feed(&r, (const uint8_t *)"\0\0", 2, &used, &f, &flen), 0);
	CHECK_EQ_INT(used, 2);
	CHECK(f == NULL);
	CHECK(frame_reader_partial(&r));
	CHECK_EQ_INT(frame_reader_feed(&r,
	                               (const uint8_t *)"\0\x05"
	                                                "ab",
	                               4, &used, &f, &flen),
	             0);
	CHECK_EQ_INT(used, 4);
	CHECK(f == NULL);
	CHECK(frame_reader_partial(&r));
	frame_reader_free(&r);
	CHECK(!frame_reader_partial(&r));

	/* Stops after one frame: the rest is left for the next call. */
	frame_reader_init(&r);
	const uint8_t two[] = {0, 0, 0, 1, 'p', 0, 0, 0, 1, 'q'};
	CHECK_EQ_INT(frame_reader_feed(&r, two, sizeof(two), &used, &f, &flen), 0);
	CHECK_EQ_INT(used, 5);
	CHECK(f && flen == 1 && f[0] == 'p');
	free(f);
	CHECK_EQ_INT(frame_reader_feed(&r, two + used, sizeof(two) - used, &used, &f, &flen), 0);
	CHECK_EQ_INT(used, 5);
	CHECK(f && flen == 1 && f[0] == 'q');
	free(f);
	frame_reader_free(&r);

	/* Over-long lengths fail from the header, and stay failed. */
	frame_reader_init(&r);
	const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 'z'};
	CHECK_EQ_INT(frame_reader_feed(&r, huge, sizeof(huge), &used, &f, &flen), KILN_E_TOOBIG);
	CHECK(f == NULL);
	CHECK(r.buf == NULL);
	CHECK_EQ_INT(frame_reader_feed(&r, two, sizeof(two), &used, &f, &flen), KILN_E_TOOBIG);
	CHECK_EQ_INT(used, 0);
	frame_reader_free(&r);

	/* Exactly FRAME_MAX is allowed, and a short prefix of it does not
	 * allocate the whole 64 MiB. */
	frame_reader_init(&r);
	uint8_t hdr[4];
	frame_put_len(hdr, FRAME_MAX);
	CHECK_EQ_INT(frame_reader_feed(&r, hdr, 4, &used, &f, &flen), 0);
	CHECK_EQ_INT(frame_reader_feed(&r, (const uint8_t *)"abc", 3, &used, &f, &flen), 0);
	CHECK_EQ_INT(used, 3);
	CHECK_EQ_INT(r.len, FRAME_MAX);
	CHECK(frame_reader_partial(&r));
	CHECK(malloc_usable_size(r.buf) < 1024 * 1024);
	frame_reader_free(&r);
}

static void test_strerror(void)
{
	CHECK_EQ_STR(kiln_strerror(0), "success");
	CHECK_EQ_STR(kiln_strerror(KILN_E_PROTO), "protocol error");
	CHECK_EQ_STR(kiln_strerror(KILN_E_TOOBIG), "over the size limit");
	CHECK_EQ_STR(kiln_strerror(-ENOENT), "No such file or directory");
	CHECK_EQ_STR(kiln_strerror(-EPIPE), "Broken pipe");
	CHECK_EQ_STR(kiln_strerror(5), "unknown error");
	CHECK_EQ_STR(kiln_strerror(-9000), "unknown error");
	int codes[] = {KILN_E_PROTO, KILN_E_TOOBIG, KILN_E_EOF, KILN_E_TRUNC,    KILN_E_CONFIG, KILN_E_PATH,
	               KILN_E_REGEX, KILN_E_LIMIT,  KILN_E_DB,  KILN_E_NOTFOUND, KILN_E_STATE};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		CHECK(strcmp(kiln_strerror(codes[i]), "unknown error") != 0);
}

int main(void)
{
	test_put_len();
	test_fd_roundtrip();
	test_fd_errors();
	test_reader();
	test_strerror();
	TEST_DONE();
}
