/* path.h: path helpers. All paths use forward slashes. */
#ifndef KILN_PATH_H
#define KILN_PATH_H

#include <stddef.h>
#include <sys/types.h>

#define KILN_PATH_MAX 4096

/* Lexically normalises in into out: collapses "//" and "/./", resolves ".."
 * against the components before it, drops a trailing slash (but keeps "/");
 * a relative path that resolves to nothing becomes ".".
 * A relative path whose ".." would climb above its start is KILN_E_PATH; an
 * absolute one cannot climb above "/". Returns 0, KILN_E_PATH, or
 * KILN_E_TOOBIG when out is too small. */
int path_normalize(const char *in, char *out, size_t outsz);

/* Checks a path that must stay inside its root: relative, non-empty, no NUL
 * before len (pass len = strlen for C strings), no backslash, at most
 * KILN_PATH_MAX bytes, and no ".." component after normalisation. Returns 0
 * or KILN_E_PATH. */
int path_check_relative(const char *p, size_t len);

/* ASCII lowercase in place (product paths are lowercased; UTF-8 bytes above
 * 0x7f are left alone). */
void path_lower(char *s);

/* out = a + "/" + b (b absolute replaces a). out may be a (appending in
 * place) but not b. Returns 0 or KILN_E_TOOBIG. */
int path_join(char *out, size_t outsz, const char *a, const char *b);

/* Pointer to the last component of p (after the last '/'). */
const char *path_basename(const char *p);

/* The extension of the last component without the dot ("" when none; a
 * leading dot, as in ".gitignore", is not an extension). */
const char *path_ext(const char *p);

/* mkdir -p. Returns 0 or -errno. */
int path_mkdirs(const char *dir, mode_t mode);

/* Creates the parent folders of file. Returns 0 or -errno. */
int path_mkdirs_for(const char *file, mode_t mode);

/* rm -rf of dir (not following symbolic links). A missing dir is success.
 * Returns 0 or -errno. */
int path_rmtree(const char *dir);

/* Removes every file and link below dir but keeps its folders, so that a
 * scratch folder reused for many jobs does not churn inodes (creating and
 * deleting a folder per job is the slowest part of a cold batch on ext4).
 * Returns 0 or -errno. */
int path_clear_files(const char *dir);

/* Removes empty parent folders of file up to (not including) stop. */
void path_prune_empty_parents(const char *file, const char *stop);

/* Directory holding the running executable (from /proc/self/exe). Returns 0
 * or -errno. */
int path_self_dir(char *out, size_t outsz);

#endif
