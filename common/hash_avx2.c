/* hash_avx2.c: the AVX2 build of XXH3.
 *
 * The root CMakeLists compiles this file alone with -mavx2, and only on
 * x86-64 (elsewhere common/hash.c defines an empty table), so every function
 * here may execute AVX2 instructions; common/hash.c calls them only after
 * __builtin_cpu_supports("avx2") said yes. xxHash is included header-only
 * (XXH_INLINE_ALL) because Debian's libxxhash is built for SSE2 only; the
 * inlined names are private to this translation unit and clash with nothing. */
#include "hash.h"

#include <assert.h>
#include <stdalign.h>

#define XXH_INLINE_ALL
#define XXH_VECTOR XXH_AVX2
#include <xxhash.h>

static_assert(sizeof(XXH3_state_t) <= sizeof(((fp_state *)0)->opaque), "fp_state too small for XXH3_state_t");
static_assert(alignof(XXH3_state_t) <= 64, "fp_state under-aligned for XXH3_state_t");

static uint64_t avx2_bytes(const void *data, size_t len)
{
	return XXH3_64bits(data, len);
}

static void avx2_reset(void *state)
{
	XXH3_64bits_reset((XXH3_state_t *)state);
}

static void avx2_update(void *state, const void *data, size_t len)
{
	XXH3_64bits_update((XXH3_state_t *)state, data, len);
}

static uint64_t avx2_digest(const void *state)
{
	return XXH3_64bits_digest((const XXH3_state_t *)state);
}

const hash_impl hash_impl_avx2 = {
    .name = "avx2",
    .bytes = avx2_bytes,
    .reset = avx2_reset,
    .update = avx2_update,
    .digest = avx2_digest,
};

