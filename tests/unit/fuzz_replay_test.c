/* fuzz_replay_test.c: every input under tests/fuzz/regress/<target>/ goes
 * through the same entry point as in the fuzz target, on every test run.
 *
 * The fuzz targets are compiled in here as they are (their entry points
 * renamed), so an input that once crashed, leaked or hung a target, and the
 * hand-made edge cases beside them, keep being checked by ctest without
 * clang or libFuzzer; under the ASan build they are checked the way the
 * fuzzer checked them. The targets abort() on a broken invariant, which
 * fails this test with the input's name printed just before.
 *
 * The folder is found from KILN_TEST_DATA (tests/data, set by
 * tests/CMakeLists.txt): its parent folder + /fuzz/regress; without it, from
 * this source file's path. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define LLVMFuzzerTestOneInput frame_fuzz_one
#include "../fuzz/frame_fuzz.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput config_fuzz_one
#include "../fuzz/config_fuzz.c"
#undef LLVMFuzzerTestOneInput

#include "test.h"

/* Runs every file in dir through one, as libFuzzer runs files named on its
 * command line: the whole file, in a buffer of exactly its size so that
 * ASan sees a read past the end. Returns the count of files run, or -1
 * when the folder cannot be read. */
static int replay(const char *dir, int (*one)(const uint8_t *, size_t))
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	/* Sorted, so a failure names the same file on every run. */
	char **names = NULL;
	size_t nn = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char **t = realloc(names, (nn + 1) * sizeof *names);
		if (!t || !(t[nn] = strdup(e->d_name))) {
			free(t);
			closedir(d);
			return -1;
		}
		names = t;
		nn++;
	}
	closedir(d);
	for (size_t i = 1; i < nn; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *x = names[j];
			names[j] = names[j - 1];
			names[j - 1] = x;
		}
	for (size_t i = 0; i < nn; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		FILE *f = fopen(path, "rb");
		if (!f || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
			if (f)
				fclose(f);
			continue;
		}
		size_t len = (size_t)st.st_size;
		uint8_t *buf = malloc(len ? len : 1);
		if (!buf || fread(buf, 1, len, f) != len) {
			fprintf(stderr, "%s: cannot read\n", path);
			CHECK(0);
			free(buf);
			fclose(f);
			continue;
		}
		fclose(f);
		/* Named first: if the target aborts, this is the input. */
		fprintf(stderr, "replay %s\n", path);
		fflush(stderr);
		CHECK_EQ_INT(one(buf, len), 0);
		free(buf);
		n++;
	}
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	return n;
}

int main(void)
{
	char base[4096];
	const char *data = getenv("KILN_TEST_DATA");
	if (data && *data) {
		/* The parent of tests/data taken from the text: tests/data
		 * itself need not exist, and "data/.." would then not resolve. */
		snprintf(base, sizeof base, "%s", data);
		size_t n = strlen(base);
		while (n > 1 && base[n - 1] == '/')
			base[--n] = '\0';
		char *slash = strrchr(base, '/');
		if (slash && slash != base)
			*slash = '\0';
		else
			snprintf(base, sizeof base, "%s", slash ? "/" : ".");
		strncat(base, "/fuzz/regress", sizeof base - strlen(base) - 1);
	} else {
		/* __FILE__ is tests/unit/fuzz_replay_test.c as the build gave it. */
		snprintf(base, sizeof base, "%s", __FILE__);
		char *slash = strrchr(base, '/');
		if (slash)
			*slash = '\0';
		else
			snprintf(base, sizeof base, ".");
		strncat(base, "/../fuzz/regress", sizeof base - strlen(base) - 1);
	}

	char dir[4200];
	snprintf(dir, sizeof dir, "%s/frame", base);
	int nf = replay(dir, frame_fuzz_one);
	snprintf(dir, sizeof dir, "%s/config", base);
	int nc = replay(dir, config_fuzz_one);
	printf("replayed %d frame and %d config inputs from %s\n", nf, nc, base);
	/* The folders hold hand-made inputs: finding none means the test is
	 * looking in the wrong place, not that all is well. */
	CHECK(nf > 0);
	CHECK(nc > 0);

	/* The replay itself is checked too: an input that breaks an
	 * invariant must get to the target (an empty input is skipped by the
	 * frame target, and a kiln.json that loads must hold its folders). */
	static const uint8_t good[] = "{\"builders\": [{\"exec\": \"kiln-copy\"}]}";
	CHECK_EQ_INT(config_fuzz_one(good, sizeof good - 1), 0);
	CHECK_EQ_INT(frame_fuzz_one(good, 0), 0);
	TEST_DONE();
}
