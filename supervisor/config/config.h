/* config.h: kiln.json (SPEC section 2).
 *
 * The loader reports every error as "FILE:LINE:COL: message" and treats
 * unknown keys, wrong types, out-of-range numbers, duplicate keys, patterns
 * and regexes that do not compile as errors. A builder whose executable
 * cannot be used is not: it carries the problem (cfg_builder.problem) and
 * is disabled for the run (SPEC 7). Paths in the result are absolute and
 * normalised.
 *
 * Ownership: everything a kiln_config points to belongs to it and is freed
 * by config_free() at once (it all lives in one arena). Callers may change
 * scalar fields (hosts, scan_hash, ...) but must not free or replace the
 * pointers. Lists are never NULL (an empty list is a lone NULL terminator),
 * except cfg_scan_folder.platforms (NULL = every platform) and metadata
 * (NULL when n_metadata is 0). */
#ifndef KILN_CONFIG_H
#define KILN_CONFIG_H

/* The most products a job may be allowed (max_products_per_job). */
#define CFG_MAX_PRODUCTS_LIMIT 200000

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cfg_scan_folder {
	char *path;       /* as written */
	char *abs;        /* absolute, normalised */
	bool recursive;   /* default true */
	int order;        /* default 0 */
	char **platforms; /* NULL-terminated; NULL means every project platform */
	size_t n_platforms;
} cfg_scan_folder;

typedef struct cfg_builder {
	char *exec;     /* as written */
	char *exec_abs; /* resolved: beside the kiln binary when exec has no '/',
	                   else relative to the project root */
	bool internal;  /* shipped with kiln (exec without '/') */
	char **args;    /* NULL-terminated */
	size_t n_args;
	char **patterns; /* NULL-terminated; only meaningful when has_patterns */
	size_t n_patterns;
	bool has_patterns;  /* kiln.json replaces the builder's own patterns */
	uint32_t timeout_s; /* default 600 */
	uint32_t memory_mb; /* default 4096 */
	bool persistent;    /* default true */
	/* Why the executable cannot be used (missing, not a file, not
	 * executable), as "kiln.json:LINE:COL: ..."; NULL when it can. Such a
	 * builder is disabled for the run, not an error of the file (SPEC 7). */
	char *problem;
} cfg_builder;

/* metadata: {"assetinfo": ["fbx", "gltf"]}: X.fbx.assetinfo is a sidecar of X.fbx. */
typedef struct cfg_metadata {
	char *ext;          /* sidecar extension without dot, lowercase, e.g. "assetinfo" */
	char **source_exts; /* NULL-terminated, lowercase, without dot */
	size_t n_source_exts;
} cfg_metadata;

/* One entry of control.allow: an address, or a network in CIDR form. */
typedef struct cfg_cidr {
	int family;       /* 4 or 6 */
	uint8_t addr[16]; /* network byte order; IPv4 uses the first 4 bytes */
	int prefix;       /* bits that must match: 0..32 or 0..128 */
} cfg_cidr;

/* control: {"tcp": "HOST:PORT", "allow": [...], "token": "..."}, the control
 * API's TCP listener (SPEC section 8). Off unless tcp is set. */
typedef struct cfg_control {
	char *tcp;            /* "HOST:PORT", or NULL when TCP is off (also for "") */
	char **allow;         /* NULL-terminated, as written; default {"127.0.0.1", "::1"} */
	cfg_cidr *allow_nets; /* parsed, n_allow of them */
	size_t n_allow;
	char *token; /* required with tcp: every request over TCP carries it; else NULL */
} cfg_control;

typedef struct kiln_config {
	char *file;       /* absolute path of kiln.json */
	char *root;       /* absolute project root */
	char *project;    /* default: the root folder's name */
	char **platforms; /* NULL-terminated; default {"pc"} */
	size_t n_platforms;
	char *cache;              /* absolute; default root/Cache */
	cfg_scan_folder *folders; /* sorted by order (stable) */
	size_t n_folders;
	char **excludes; /* PCRE2 sources, each checked to compile */
	size_t n_excludes;
	cfg_builder *builders;
	size_t n_builders;
	int hosts;      /* 0 = one per CPU */
	char *http;     /* default "127.0.0.1:45644"; "" = off */
	bool scan_hash; /* "scan": "hash" */
	/* "max_products_per_job" (an extension of SPEC 2): a job whose builder
	 * returns more fails with the reason. 0 when not given (the engine's
	 * default, 100,000); at most CFG_MAX_PRODUCTS_LIMIT, which a reply that
	 * large still decodes within (common/mpscan.h). */
	size_t max_products_per_job;
	cfg_metadata *metadata;
	size_t n_metadata;
	cfg_control control;
} kiln_config;

/* Parses "10.0.0.0/8", "127.0.0.1", "::1" or "fd00::/8" (no host bits may be
 * set outside the prefix). Returns 0, or KILN_E_CONFIG with why (a static
 * string) set. */
int config_parse_cidr(const char *s, cfg_cidr *out, const char **why);

/* True when the address (4 or 16 bytes, network order) lies inside net. An
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) counts as its IPv4 address. */
bool config_cidr_match(const cfg_cidr *net, int family, const uint8_t *addr);

/* Loads root/kiln.json. self_dir is where the kiln binary lives (to resolve
 * shipped builders); NULL means the folder of the running executable. On
 * success *out (OUT) belongs to the caller (config_free). On error *out is
 * NULL, the return is KILN_E_CONFIG (or -errno when the file cannot be read,
 * -ENOMEM when memory runs out) and err holds "FILE:LINE:COL: message"
 * (just "FILE: message" for read errors). err must hold errsz bytes. */
int config_load(const char *root, const char *self_dir, kiln_config **out, char *err, size_t errsz);

/* Same, from text in memory; file is used in error messages only and root
 * resolves relative paths. For tests and the fuzzer. */
int config_parse(const char *text, size_t len, const char *file, const char *root, const char *self_dir,
                 kiln_config **out, char *err, size_t errsz);

void config_free(kiln_config *c);

/* Walks up from start (relative to the working folder unless absolute) to
 * the nearest folder holding kiln.json; writes its absolute path to out.
 * Returns 0, KILN_E_NOTFOUND, or KILN_E_TOOBIG when out is too small. */
int config_find_root(const char *start, char *out, size_t outsz);

/* kiln init: writes DIR/kiln.json (refusing to overwrite one) and DIR/Assets/,
 * creating DIR when needed. The file names the project after DIR, the
 * platform "pc", the scan folder "Assets" and the shipped kiln-copy builder,
 * and loads cleanly wherever kiln-copy is installed beside kiln. Returns 0,
 * -EEXIST, or -errno; err says what happened (on success, what was made). */
int config_init_project(const char *dir, char *err, size_t errsz);

#endif
