/* main.c: kiln-builder-host --connect URL --id N [--verbose]
 *
 * Started by the supervisor with its cwd set to the host's scratch folder
 * (Cache/tmp/host-N) and stderr pointing at the supervisor's log. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "host.h"
#include "klog.h"

static int usage(void)
{
	fprintf(stderr, "usage: kiln-builder-host --connect URL --id N [--verbose]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *url = NULL;
	const char *id_s = NULL;
	bool verbose = false;
	char who[32];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--connect") == 0 && i + 1 < argc)
			url = argv[++i];
		else if (strcmp(argv[i], "--id") == 0 && i + 1 < argc)
			id_s = argv[++i];
		else if (strcmp(argv[i], "--verbose") == 0)
			verbose = true;
		else
			return usage();
	}
	if (!url || !id_s)
		return usage();
	char *end = NULL;
	errno = 0;
	unsigned long id = strtoul(id_s, &end, 10);
	if (errno || !end || *end || end == id_s || id > UINT32_MAX)
		return usage();

	/* A host must never outlive its supervisor, even one killed with
	 * SIGKILL that had no chance to tell it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);

	snprintf(who, sizeof(who), "host-%lu", id);
	klog_set_name(who);
	/* The supervisor points our stderr at its log file: stderr is the log. */
	klog_set_stderr_level(verbose ? KLOG_DEBUG : KLOG_INFO);
	klog_set_level(verbose ? KLOG_DEBUG : KLOG_INFO);

	host_opts o = {.url = url, .id = (uint32_t)id};
	int rc = host_main(&o);
	klog_close();
	return rc == 0 ? 0 : 1;
}
