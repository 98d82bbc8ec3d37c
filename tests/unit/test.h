/* test.h: the smallest test harness that does the job.
 *
 * CHECK(cond) records a failure with file and line and goes on; main() ends
 * with TEST_DONE(), which prints "N passed, N failed" and returns non-zero
 * when anything failed. */
#ifndef KILN_TEST_H
#define KILN_TEST_H

#include <stdio.h>
#include <string.h>

static int test_passed_, test_failed_;

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (cond) {                                                                \
			test_passed_++;                                                    \
		} else {                                                                   \
			test_failed_++;                                                    \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                          \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                             \
	do {                                                                                           \
		long long a_ = (long long)(a), b_ = (long long)(b);                                    \
		if (a_ == b_) {                                                                        \
			test_passed_++;                                                                \
		} else {                                                                               \
			test_failed_++;                                                                \
			fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, \
				#b, a_, b_);                                                           \
		}                                                                                      \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                                            \
	do {                                                                                          \
		const char *a_ = (a), *b_ = (b);                                                      \
		if (a_ && b_ && strcmp(a_, b_) == 0) {                                                \
			test_passed_++;                                                               \
		} else {                                                                              \
			test_failed_++;                                                               \
			fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
				#a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                      \
		}                                                                                     \
	} while (0)

#define TEST_DONE()                                                                   \
	do {                                                                          \
		printf("%d passed, %d failed\n", test_passed_, test_failed_);        \
		return test_failed_ ? 1 : 0;                                          \
	} while (0)

#endif
