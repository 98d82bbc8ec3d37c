/* kclient.c: the C client of the control API, and the MessagePack <-> JSON
 * conversion that the supervisor's side shares. */
#include "kclient.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/req.h>

#include "kerr.h"
#include "msg.h"

/* Replies can be large (every job of a big project), and they come from
 * the supervisor we chose to talk to, so the limit only stops a runaway. */
#define KCLIENT_RECV_MAX ((size_t)512 << 20)
#define KCLIENT_URL_MAX  4200
#define PACK_DEPTH_MAX   64
#define TOPIC_MAX        32

struct kclient {
	nng_socket req;
	nng_socket sub;
	bool req_open, sub_open;
	char url[KCLIENT_URL_MAX];
	char events_url[KCLIENT_URL_MAX]; /* "" when there is none (TCP) */
	char *token;
	int event_fd;
};

static int from_nng(int rv)
{
	switch (rv) {
	case 0:
		return 0;
	case NNG_ENOMEM:
		return -ENOMEM;
	case NNG_ETIMEDOUT:
		return -ETIMEDOUT;
	case NNG_EAGAIN:
		return -ETIMEDOUT;
	case NNG_ECONNREFUSED:
		return -ECONNREFUSED;
	case NNG_ENOENT:
		return -ENOENT;
	case NNG_EADDRINVAL:
	case NNG_EINVAL:
		return -EINVAL;
	case NNG_ENOTSUP:
		return -ENOTSUP;
	case NNG_EPERM:
		return -EACCES;
	case NNG_ECLOSED:
	case NNG_ECONNSHUT:
	case NNG_ECONNRESET:
		return -ECONNRESET;
	default:
		return -EIO;
	}
}

static void set_err(char *err, size_t errsz, const char *fmt, const char *a)
{
	if (err && errsz)
		snprintf(err, errsz, fmt, a ? a : "");
}

/* ---- JSON -> MessagePack ---- */

static int pack_json(msgpack_packer *pk, const json_t *v, int depth)
{
	int rc = 0;
	if (depth > PACK_DEPTH_MAX)
		return -EINVAL;
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *item;
		rc = msgpack_pack_map(pk, json_object_size(v));
		json_object_foreach((json_t *)v, k, item)
		{
			if (rc)
				break;
			size_t kl = strlen(k);
			rc = msgpack_pack_str(pk, kl) || msgpack_pack_str_body(pk, k, kl);
			if (!rc)
				rc = pack_json(pk, item, depth + 1);
		}
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *item;
		rc = msgpack_pack_array(pk, json_array_size(v));
		json_array_foreach(v, i, item)
		{
			if (rc)
				break;
			rc = pack_json(pk, item, depth + 1);
		}
		break;
	}
	case JSON_STRING: {
		size_t n = json_string_length(v);
		rc = msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, json_string_value(v), n);
		break;
	}
	case JSON_INTEGER:
		rc = msgpack_pack_int64(pk, (int64_t)json_integer_value(v));
		break;
	case JSON_REAL:
		rc = msgpack_pack_double(pk, json_real_value(v));
		break;
	case JSON_TRUE:
		rc = msgpack_pack_true(pk);
		break;
	case JSON_FALSE:
		rc = msgpack_pack_false(pk);
		break;
	case JSON_NULL:
		rc = msgpack_pack_nil(pk);
		break;
	}
	/* Nested failures are already -EINVAL or -ENOMEM; the packer's own
	 * failure is its buffer failing to grow. */
	if (rc > 0)
		rc = -ENOMEM;
	return rc;
}

int kclient_pack_json(msgpack_packer *pk, const json_t *v)
{
	if (!pk || !v)
		return -EINVAL;
	return pack_json(pk, v, 0);
}

/* ---- MessagePack -> JSON ---- */

