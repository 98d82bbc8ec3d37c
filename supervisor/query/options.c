/* options.c: the command line of one command (options, --json, --help and
 * positional arguments) and the status words. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "query/query_priv.h"

int q_parse_args(qctx *q, int argc, char **argv, const qopt *opts, const char **pos, int max_pos, int *n_pos,
                 const char *usage)
{
	bool only_pos = false;
	*n_pos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (*n_pos >= max_pos) {
				q_err(q, "unexpected argument '%s'\nusage: kiln %s", q_arg(a), usage);
				return Q_USAGE;
			}
			pos[(*n_pos)++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (strcmp(a, "--json") == 0) {
			q->json = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			if (q->capture) {
				q_err(q, "usage: kiln %s", usage);
				return Q_USAGE;
			}
			printf("usage: kiln %s\n", usage);
			return -1;
		}
		const qopt *o = NULL;
		const char *eq = strchr(a, '=');
		size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
		for (const qopt *p = opts; p && p->name; p++) {
			if (strlen(p->name) == nlen && strncmp(p->name, a, nlen) == 0) {
				o = p;
				break;
			}
		}
		if (!o) {
			q_err(q, "unknown option '%.*s'\nusage: kiln %s", (int)nlen, a, usage);
			return Q_USAGE;
		}
		if (!o->has_arg) {
			if (eq) {
				q_err(q, "option %s takes no value", o->name);
				return Q_USAGE;
			}
			*o->flag = true;
			continue;
		}
		if (eq) {
			*o->val = eq + 1;
		} else if (i + 1 < argc) {
			*o->val = argv[++i];
		} else {
			q_err(q, "option %s needs a value\nusage: kiln %s", o->name, usage);
			return Q_USAGE;
		}
	}
	return 0;
}

int q_parse_one(qctx *q, int argc, char **argv, const qopt *opts, const char *what, const char *usage,
                const char **arg)
{
	const char *pos[1];
	int n_pos, rc = q_parse_args(q, argc, argv, opts, pos, 1, &n_pos, usage);
	if (rc != 0)
		return rc;
	if (n_pos != 1) {
		q_err(q, "which %s? usage: kiln %s", what, usage);
		return Q_USAGE;
	}
	*arg = pos[0];
	return 0;
}

int q_status_index(const char *s)
{
	for (int i = 0; i < 6; i++)
		if (strcmp(s, db_statuses[i]) == 0)
			return i;
	return -1;
}

bool q_is_failed(const char *status)
{
	return status && strcmp(status, "failed") == 0;
}
