/* hash.c: XXH3 content hashes and fingerprints.
 *
 * Two builds of XXH3 sit behind one table (hash_impl): the portable one here
 * (SSE2 on x86-64, whatever xxHash picks elsewhere) and the AVX2 one in
 * hash_avx2.c (built on x86-64 only, where KILN_HASH_AVX2 is defined). The table is chosen at first use from
 * the CPU's features; both produce the same values, so the choice never shows in a hash. */
#include "hash.h"
#include "kerr.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static_assert(sizeof(XXH3_state_t) <= sizeof(((fp_state *)0)->opaque), "fp_state too small for XXH3_state_t");
static_assert(alignof(XXH3_state_t) <= 64, "fp_state under-aligned for XXH3_state_t");

/* Files are read in blocks of this size into a page-aligned buffer: large
 * enough that the per-read cost vanishes, small enough to stay in L2. */
#define HASH_BUF_SIZE (256u * 1024u)

#if XXH_VECTOR == XXH_SSE2
#define PORTABLE_NAME "sse2"
#elif XXH_VECTOR == XXH_AVX2
#define PORTABLE_NAME "avx2"
#elif XXH_VECTOR == XXH_AVX512
#define PORTABLE_NAME "avx512"
#elif XXH_VECTOR == XXH_NEON
#define PORTABLE_NAME "neon"
#elif XXH_VECTOR == XXH_VSX
#define PORTABLE_NAME "vsx"
#else
#define PORTABLE_NAME "scalar"
#endif

static uint64_t portable_bytes(const void *data, size_t len)
{
	return XXH3_64bits(data, len);
}

static void portable_reset(void *state)
{
	XXH3_64bits_reset((XXH3_state_t *)state);
}

static void portable_update(void *state, const void *data, size_t len)
{
	XXH3_64bits_update((XXH3_state_t *)state, data, len);
}

static uint64_t portable_digest(const void *state)
{
	return XXH3_64bits_digest((const XXH3_state_t *)state);
}

static const hash_impl hash_impl_portable = {
    .name = PORTABLE_NAME,
    .bytes = portable_bytes,
    .reset = portable_reset,
    .update = portable_update,
    .digest = portable_digest,
};

/* The table in use. Two threads racing at first use both store the same
 * pointer, so a relaxed compare is all the synchronisation it needs; the
 * tables themselves are constant. */
static _Atomic(const hash_impl *) hash_current;

#ifdef KILN_HASH_AVX2
static int cpu_has_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") != 0;
}
#else
/* Built without the AVX2 path (not x86-64, or a compiler without -mavx2):
 * the table is empty and never chosen. */
const hash_impl hash_impl_avx2 = {0};

static int cpu_has_avx2(void)
{
	return 0;
}
#endif

static const hash_impl *impl(void)
{
	const hash_impl *h = atomic_load_explicit(&hash_current, memory_order_acquire);
	if (h)
		return h;
	h = cpu_has_avx2() && hash_impl_avx2.name ? &hash_impl_avx2 : &hash_impl_portable;
	atomic_store_explicit(&hash_current, h, memory_order_release);
	return h;
}

int hash_force_impl(const char *name)
{
	const hash_impl *h = NULL;

	if (!name)
		return KILN_E_NOTFOUND;
	if (strcmp(name, "portable") == 0 || strcmp(name, PORTABLE_NAME) == 0)
		h = &hash_impl_portable;
	else if (strcmp(name, "avx2") == 0 && cpu_has_avx2() && hash_impl_avx2.name)
		h = &hash_impl_avx2;
	if (!h)
		return KILN_E_NOTFOUND;
	atomic_store_explicit(&hash_current, h, memory_order_release);
	return 0;
}

const char *hash_impl_name(void)
{
	return impl()->name;
}

/* ---- the per-thread read buffer ----
 *
 * A 256 KiB allocation per file would go through mmap every time, which shows
 * on trees of 100,000 small files, so each thread keeps one buffer. The key's
 * destructor frees it when the thread ends; the thread-local pointer is the
 * fast path. */

static pthread_once_t buf_once = PTHREAD_ONCE_INIT;
static pthread_key_t buf_key;
static int buf_key_ok;
static _Thread_local void *buf_tls;

static void buf_free(void *p)
{
	free(p);
}

static void buf_key_init(void)
{
	buf_key_ok = pthread_key_create(&buf_key, buf_free) == 0;
}