static int from_msgpack(const msgpack_object *o, json_t **out, char *err, size_t errsz, int depth)
{
	json_t *v = NULL;
	*out = NULL;
	if (depth > PACK_DEPTH_MAX) {
		set_err(err, errsz, "nested too deeply%s", NULL);
		return KILN_E_PROTO;
	}
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		v = json_null();
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		v = json_boolean(o->via.boolean);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > (uint64_t)INT64_MAX)
			v = json_real((double)o->via.u64);
		else
			v = json_integer((json_int_t)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		v = json_integer((json_int_t)o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		/* JSON has no NaN or infinity; jansson refuses them. */
		if (!isfinite(o->via.f64)) {
			set_err(err, errsz, "a float that is not finite%s", NULL);
			return KILN_E_PROTO;
		}
		v = json_real(o->via.f64);
		break;
	case MSGPACK_OBJECT_STR:
		v = json_stringn(o->via.str.ptr, o->via.str.size);
		if (!v) {
			set_err(err, errsz, "a string that is not UTF-8%s", NULL);
			return KILN_E_PROTO;
		}
		break;
	case MSGPACK_OBJECT_ARRAY: {
		v = json_array();
		if (!v)
			return -ENOMEM;
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			json_t *item = NULL;
			int rc = from_msgpack(&o->via.array.ptr[i], &item, err, errsz, depth + 1);
			if (rc) {
				json_decref(v);
				return rc;
			}
			if (json_array_append_new(v, item) != 0) {
				json_decref(v);
				return -ENOMEM;
			}
		}
		break;
	}
	case MSGPACK_OBJECT_MAP: {
		v = json_object();
		if (!v)
			return -ENOMEM;
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[i];
			char key[256];
			json_t *item = NULL;
			int rc;
			if (kv->key.type != MSGPACK_OBJECT_STR) {
				set_err(err, errsz, "a map key is %s, not a string",
				        msg_dec_type_name(&kv->key));
				json_decref(v);
				return KILN_E_PROTO;
			}
			/* jansson keys are C strings: a key holding a NUL, or one
			 * longer than any key we send, is not ours. */
			if (kv->key.via.str.size >= sizeof key ||
			    memchr(kv->key.via.str.ptr, '\0', kv->key.via.str.size)) {
				set_err(err, errsz, "a map key is too long or holds a NUL byte%s", NULL);
				json_decref(v);
				return KILN_E_PROTO;
			}
			memcpy(key, kv->key.via.str.ptr, kv->key.via.str.size);
			key[kv->key.via.str.size] = '\0';
			rc = from_msgpack(&kv->val, &item, err, errsz, depth + 1);
			if (rc) {
				json_decref(v);
				return rc;
			}
			if (json_object_set_new(v, key, item) != 0) {
				/* Also a key that is not UTF-8. */
				json_decref(v);
				set_err(err, errsz, "map key '%s' is not UTF-8", key);
				return KILN_E_PROTO;
			}
		}
		break;
	}
	default:
		set_err(err, errsz, "%s cannot be shown as JSON", msg_dec_type_name(o));
		return KILN_E_PROTO;
	}
	if (!v)
		return -ENOMEM;
	*out = v;
	return 0;
}

int kclient_json_from_msgpack(const msgpack_object *o, json_t **out, char *err, size_t errsz)
{
	return from_msgpack(o, out, err, errsz, 0);
}

int kclient_decode_map(const void *buf, size_t len, json_t **out, char *err, size_t errsz)
{
	msgpack_unpacked u;
	int rc;
	*out = NULL;
	msgpack_unpacked_init(&u);
	rc = msg_unpack_map(buf, len, &u, err, errsz);
	if (rc == 0)
		rc = kclient_json_from_msgpack(&u.data, out, err, errsz);
	msgpack_unpacked_destroy(&u);
	return rc;
}

/* ---- the client ---- */

