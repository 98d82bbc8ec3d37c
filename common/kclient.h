/* kclient.h: a client of a running supervisor's control API (SPEC section
 * 8, supervisor/control/control-api.md), for the `kiln` command line and for editors and
 * tools written in C.
 *
 * Requests go to the REQ/REP socket Cache/kiln.sock (or a tcp:// address when
 * the project turns TCP on), one MessagePack map each way; here both are
 * jansson values, converted on the way. Events come from the PUB socket
 * Cache/kiln.events: each message is the topic, one space, and a MessagePack
 * map.
 *
 * A kclient is used by one thread at a time. Errors are 0 or negative:
 * -ENOENT or -ECONNREFUSED when no supervisor listens there (the command
 * line's exit code 3), -ETIMEDOUT, -EINVAL for bad arguments, KILN_E_PROTO
 * for a reply that is not a MessagePack map, -ENOMEM, or -EIO for other
 * transport failures. kiln_strerror() names them all. */
#ifndef KILN_KCLIENT_H
#define KILN_KCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <msgpack.h>

typedef struct kclient kclient;

/* Connects to a supervisor. where is one of:
 *   - a cache folder (it holds kiln.sock and kiln.events);
 *   - the path of the socket file itself (the events socket is the
 *     kiln.events beside it);
 *   - an NNG URL: "ipc:///path/kiln.sock" or "tcp://HOST:PORT" (no events
 *     over TCP: kclient_subscribe then fails with -ENOTSUP).
 * The request socket is dialled at once, so a missing supervisor is
 * reported here. On success *out (OUT) belongs to the caller
 * (kclient_close). */
int kclient_open(const char *where, kclient **out);

/* The token that every request carries from now on (needed over TCP when
 * the project sets control.token). Copied; NULL removes it. */
int kclient_set_token(kclient *c, const char *token);

/* Sends req (a JSON object with "type"; borrowed) and waits for the reply.
 * timeout_ms < 0 waits for ever. On success *reply (OUT) is a new reference
 * to the reply object, which may be {"ok": false, "error": ...}: that is an
 * answer, not a transport failure, so 0 is returned for it too. On error
 * *reply is NULL. A request still unanswered when this gives up is
 * abandoned: its late reply is discarded. */
int kclient_request(kclient *c, json_t *req, json_t **reply, int timeout_ms);

/* Receives events whose topic is topic ("job", "product", "ready", "scan"),
 * or every event for "". May be called more than once. Events published
 * before the subscription reached the supervisor are not seen. */
int kclient_subscribe(kclient *c, const char *topic);

/* Waits for the next event of a subscribed topic. timeout_ms < 0 waits for
 * ever, 0 only takes one that is already there. On success *topic (OUT,
 * free()) and *body (OUT, a new reference to an object) are set; on error
 * both are NULL (-ETIMEDOUT when nothing came, KILN_E_PROTO for a message
 * that is not "TOPIC MAP": such a message is consumed). */
int kclient_next_event(kclient *c, char **topic, json_t **body, int timeout_ms);

/* A descriptor that polls readable while events wait (after
 * kclient_subscribe), for callers with their own poll loop; -1 before. */
int kclient_event_fd(kclient *c);

void kclient_close(kclient *c);

/* ---- MessagePack <-> JSON, shared with the supervisor's control module ----
 *
 * Objects become maps with string keys, arrays arrays, strings strings,
 * integers integers, reals float64, true/false booleans, null nil. */

/* Packs v. Nesting deeper than 64 levels is refused with -EINVAL (our own
 * documents never come close). Returns 0, -EINVAL or -ENOMEM (from the
 * packer's buffer). */
int kclient_pack_json(msgpack_packer *pk, const json_t *v);

/* Converts o. Map keys must be strings; binary data and extension types are
 * refused; an unsigned integer above INT64_MAX becomes a real. Strings must
 * be UTF-8. Returns 0 with *out (OUT) a new reference, KILN_E_PROTO with err
 * naming the problem, or -ENOMEM. */
int kclient_json_from_msgpack(const msgpack_object *o, json_t **out, char *err, size_t errsz);

/* Unpacks buf (exactly one MessagePack map, checked first by
 * msg_unpack_map's limits) into a JSON object. Same returns. */
int kclient_decode_map(const void *buf, size_t len, json_t **out, char *err, size_t errsz);

#endif
