/* hash_test.c: XXH3 file and byte hashes, both builds agreeing, and
 * fingerprints. */
#include "hash.h"
#include "kerr.h"
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <threads.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h> /* the system library, as an independent reference */

static uint8_t *data;
static size_t data_len = 3u * 1024 * 1024 + 77;
static char tmpdir[64];

static void fill_data(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	data = malloc(data_len);
	for (size_t i = 0; data && i < data_len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		data[i] = (uint8_t)x;
	}
}

static int write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const uint8_t *b = p;

	if (fd < 0)
		return -errno;
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w <= 0) {
			close(fd);
			return -EIO;
		}
		b += w;
		n -= (size_t)w;
	}
	close(fd);
	return 0;
}

static void test_known_values(void)
{
	char hex[17];

	/* From `xxhsum -H3` on the same bytes. */
	CHECK(hash_bytes("", 0) == 0x2d06800538d394c2ull);
	CHECK(hash_bytes("abc", 3) == 0x78af5f94892f3950ull);
	hash_hex(0x78af5f94892f3950ull, hex);
	CHECK_EQ_STR(hex, "78af5f94892f3950");
	hash_hex(0x1ull, hex);
	CHECK_EQ_STR(hex, "0000000000000001");
	hash_hex(UINT64_MAX, hex);
	CHECK_EQ_STR(hex, "ffffffffffffffff");
}

/* Sizes that cross every XXH3 code path (0-16, 17-128, 129-240, long) and
 * the 256 KiB read buffer. */
static const size_t sizes[] = {0,     1,      3,      4,      8,      9,       16,      17,
                               128,   129,    240,    241,    1023,   1024,    1025,    4096,
                               65536, 262143, 262144, 262145, 524288, 1000003, 2097152, 3145805};

/* Everything here must equal the system libxxhash's XXH3_64bits. */
static void check_against_reference(const char *impl)
{
	char path[128];
	fp_state st;

	CHECK_EQ_INT(hash_force_impl(impl), 0);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i];
		uint64_t ref = XXH3_64bits(data, n), got = 0;
		int fd;

		if (hash_bytes(data, n) != ref) {
			fprintf(stderr, "%s: hash_bytes differs at size %zu\n", impl, n);
			CHECK(0);
		}
		snprintf(path, sizeof path, "%s/f_%zu", tmpdir, n);
		CHECK_EQ_INT(write_file(path, data, n), 0);
		CHECK_EQ_INT(hash_file(path, &got), 0);
		if (got != ref) {
			fprintf(stderr, "%s: hash_file differs at size %zu\n", impl, n);
			CHECK(0);
		}
		/* hash_fd hashes from the current position. */
		fd = open(path, O_RDONLY | O_CLOEXEC);
		CHECK(fd >= 0);
		if (fd >= 0 && n > 5) {
			CHECK(lseek(fd, 5, SEEK_SET) == 5);
			CHECK_EQ_INT(hash_fd(fd, &got), 0);
			CHECK(got == XXH3_64bits(data + 5, n - 5));
		}
		if (fd >= 0)
			close(fd);
		unlink(path);
	}

	/* The streaming state, fed in awkward pieces, gives the one-shot
	 * value (the state ops behind fp_*). */
	{
		const hash_impl *h = strcmp(impl, "avx2") == 0 ? &hash_impl_avx2 : NULL;
		if (h) {
			size_t off = 0, step = 1;
			h->reset(st.opaque);
			while (off < 700000) {
				size_t take = step < 700000 - off ? step : 700000 - off;
				h->update(st.opaque, data + off, take);
				off += take;
				step = step * 3 + 1;
			}
			CHECK(h->digest(st.opaque) == XXH3_64bits(data, 700000));
		}
	}
}

static uint64_t fp_sample(void)
{
	fp_state s;

	fp_init(&s);
	fp_str(&s, "builder");
	fp_u64(&s, 42);
	fp_bytes(&s, data, 100000);
	fp_str(&s, NULL);
	fp_str(&s, "");
	return fp_final(&s);
}

static void test_impls_agree(void)
{
	uint64_t fp_portable, fp_avx2;
	int have_avx2 = hash_force_impl("avx2") == 0;

	check_against_reference("portable");
	fp_portable = fp_sample();
	CHECK(strcmp(hash_impl_name(), "avx2") != 0);
	if (have_avx2) {
		check_against_reference("avx2");
		CHECK_EQ_STR(hash_impl_name(), "avx2");
		fp_avx2 = fp_sample();
		CHECK(fp_avx2 == fp_portable);
	} else {
		fprintf(stderr, "note: no AVX2 on this CPU, only the portable path was tested\n");
	}
	CHECK_EQ_INT(hash_force_impl("nonsense"), KILN_E_NOTFOUND);
	CHECK_EQ_INT(hash_force_impl(NULL), KILN_E_NOTFOUND);
}

static uint64_t fp2(const char *a, const char *b)
{
	fp_state s;

	fp_init(&s);
	fp_str(&s, a);
	fp_str(&s, b);
	return fp_final(&s);
}