/* Works out the request and events URLs from what the caller named. */
static int resolve_where(kclient *c, const char *where)
{
	struct stat st;
	int n;
	size_t len = strlen(where);

	if (len == 0 || len >= KCLIENT_URL_MAX - 32)
		return -EINVAL;
	if (strncmp(where, "tcp://", 6) == 0) {
		snprintf(c->url, sizeof c->url, "%s", where);
		c->events_url[0] = '\0';
		return 0;
	}
	if (strncmp(where, "ipc://", 6) == 0) {
		snprintf(c->url, sizeof c->url, "%s", where);
		const char *slash = strrchr(where, '/');
		n = snprintf(c->events_url, sizeof c->events_url, "%.*skiln.events", (int)(slash + 1 - where),
		             where);
		return n < 0 || (size_t)n >= sizeof c->events_url ? -EINVAL : 0;
	}
	if (strstr(where, "://"))
		return -EINVAL;
	if (stat(where, &st) == 0 && S_ISDIR(st.st_mode)) {
		const char *sep = where[len - 1] == '/' ? "" : "/";
		snprintf(c->url, sizeof c->url, "ipc://%s%skiln.sock", where, sep);
		snprintf(c->events_url, sizeof c->events_url, "ipc://%s%skiln.events", where, sep);
		return 0;
	}
	/* A socket path (it need not exist yet: the dial reports that). */
	snprintf(c->url, sizeof c->url, "ipc://%s", where);
	const char *slash = strrchr(where, '/');
	if (slash)
		snprintf(c->events_url, sizeof c->events_url, "ipc://%.*skiln.events",
		         (int)(slash + 1 - where), where);
	else
		snprintf(c->events_url, sizeof c->events_url, "ipc://kiln.events");
	return 0;
}

int kclient_open(const char *where, kclient **out)
{
	kclient *c = NULL;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!where)
		return -EINVAL;
	c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	c->event_fd = -1;
	if ((rc = resolve_where(c, where)) != 0)
		goto fail;
	if ((rc = from_nng(nng_req0_open(&c->req))) != 0)
		goto fail;
	c->req_open = true;
	/* A compile may wait for minutes: the request must not be sent again
	 * behind its back (the default resends after a minute), and a large
	 * listing must fit. */
	if ((rc = from_nng(nng_socket_set_ms(c->req, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE))) != 0 ||
	    (rc = from_nng(nng_socket_set_size(c->req, NNG_OPT_RECVMAXSZ, KCLIENT_RECV_MAX))) != 0)
		goto fail;
	if ((rc = from_nng(nng_dial(c->req, c->url, NULL, 0))) != 0)
		goto fail;
	*out = c;
	return 0;
fail:
	kclient_close(c);
	return rc;
}

int kclient_set_token(kclient *c, const char *token)
{
	char *t = NULL;
	if (!c)
		return -EINVAL;
	if (token && !(t = strdup(token)))
		return -ENOMEM;
	free(c->token);
	c->token = t;
	return 0;
}

int kclient_request(kclient *c, json_t *req, json_t **reply, int timeout_ms)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	json_t *send = NULL;
	nng_msg *msg = NULL;
	char err[256];
	int rc;

	if (reply)
		*reply = NULL;
	if (!c || !req || !reply || !json_is_object(req))
		return -EINVAL;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (c->token && !json_object_get(req, "token")) {
		/* A shallow copy: the caller's object stays as it was. */
		send = json_copy(req);
		if (!send || json_object_set_new(send, "token", json_string(c->token)) != 0) {
			rc = -ENOMEM;
			goto out;
		}
	} else {
		send = json_incref(req);
	}
	if ((rc = kclient_pack_json(&pk, send)) != 0)
		goto out;
	nng_duration d = timeout_ms < 0 ? NNG_DURATION_INFINITE : (nng_duration)timeout_ms;
	if ((rc = from_nng(nng_socket_set_ms(c->req, NNG_OPT_RECVTIMEO, d))) != 0 ||
	    (rc = from_nng(nng_socket_set_ms(c->req, NNG_OPT_SENDTIMEO, d))) != 0)
		goto out;
	if ((rc = from_nng(nng_send(c->req, sb.data, sb.size, 0))) != 0)
		goto out;
	if ((rc = from_nng(nng_recvmsg(c->req, &msg, 0))) != 0)
		goto out;
	rc = kclient_decode_map(nng_msg_body(msg), nng_msg_len(msg), reply, err, sizeof err);
