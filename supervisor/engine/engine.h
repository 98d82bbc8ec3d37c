/* engine.h: one pass of the pipeline (SPEC section 3): describe builders,
 * scan, reconcile with the database, analyse (create_jobs), pick the jobs
 * that must run, run them on the host pool, and land their products.
 * `kiln batch` is one call of engine_batch(). */
#ifndef KILN_ENGINE_H
#define KILN_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

typedef struct engine_opts {
	const char *const *platforms; /* NULL-terminated filter; NULL = every platform */
	int hosts;                    /* overrides cfg->hosts when > 0 */
	bool hash;                    /* hash every file (scan "hash") */
	bool progress;                /* a progress line on stderr */
	const char *self_dir;         /* folder of the kiln binary */
} engine_opts;

typedef struct engine_stats {
	size_t jobs;        /* jobs run in this pass */
	size_t completed;   /* completed without warnings or errors */
	size_t warnings;    /* completed_warning */
	size_t errors;      /* completed_error */
	size_t failed;
	size_t products;    /* products written in this pass */
	size_t builder_failures; /* builders that could not be described */
	double seconds;
	size_t sources, scanned, hashed, analysed, deleted;
	char db_error[768];   /* set when the database failed during the pass */
	char **failed_lines;  /* one line per failed job; engine_stats_free() */
	size_t n_failed_lines;
} engine_stats;

void engine_stats_free(engine_stats *st);

/* kiln run: processes, then watches the scan folders and serves the control
 * API until SIGINT or SIGTERM (a second signal stops at once). Returns 0 after
 * a clean stop, or an error with err set. */
int engine_live(const kiln_config *cfg, const engine_opts *o, char *err, size_t errsz);

/* Runs a batch. Prints failed jobs on stderr. Returns 0 when the pass ran
 * (see stats for failures), KILN_E_STATE when another kiln holds the cache,
 * or another negative code for a fault that stopped the pass (logged and
 * written to err). */
int engine_batch(const kiln_config *cfg, const engine_opts *o, engine_stats *st, char *err, size_t errsz);

#endif