static void *read_buffer(void)
{
	void *p = NULL;

	if (buf_tls)
		return buf_tls;
	pthread_once(&buf_once, buf_key_init);
	if (!buf_key_ok)
		return NULL;
	if (posix_memalign(&p, (size_t)sysconf(_SC_PAGESIZE), HASH_BUF_SIZE) != 0)
		return NULL;
	if (pthread_setspecific(buf_key, p) != 0) {
		free(p);
		return NULL;
	}
	buf_tls = p;
	return p;
}

/* Reads until buf is full or the file ends. Returns the byte count or -errno. */
static ssize_t read_full(int fd, uint8_t *buf, size_t cap)
{
	size_t got = 0;

	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int hash_fd(int fd, uint64_t *out)
{
	const hash_impl *h = impl();
	uint8_t *buf = read_buffer();
	fp_state st;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	/* Only a hint: a pipe or a file system without it still hashes. */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

	n = read_full(fd, buf, HASH_BUF_SIZE);
	if (n < 0)
		return (int)n;
	if ((size_t)n < HASH_BUF_SIZE) {
		/* The whole file fit: the one-shot hash skips the streaming
		 * state, and gives the same value. */
		*out = h->bytes(buf, (size_t)n);
		return 0;
	}
	h->reset(st.opaque);
	while (n > 0) {
		h->update(st.opaque, buf, (size_t)n);
		if ((size_t)n < HASH_BUF_SIZE)
			break;
		n = read_full(fd, buf, HASH_BUF_SIZE);
		if (n < 0)
			return (int)n;
	}
	*out = h->digest(st.opaque);
	return 0;
}

int hash_fd_size(int fd, uint64_t size, uint64_t *out)
{
	if (size >= HASH_BUF_SIZE)
		return hash_fd(fd, out);
	uint8_t *buf = read_buffer();
	if (!buf)
		return -ENOMEM;
	ssize_t n = read_full(fd, buf, (size_t)size);
	if (n < 0)
		return (int)n;
	if ((uint64_t)n != size)
		return -EIO; /* the file shrank under us */
	*out = impl()->bytes(buf, (size_t)n);
	return 0;
}

int hash_file(const char *path, uint64_t *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int rc;

	if (fd < 0)
		return -errno;
	rc = hash_fd(fd, out);
	close(fd);
	return rc;
}

uint64_t hash_bytes(const void *data, size_t len)
{
	return impl()->bytes(data, len);
}

void hash_hex(uint64_t h, char out[17])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 15; i >= 0; i--) {
		out[i] = digits[h & 0xf];
		h >>= 4;
	}
	out[16] = '\0';
}

/* ---- fingerprints ----
 *
 * Every field is a one-byte type tag, then (for variable-length fields) its
 * length as 8 little-endian bytes, then its bytes. The tags keep a string from
 * colliding with a number of the same bytes, and the lengths keep ("ab","c")
 * apart from ("a","bc"). The encoding is fixed little-endian so that a
 * fingerprint is the same on every machine. The table is looked up per call
 * (not stored in the state) so that the state stays a plain XXH3 state. */

enum { FP_TAG_NULL = 'N', FP_TAG_STR = 'S', FP_TAG_U64 = 'U', FP_TAG_BYTES = 'B' };

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void fp_field(fp_state *s, uint8_t tag, const void *p, size_t n)
{
	const hash_impl *h = impl();
	uint8_t head[9];

	head[0] = tag;
	put_le64(head + 1, (uint64_t)n);
	h->update(s->opaque, head, sizeof head);
	if (n)
		h->update(s->opaque, p, n);
}

void fp_init(fp_state *s)
{
	impl()->reset(s->opaque);
}

void fp_str(fp_state *s, const char *str)
{
	if (!str) {
		uint8_t tag = FP_TAG_NULL;
		impl()->update(s->opaque, &tag, 1);
		return;
	}
	fp_field(s, FP_TAG_STR, str, strlen(str));
}

void fp_u64(fp_state *s, uint64_t v)
{
	uint8_t b[9];

	b[0] = FP_TAG_U64;
	put_le64(b + 1, v);
	impl()->update(s->opaque, b, sizeof b);
}

void fp_bytes(fp_state *s, const void *p, size_t n)
{
	fp_field(s, FP_TAG_BYTES, p, n);
}

uint64_t fp_final(fp_state *s)
{
	return impl()->digest(s->opaque);
}
