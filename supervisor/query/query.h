/* query.h: the read-only commands of the kiln command line (SPEC section 4),
 * answered from the job database, and `kiln reprocess` when no supervisor
 * runs.
 *
 * The database is cfg->cache + "/assetdb.sqlite". Read-only commands open it
 * read-only, so they work beside a running supervisor (the database is in
 * WAL mode). A missing database is not an error for a listing: it prints
 * "no database yet at PATH: run kiln batch first" on stderr and lists
 * nothing (an empty JSON array with --json).
 *
 * Commands (each takes --json, which prints exactly one JSON document on
 * stdout; plain text otherwise):
 *   jobs [--filter RE] [--status S,...] [--sort COL]
 *   job ID
 *   assets [--filter RE]          asset PATH|UUID [--depth N|all]
 *   products [--filter RE]        product PATH|ASSET_ID [--platform P] [--depth N|all]
 *   builders [--all]
 *   status
 *   reprocess PATH|UUID...
 *
 * Filters are PCRE2 regexes with kiln's match and depth limits, evaluated
 * inside SQLite through a REGEXP function, and they match ids as well as
 * paths: `jobs` the source's path or uuid (not the job id, which `job ID`
 * finds), `assets` the path or uuid, `products` the product's path, its
 * source's path, the source's uuid or the asset id "{uuid}:subid". Ids
 * are lowercase, as listed; (?i) makes a regex ignore case. A filter of
 * `jobs` that is exactly a status word filters on the status instead. A
 * regex that runs into its limit aborts the listing ("filter: regex hit its
 * match limit", exit 2), as does a listing whose regex calls take more than
 * 1.5 s in all, however many columns each row tries.
 *
 * `asset` and `product` list dependencies out and in (deps.c says how they
 * resolve: a product's on its own platform, as the asset catalog does).
 * --depth N follows them N levels deep as a tree, each entry holding its
 * own under the same key (1, the default, lists the direct ones; 0 or all
 * every level, up to 32); an entry that is its own ancestor is marked
 * "cycle": true instead of followed, and a tree stops at 1000 entries, the
 * document then saying "truncated": true.
 *
 * A source given as PATH may be absolute, relative to the current directory,
 * relative to the project root or relative to its scan folder; a UUID is
 * accepted with or without braces, in any case. A product PATH is relative
 * to Cache/<platform>/, may start with "<platform>/", or may be an absolute
 * path inside the cache; it is matched in lowercase. */
#ifndef KILN_QUERY_H
#define KILN_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"

/* Runs one read-only command: argv[0] is "jobs", "job", "assets", "asset",
 * "products", "product", "builders", "status" or "reprocess"; argv[1..] its
 * own arguments (including --json). Prints to stdout, errors to stderr.
 * Returns the process exit code: 0 success; 1 when the asked-for job or asset
 * failed or does not exist (for `job`, `asset` and `product`: the job, one of
 * the asset's jobs, or the job that made the product has status failed; for
 * `reprocess`: a named source is unknown); 2 usage error (the message says
 * what was wrong), and also a database that cannot be read. */
int query_run(const kiln_config *cfg, int argc, char **argv);

/* The same commands for the control API: instead of printing, the JSON
 * document that --json would print is returned in *out (OUT, a new
 * reference, or NULL), and messages go to err (several are joined by "; ")
 * instead of stderr; nothing is printed, and the informational "no database
 * yet" note is left out (the listing is then empty). --json and the text
 * form do not matter here. Returns the same codes as query_run(): 0 with
 * the document; 1 with the document when the job or asset failed, or with
 * *out NULL and err set when it does not exist (or a named source of
 * reprocess is unknown); 2 with err set. --help is a usage error here.
 * Opens its own read-only connection for each call (reprocess writes). */
int query_json(const kiln_config *cfg, int argc, char **argv, json_t **out, char *err, size_t errsz);

/* True when argv0 names a command query_run() answers. */
int query_is_command(const char *argv0);

/* Formats an asset id, "{" + uuid + "}:" + sub_id in lowercase hex, e.g.
 * "{0b8c5a7e-0000-5000-8000-000000000000}:1a". uuid is the 36-character form
 * (copied in lowercase). A sub id is an unsigned 32-bit number that may have
 * been stored sign-extended; values outside 32 bits are written in full.
 * Returns 0 or KILN_E_TOOBIG when out is too small (52 bytes always do). */
int query_asset_id(const char *uuid, int64_t sub_id, char *out, size_t outsz);

/* Formats ms since the epoch as ISO 8601 UTC with milliseconds,
 * "2026-11-21T19:43:58.123Z". out needs 32 bytes. */
void query_iso_time(int64_t ms, char out[32]);

#endif