static void test_fingerprints(void)
{
	fp_state s;
	uint64_t a, b;

	CHECK(fp2("ab", "c") != fp2("a", "bc"));
	CHECK(fp2("ab", "c") == fp2("ab", "c"));
	CHECK(fp2(NULL, "x") != fp2("", "x"));
	CHECK(fp2("", "") != fp2(NULL, NULL));
	CHECK(fp_sample() == fp_sample());

	/* A string and the same bytes as a blob are different fields. */
	fp_init(&s);
	fp_str(&s, "abcdefgh");
	a = fp_final(&s);
	fp_init(&s);
	fp_bytes(&s, "abcdefgh", 8);
	b = fp_final(&s);
	CHECK(a != b);

	/* A number and its 8 bytes as a blob differ too. */
	fp_init(&s);
	fp_u64(&s, 0x0102030405060708ull);
	a = fp_final(&s);
	fp_init(&s);
	fp_bytes(&s, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
	b = fp_final(&s);
	CHECK(a != b);
	fp_init(&s);
	fp_u64(&s, 1);
	b = fp_final(&s);
	CHECK(a != b);

	/* The encoding is fixed: the value of one field sequence is pinned so
	 * that a change to it (which would reprocess every project) is seen. */
	fp_init(&s);
	fp_u64(&s, 1);
	a = fp_final(&s);
	CHECK(a == XXH3_64bits("U\x01\0\0\0\0\0\0\0", 9));
	fp_init(&s);
	fp_str(&s, "ab");
	a = fp_final(&s);
	CHECK(a == XXH3_64bits("S\x02\0\0\0\0\0\0\0ab", 11));
	fp_init(&s);
	fp_str(&s, NULL);
	a = fp_final(&s);
	CHECK(a == XXH3_64bits("N", 1));
	/* An empty fingerprint is the hash of nothing. */
	fp_init(&s);
	CHECK(fp_final(&s) == hash_bytes("", 0));
}

static void test_errors(void)
{
	uint64_t h = 7;

	CHECK_EQ_INT(hash_file("/nonexistent/kiln/file", &h), -ENOENT);
	CHECK_EQ_INT(hash_file(tmpdir, &h), -EISDIR);
	CHECK_EQ_INT(hash_fd(-1, &h), -EBADF);
	CHECK(h == 7);
}

/* hash_fd_size gives hash_fd's value for files small and large, and says
 * so when the file holds fewer bytes than the size it was given. */
static void test_fd_size(void)
{
	static const size_t sizes[] = {0, 1, 4096, 256 * 1024 - 1, 256 * 1024, 700000};
	char path[600];
	snprintf(path, sizeof path, "%s/sized.bin", tmpdir);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		FILE *f = fopen(path, "wb");
		CHECK(f != NULL);
		if (!f)
			return;
		fwrite(data, 1, sizes[i], f);
		fclose(f);
		uint64_t a = 1, b = 2;
		int fd = open(path, O_RDONLY);
		CHECK_EQ_INT(hash_fd_size(fd, sizes[i], &a), 0);
		close(fd);
		CHECK_EQ_INT(hash_file(path, &b), 0);
		CHECK(a == b);
		CHECK(a == XXH3_64bits(data, sizes[i]));
	}
	int fd = open(path, O_RDONLY);
	uint64_t h = 7;
	CHECK_EQ_INT(hash_fd_size(fd, 100, &h), 0); /* reads the first 100 bytes */
	CHECK(h == XXH3_64bits(data, 100));
	close(fd);
	CHECK(truncate(path, 10) == 0);
	fd = open(path, O_RDONLY);
	CHECK_EQ_INT(hash_fd_size(fd, 20, &h), -EIO);
	close(fd);
}

/* Threads each get their own read buffer; values must not mix. (C11 threads
 * rather than <pthread.h>, which pulls in <sched.h>: the unit tests'
 * include path has supervisor/sched.h, which shadows it.) */
typedef struct job {
	char path[128];
	size_t n;
	long bad;
} job;

static int thread_main(void *arg)
{
	job *j = arg;
	uint64_t got = 0;

	for (int i = 0; i < 20; i++)
		if (hash_file(j->path, &got) != 0 || got != XXH3_64bits(data, j->n))
			j->bad++;
	return 0;
}

static void test_threads(void)
{
	job a = {.n = 300001}, b = {.n = 900007};
	thrd_t t1, t2;

	snprintf(a.path, sizeof a.path, "%s/t1", tmpdir);
	snprintf(b.path, sizeof b.path, "%s/t2", tmpdir);
	CHECK_EQ_INT(write_file(a.path, data, a.n), 0);
	CHECK_EQ_INT(write_file(b.path, data, b.n), 0);
	CHECK_EQ_INT(thrd_create(&t1, thread_main, &a), thrd_success);
	CHECK_EQ_INT(thrd_create(&t2, thread_main, &b), thrd_success);
	thrd_join(t1, NULL);
	thrd_join(t2, NULL);
	CHECK_EQ_INT(a.bad, 0);
	CHECK_EQ_INT(b.bad, 0);
	unlink(a.path);
	unlink(b.path);
}

int main(void)
{
	char tmpl[] = "/tmp/kiln_hash_test.XXXXXX";

	fill_data();
	CHECK(data != NULL);
	if (!data || !mkdtemp(tmpl)) {
		CHECK(0);
		TEST_DONE();
	}
	snprintf(tmpdir, sizeof tmpdir, "%s", tmpl);

	/* The default choice follows the CPU. */
	printf("hash path in use: %s\n", hash_impl_name());
	CHECK(strcmp(hash_impl_name(), "avx2") == 0 || strcmp(hash_impl_name(), "sse2") == 0 ||
	      strcmp(hash_impl_name(), "scalar") == 0 || strcmp(hash_impl_name(), "neon") == 0);
#if defined(__x86_64__)
	if (__builtin_cpu_supports("avx2"))
		CHECK_EQ_STR(hash_impl_name(), "avx2");
#endif

	test_known_values();
	test_impls_agree();
	test_fd_size();
	test_fingerprints();
	test_errors();
	test_threads();

	rmdir(tmpdir);
	free(data);
	TEST_DONE();
}
