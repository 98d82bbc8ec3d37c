/* klog.h: the supervisor's and hosts' own log.
 *
 * Lines go to a file (Cache/logs/kiln.log for the supervisor) as
 * "2026-11-21T19:43:58.123Z LEVEL [who] message", and those at or above the
 * stderr level also to stderr. Not for use in signal handlers. */
#ifndef KILN_KLOG_H
#define KILN_KLOG_H

typedef enum klog_level { KLOG_DEBUG = 0, KLOG_INFO, KLOG_WARN, KLOG_ERROR } klog_level;

/* Opens (appends to) path; NULL closes the file. Returns 0 or -errno. */
int klog_open(const char *path);
void klog_set_name(const char *who);         /* e.g. "kiln", "host-3" */
void klog_set_level(klog_level min);         /* file threshold, default INFO */
void klog_set_stderr_level(klog_level min);  /* stderr threshold, default WARN */
void klog(klog_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void klog_close(void);

#endif
