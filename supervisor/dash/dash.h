/* dash.h: the dashboard, O3DE's Asset Processor window as a web page that
 * `kiln run` serves (issue 8, supervisor/dash/web/README.md).
 *
 * The dashboard lives in the supervisor's process but never touches the
 * engine's memory: it is a client of the supervisor like any editor. It
 * answers HTTP with NNG's own server on cfg->http (127.0.0.1:45644 unless
 * kiln.json says otherwise; "" turns it off):
 *   - the page itself (HTML, CSS and JavaScript compiled into kiln);
 *   - a JSON API under /api/ that the page and scripts use: read-only
 *     queries go to the database through query_json(), actions and live
 *     state to the control API through kclient, and the supervisor's own
 *     log is read from Cache/logs/kiln.log;
 *   - live updates: a thread of its own subscribes to Cache/kiln.events and
 *     keeps the newest events, which the page long-polls.
 *
 * Requests that change something (POST) need the session's token, made at
 * start and written into the page, in an X-Kiln-Token header, and every
 * request must name the dashboard itself as its Host (and Origin, when a
 * browser sends one), so no other web site can drive it.
 *
 * Threads: NNG's HTTP callbacks only check and queue requests; the work is
 * done by the dashboard's own worker threads, so that a slow query or a
 * supervisor busy with a scan never holds NNG's threads (which the control
 * API's own sockets need). */
#ifndef KILN_DASH_H
#define KILN_DASH_H

#include <stddef.h>

#include "config/config.h"

typedef struct dash dash;

/* Starts the dashboard for cfg (cfg must outlive it). self_dir is the folder
 * of the kiln binary (NULL: not needed). With cfg->http "" nothing is started:
 * 0 is returned with *out NULL. On success *out (OUT) belongs to the caller
 * (dash_close). Returns 0, or an error with err set (for example when the
 * port is taken: "127.0.0.1:45644 is in use"); the caller may go on without
 * a dashboard. */
int dash_open(const kiln_config *cfg, const char *self_dir, dash **out, char *err, size_t errsz);

/* Stops serving, answers what still waits, and frees d. NULL is ignored. */
void dash_close(dash *d);

/* Where the page is, "http://127.0.0.1:45644/". Belongs to d. */
const char *dash_url(const dash *d);

#endif
