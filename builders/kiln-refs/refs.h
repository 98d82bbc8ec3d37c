/* refs.h: finds the references one file makes to other files of its scan
 * folder, for the kiln-refs builder.
 *
 * A scan (refs_scan) belongs to one job: it knows the scan folder (the
 * "root") and the source's path in it, remembers every path it looked up
 * (so a name that occurs a thousand times costs one stat), and collects the
 * references it found, each once. The extraction functions feed candidate
 * strings to it:
 *   - refs_scan_xml: attribute values and text nodes, parsed with expat;
 *   - refs_scan_text: quoted strings and delimiter-separated tokens;
 *   - refs_scan_binary: runs of at least REFS_MIN_RUN printable characters.
 * A candidate is a reference when, taken relative to the source's own folder
 * or else to the root, it names an existing regular file inside the root
 * that is not the source itself. Paths are reported relative to the root,
 * normalised, with forward slashes; a candidate whose ".." would climb out of
 * the root is dropped. The rules for what a candidate may look like are in
 * refs.c beside refs_candidate().
 *
 * Limits keep hostile input cheap: candidates longer than max_str are
 * skipped, and the scan stops (KILN_E_LIMIT, keeping what it found) after
 * max_deps references or max_lookups distinct paths looked up. */
#ifndef KILN_REFS_H
#define KILN_REFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REFS_MIN_RUN 4

typedef enum refs_format { REFS_TEXT = 0, REFS_XML, REFS_BINARY } refs_format;

typedef struct refs_limits {
	size_t max_deps;    /* references kept per scan */
	size_t max_str;     /* longest candidate looked at, in bytes */
	size_t max_lookups; /* distinct paths looked up per scan */
} refs_limits;

/* 10,000 references, 4 KiB candidates, 200,000 look-ups. */
extern const refs_limits refs_default_limits;

/* Where malformed XML stopped the parser. */
typedef struct refs_xml_error {
	unsigned long line;
	unsigned long column;
	char message[128];
} refs_xml_error;

typedef struct refs_scan refs_scan;

/* Starts a scan of source_file (relative to root, forward slashes) in the
 * scan folder root (absolute). lim NULL means refs_default_limits. On success
 * *out (OUT) belongs to the caller, who frees it with refs_scan_free.
 * Returns 0, KILN_E_PATH for a source_file that leaves root, -ENOMEM, or
 * -errno when root cannot be opened. */
int refs_scan_new(const char *root, const char *source_file, const refs_limits *lim, refs_scan **out);
void refs_scan_free(refs_scan *s);

/* Which extractor suits a file: XML by extension (xml, dae, svg, tmx, tsx,
 * x3d, xsd, xsl, plist, ...) or by a leading "<?xml" (after a UTF-8 BOM and
 * blanks); binary when the first 64 KiB hold a NUL byte; text otherwise. */
refs_format refs_guess_format(const char *source_file, const uint8_t *buf, size_t len);
/* "text", "xml", "binary". */
const char *refs_format_name(refs_format f);

/* Each extractor adds to the scan's references and may be called several
 * times on one scan. They return 0, KILN_E_LIMIT when a limit stopped them
 * (the references found so far are kept) or -ENOMEM. refs_scan_xml also
 * returns KILN_E_PROTO for malformed XML, with the position in *err (OUT, may
 * be NULL), keeping the references found before it. */
int refs_scan_xml(refs_scan *s, const uint8_t *buf, size_t len, refs_xml_error *err);
int refs_scan_text(refs_scan *s, const uint8_t *buf, size_t len);
int refs_scan_binary(refs_scan *s, const uint8_t *buf, size_t len);

/* Offers one candidate string (not NUL-terminated) as a reference, as the
 * extractors do. Returns 0 whether or not it was one, KILN_E_LIMIT or
 * -ENOMEM. */
int refs_scan_offer(refs_scan *s, const char *str, size_t len);

/* The references found, sorted bytewise; the array and strings belong to the
 * scan and live until refs_scan_free (or the next call that adds). */
const char *const *refs_scan_paths(refs_scan *s, size_t *n /* OUT */);
/* How many distinct paths were looked up on disk so far. */
size_t refs_scan_lookups(const refs_scan *s);
/* True once a limit stopped the scan; which one is in the text. */
bool refs_scan_limited(const refs_scan *s, const char **why /* OUT */);

#endif