out:
	nng_msg_free(msg);
	json_decref(send);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

int kclient_subscribe(kclient *c, const char *topic)
{
	char prefix[TOPIC_MAX + 2];
	size_t tl;
	int rc;

	if (!c || !topic)
		return -EINVAL;
	tl = strlen(topic);
	if (tl > TOPIC_MAX || strchr(topic, ' '))
		return -EINVAL;
	if (!c->events_url[0])
		return -ENOTSUP;
	if (!c->sub_open) {
		if ((rc = from_nng(nng_sub0_open(&c->sub))) != 0)
			return rc;
		c->sub_open = true;
		/* Bursts of job events must not be dropped while the caller is
		 * busy for a moment. */
		if ((rc = from_nng(nng_socket_set_size(c->sub, NNG_OPT_RECVMAXSZ, KCLIENT_RECV_MAX))) != 0 ||
		    (rc = from_nng(nng_socket_set_int(c->sub, NNG_OPT_RECVBUF, 1024))) != 0 ||
		    (rc = from_nng(nng_dial(c->sub, c->events_url, NULL, 0))) != 0) {
			nng_close(c->sub);
			c->sub_open = false;
			return rc;
		}
	}
	/* "job " and not "job": a prefix match must not catch a longer topic
	 * that starts the same way. */
	memcpy(prefix, topic, tl);
	if (tl > 0)
		prefix[tl++] = ' ';
	return from_nng(nng_socket_set(c->sub, NNG_OPT_SUB_SUBSCRIBE, prefix, tl));
}

int kclient_next_event(kclient *c, char **topic, json_t **body, int timeout_ms)
{
	nng_msg *msg = NULL;
	char err[256];
	int rc;

	if (topic)
		*topic = NULL;
	if (body)
		*body = NULL;
	if (!c || !topic || !body)
		return -EINVAL;
	if (!c->sub_open)
		return -EINVAL;
	if (timeout_ms == 0) {
		rc = from_nng(nng_recvmsg(c->sub, &msg, NNG_FLAG_NONBLOCK));
	} else {
		nng_duration d = timeout_ms < 0 ? NNG_DURATION_INFINITE : (nng_duration)timeout_ms;
		if ((rc = from_nng(nng_socket_set_ms(c->sub, NNG_OPT_RECVTIMEO, d))) != 0)
			return rc;
		rc = from_nng(nng_recvmsg(c->sub, &msg, 0));
	}
	if (rc)
		return rc;
	const char *b = nng_msg_body(msg);
	size_t len = nng_msg_len(msg);
	const char *sp = memchr(b, ' ', len < TOPIC_MAX + 1 ? len : TOPIC_MAX + 1);
	if (!sp || sp == b) {
		rc = KILN_E_PROTO;
		goto out;
	}
	size_t tl = (size_t)(sp - b);
	if ((rc = kclient_decode_map(sp + 1, len - tl - 1, body, err, sizeof err)) != 0)
		goto out;
	if (!(*topic = strndup(b, tl))) {
		json_decref(*body);
		*body = NULL;
		rc = -ENOMEM;
	}
out:
	nng_msg_free(msg);
	return rc;
}

int kclient_event_fd(kclient *c)
{
	if (!c || !c->sub_open)
		return -1;
	if (c->event_fd < 0 && nng_socket_get_int(c->sub, NNG_OPT_RECVFD, &c->event_fd) != 0)
		c->event_fd = -1;
	return c->event_fd;
}

void kclient_close(kclient *c)
{
	if (!c)
		return;
	if (c->req_open)
		nng_close(c->req);
	if (c->sub_open)
		nng_close(c->sub);
	free(c->token);
	free(c);
}
