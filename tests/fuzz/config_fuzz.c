/* config_fuzz.c: libFuzzer target for kiln.json parsing and checking.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE
 *        -Icommon -Isupervisor tests/fuzz/config_fuzz.c supervisor/config/config.c
 *        supervisor/config/schema.c supervisor/config/sections.c
 *        supervisor/config/addr.c supervisor/config/project.c supervisor/config/init.c
 *        common/jsonpos.c common/arena.c common/kerr.c common/path.c
 *        common/pattern.c $(pkg-config --libs libpcre2-8)
 *
 * The project root is made once per process: Assets/ and Shared/ to scan,
 * and bin/kiln-copy plus tools/b.sh as executables, so that inputs reach
 * the checks behind folders and builders and not only the parser. Every
 * input must end in a config or an error message, never a crash or a leak,
 * and a configuration error must name a line and column of the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "kerr.h"
#include "path.h"

static char root[64];
static char selfdir[128];

static void put_exec(const char *rel)
{
	char p[256];
	FILE *f;
	snprintf(p, sizeof p, "%s/%s", root, rel);
	path_mkdirs_for(p, 0755);
	f = fopen(p, "w");
	if (f) {
		fputs("#!/bin/sh\nexit 0\n", f);
		fclose(f);
	}
	chmod(p, 0755);
}

static void cleanup(void)
{
	path_rmtree(root);
}

static void setup(void)
{
	char p[256];
	snprintf(root, sizeof root, "/tmp/kiln-config-fuzz-XXXXXX");
	if (!mkdtemp(root))
		abort();
	snprintf(selfdir, sizeof selfdir, "%s/bin", root);
	snprintf(p, sizeof p, "%s/Assets", root);
	path_mkdirs(p, 0755);
	snprintf(p, sizeof p, "%s/Shared/Assets", root);
	path_mkdirs(p, 0755);
	put_exec("bin/kiln-copy");
	put_exec("tools/b.sh");
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	kiln_config *c = NULL;
	char err[512];
	int rc;

	if (!ready) {
		setup();
		ready = 1;
	}
	rc = config_parse((const char *)data, size, "kiln.json", root, selfdir, &c, err, sizeof err);
	if (rc == 0) {
		/* A config that loaded holds what the header promises. */
		if (!c || !c->platforms || c->n_platforms == 0 || c->n_folders == 0 || !c->cache || !c->http)
			abort();
		for (size_t i = 0; i < c->n_folders; i++)
			if (c->folders[i].abs[0] != '/')
				abort();
		for (size_t i = 1; i < c->n_folders; i++)
			if (c->folders[i - 1].order > c->folders[i].order)
				abort();
		config_free(c);
	} else {
		/* Every error names the file first. */
		if (c || strncmp(err, "kiln.json", 9) != 0)
			abort();
		/* A configuration error also names a line and column that
		 * exist in the input, and says something after them. */
		if (rc == KILN_E_CONFIG) {
			int line = 0, col = 0, end = 0;
			size_t lines = 1;
			for (size_t i = 0; i < size; i++)
				lines += data[i] == '\n';
			if (sscanf(err, "kiln.json:%d:%d: %n", &line, &col, &end) != 2 || end == 0 ||
			    err[end] == '\0' || line < 1 || col < 1 || (size_t)line > lines) {
				fprintf(stderr, "config error without a usable position: %s\n", err);
				abort();
			}
		}
	}
	return 0;
}
