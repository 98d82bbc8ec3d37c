/* joblog.h: one log file per job run, Cache/logs/jobs/<job id>-<start ms>.log
 * (SPEC section 6).
 *
 * The file is JSON Lines: one object per line,
 *   {"time":"2026-11-21T19:43:58.123Z","level":"info|warning|error",
 *    "source":"kiln|builder|stderr","message":"...","context":{"k":"v"}}
 * so that `kiln job ID` and tools can read it back exactly. A run's log is
 * capped at JOBLOG_MAX_BYTES; past that one line says how much was dropped. */
#ifndef KILN_JOBLOG_H
#define KILN_JOBLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "msg.h"

#define JOBLOG_MAX_BYTES (4u * 1024u * 1024u)
/* Bytes a log reserves on disk when it opens (see joblog_open). */
#define JOBLOG_RESERVE 16384

typedef struct joblog {
	FILE *f;
	char path[4096];
	uint64_t bytes;
	uint64_t dropped;
	int warnings;
	int errors;
	bool reserved; /* JOBLOG_RESERVE bytes were allocated at open */
	char *mem;     /* the lines written, for a second try on a full disk */
	size_t mem_len, mem_cap;
} joblog;

/* Space set aside (at path) for job logs that a full disk would lose; see
 * joblog.c. Called by the engine at start. */
#define JOBLOG_BALLAST (1024 * 1024)
void joblog_set_ballast(const char *path);
/* Gives the ballast's space back (a commit of the database needs it).
 * Returns true when there was one. */
bool joblog_release_ballast(void);

/* Creates dir/<job_id>-<start_ms>.log. Returns 0 or -errno. */
int joblog_open(joblog *jl, const char *dir, int64_t job_id, int64_t start_ms);
/* Appends one line. ctx may be NULL; extra_k/extra_v add one more context
 * pair when not NULL. Counts warnings and errors. */
void joblog_line(joblog *jl, msg_level level, const char *source, const char *message, const msg_kvs *ctx);
void joblog_linef(joblog *jl, msg_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Closes the file (writing the dropped-bytes note if any). */
void joblog_close(joblog *jl);

/* "2026-11-21T19:43:58.123Z" for ms since the epoch. */
void iso8601_ms(int64_t ms, char out[32]);
int64_t wall_ms(void);

#endif
