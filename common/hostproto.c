/* hostproto.c: the supervisor <-> builder host messages (see hostproto.h for
 * the wire shapes). The field helpers are mpread.c's and mpwrite.c's, the
 * same as the builder protocol's, so errors read the same way on both
 * links. */
#include <errno.h>
#include <string.h>

#include "hostproto.h"
#include "kerr.h"
#include "mpread.h"
#include "mpwrite.h"

static const char *const status_names[] = {
    [HP_OK] = "ok",
    [HP_CRASHED] = "crashed",
    [HP_TIMEOUT] = "timeout",
    [HP_PROTOCOL_ERROR] = "protocol_error",
    [HP_SPAWN_FAILED] = "spawn_failed",
    [HP_CANCELLED] = "cancelled",
};

#define N_STATUS (sizeof(status_names) / sizeof(status_names[0]))

const char *hp_status_name(hp_status s)
{
	if ((unsigned)s < N_STATUS)
		return status_names[s];
	return "crashed";
}

static const char *const bstate_names[] = {
    [HP_BSTATE_OK] = "ok",
    [HP_BSTATE_BACKOFF] = "backoff",
    [HP_BSTATE_GIVEN_UP] = "given_up",
};

#define N_BSTATE (sizeof(bstate_names) / sizeof(bstate_names[0]))

const char *hp_bstate_name(hp_bstate s)
{
	if ((unsigned)s < N_BSTATE)
		return bstate_names[s];
	return "ok";
}

static int dec_level(msg_dec *d, const msgpack_object *m, msg_level *out)
{
	const char *s = NULL;
	int rc = msg_dec_str(d, m, "level", 0, &s);
	if (rc)
		return rc;
	for (int l = MSG_LEVEL_INFO; l <= MSG_LEVEL_ERROR; l++) {
		if (strcmp(s, msg_level_name((msg_level)l)) == 0) {
			*out = (msg_level)l;
			return 0;
		}
	}
	return msg_dec_fail(d, "level", "expected \"info\", \"warning\" or \"error\", got \"%.64s\"", s);
}

static int dec_builder(msg_dec *d, const msgpack_object *m, void *out)
{
	hp_builder *b = out;
	uint64_t timeout_s = 0, memory_mb = 0;
	int rc;
	if ((rc = msg_dec_str(d, m, "key", 0, &b->key)) || (rc = msg_dec_str(d, m, "exec", 0, &b->exec)) ||
	    (rc = msg_dec_strs(d, m, "args", 0, &b->args)) ||
	    (rc = msg_dec_bool(d, m, "persistent", 0, &b->persistent)) ||
	    (rc = msg_dec_u64(d, m, "timeout_s", 0, UINT32_MAX, &timeout_s)) ||
	    (rc = msg_dec_u64(d, m, "memory_mb", 0, UINT32_MAX, &memory_mb)))
		return rc;
	b->timeout_s = (uint32_t)timeout_s;
	b->memory_mb = (uint32_t)memory_mb;
	return 0;
}

/* Copies a bin object into the arena; out is an hp_bytes. */
static int copy_bin(msg_dec *d, const msgpack_object *o, void *out)
{
	hp_bytes *b = out;
	if (o->type != MSGPACK_OBJECT_BIN)
		return msg_dec_fail(d, NULL, "expected binary data, got %s", msg_dec_type_name(o));
	uint8_t *p = arena_alloc(d->a, o->via.bin.size);
	if (!p)
		return -ENOMEM;
	if (o->via.bin.size)
		memcpy(p, o->via.bin.ptr, o->via.bin.size);
	b->data = p;
	b->len = o->via.bin.size;
	return 0;
}

static int dec_run(msg_dec *d, const msgpack_object *m, hp_run *r)
{
	void *frames = NULL;
	int rc;
	if ((rc = msg_dec_u64(d, m, "id", 0, UINT64_MAX, &r->id)) ||
	    (rc = msg_dec_sub(d, m, "builder", 0, dec_builder, &r->builder)) ||
	    (rc = msg_dec_str(d, m, "cwd", 0, &r->cwd)) ||
	    (rc = msg_dec_each(d, m, "frames", 0, sizeof(hp_bytes), copy_bin, &frames, &r->n_frames)))
		return rc;
	r->frames = frames;
	return 0;
}

static int dec_log(msg_dec *d, const msgpack_object *m, hp_log *l)
{
	uint64_t idx = 0;
	int rc;
	if ((rc = msg_dec_u64(d, m, "id", 0, UINT64_MAX, &l->id)) ||
	    (rc = msg_dec_u64(d, m, "idx", 0, UINT32_MAX, &idx)) || (rc = dec_level(d, m, &l->level)) ||
	    (rc = msg_dec_str(d, m, "message", MSG_DEC_TEXT, &l->message)) ||
	    (rc = msg_dec_kvs(d, m, "context", MSG_DEC_TEXT, &l->context)))
		return rc;
	l->idx = (uint32_t)idx;
	return 0;
}

static int dec_reply(msg_dec *d, const msgpack_object *m, hp_reply *r)
{
	uint64_t idx = 0;
	const char *status = NULL;
	int rc;

	if ((rc = msg_dec_u64(d, m, "id", 0, UINT64_MAX, &r->id)) ||
	    (rc = msg_dec_u64(d, m, "idx", 0, UINT32_MAX, &idx)) ||
	    (rc = msg_dec_str(d, m, "status", 0, &status)) ||
	    (rc = msg_dec_str(d, m, "detail", MSG_DEC_TEXT, &r->detail)) ||
	    (rc = msg_dec_strs(d, m, "stderr_tail", MSG_DEC_TEXT, &r->stderr_tail)) ||
	    (rc = msg_dec_u64(d, m, "duration_us", 0, UINT64_MAX, &r->duration_us)))
		return rc;
	r->idx = (uint32_t)idx;
	size_t s;
	for (s = 0; s < N_STATUS; s++)
		if (strcmp(status, status_names[s]) == 0)
			break;
	if (s == N_STATUS)
		return msg_dec_fail(d, "status", "unknown status \"%.64s\"", status);
	r->status = (hp_status)s;

	/* The frame key must be present: bin for "ok", nil otherwise. */
	const msgpack_object *f = msg_dec_get(m, "frame");
	if (!f)
		return msg_dec_fail(d, "frame", "missing");
	if (r->status == HP_OK) {
		size_t saved = msg_dec_push_key(d, "frame");
		rc = copy_bin(d, f, &r->frame);
		msg_dec_pop(d, saved);
		return rc;
	}
	if (f->type != MSGPACK_OBJECT_NIL)
		return msg_dec_fail(d, "frame", "expected nil for status \"%s\", got %s", status,
		                    msg_dec_type_name(f));
	return 0;
}

static int dec_bnote(msg_dec *d, const msgpack_object *m, hp_bnote *b)
{
	const char *state = NULL;
	uint64_t crashes = 0;
	int rc;
	if ((rc = msg_dec_str(d, m, "key", 0, &b->key)) || (rc = msg_dec_str(d, m, "state", 0, &state)) ||
	    (rc = msg_dec_str(d, m, "detail", MSG_DEC_TEXT, &b->detail)) ||
	    (rc = msg_dec_u64(d, m, "crashes", 0, UINT32_MAX, &crashes)) ||
	    (rc = msg_dec_u64(d, m, "retry_ms", MSG_DEC_OPTIONAL, UINT64_MAX, &b->retry_ms)))
		return rc;
	b->crashes = (uint32_t)crashes;
	for (size_t s = 0; s < N_BSTATE; s++) {
		if (strcmp(state, bstate_names[s]) == 0) {
			b->state = (hp_bstate)s;
			return 0;
		}
	}
	return msg_dec_fail(d, "state", "unknown builder state \"%.64s\"", state);
}

/* Decodes one message of either direction, by its "t". */
static int dec_msg(msg_dec *d, const msgpack_object *m, void *o)
{
	hp_msg *out = o;
	const char *t = NULL;
	int rc = msg_dec_str(d, m, "t", 0, &t);
	if (rc)
		return rc;
	if (strcmp(t, "run") == 0) {
		out->type = HP_T_RUN;
		return dec_run(d, m, &out->u.run);
	}
	if (strcmp(t, "cancel") == 0) {
		out->type = HP_T_CANCEL;
		return msg_dec_u64(d, m, "id", 0, UINT64_MAX, &out->u.cancel_id);
	}
	if (strcmp(t, "shutdown") == 0) {
		out->type = HP_T_SHUTDOWN;
		return 0;
	}
	if (strcmp(t, "hello") == 0) {
		out->type = HP_T_HELLO;
		return msg_dec_i64(d, m, "pid", 0, &out->u.hello_pid);
	}
	if (strcmp(t, "log") == 0) {
		out->type = HP_T_LOG;
		return dec_log(d, m, &out->u.log);
	}
	if (strcmp(t, "reply") == 0) {
		out->type = HP_T_REPLY;
		return dec_reply(d, m, &out->u.reply);
	}
	if (strcmp(t, "builder") == 0) {
		out->type = HP_T_BUILDER;
		return dec_bnote(d, m, &out->u.builder);
	}
	return msg_dec_fail(d, "t", "unknown message \"%.64s\"", t);
}

int hp_decode(const uint8_t *buf, size_t len, arena *a, hp_msg *out, char *err, size_t errsz)
{
	memset(out, 0, sizeof(*out));
	return msg_dec_frame(buf, len, a, dec_msg, out, err, errsz);
}

static void enc_builder(msg_enc *e, const void *v)
{
	const hp_builder *b = v;
	const msg_field f[] = {
	    MSG_F_STR("key", b->key),
	    MSG_F_STR("exec", b->exec),
	    MSG_F_STRS("args", &b->args),
	    MSG_F_BOOL("persistent", b->persistent),
	    MSG_F_U64("timeout_s", b->timeout_s),
	    MSG_F_U64("memory_mb", b->memory_mb),
	};
	msg_enc_fields(e, f, MSG_NFIELDS(f));
}

static void enc_frame(msg_enc *e, const void *v)
{
	const hp_bytes *b = v;
	msg_enc_bin(e, b->data, b->len);
}

int hp_encode_run(msgpack_sbuffer *sb, const hp_run *m)
{
	const msg_field f[] = {
	    MSG_F_STR("t", "run"),
	    MSG_F_U64("id", m->id),
	    MSG_F_VALUE("builder", enc_builder, &m->builder),
	    MSG_F_STR("cwd", m->cwd),
	    MSG_F_ARRAY("frames", enc_frame, m->frames, m->n_frames),
	};
	return msg_enc_message(sb, f, MSG_NFIELDS(f));
}

int hp_encode_cancel(msgpack_sbuffer *sb, uint64_t id)
{
	const msg_field f[] = {MSG_F_STR("t", "cancel"), MSG_F_U64("id", id)};
	return msg_enc_message(sb, f, MSG_NFIELDS(f));
}

int hp_encode_shutdown(msgpack_sbuffer *sb)
{
	const msg_field f[] = {MSG_F_STR("t", "shutdown")};
	return msg_enc_message(sb, f, MSG_NFIELDS(f));
}

int hp_encode_hello(msgpack_sbuffer *sb, int64_t pid)
{
	const msg_field f[] = {MSG_F_STR("t", "hello"), MSG_F_I64("pid", pid)};
	return msg_enc_message(sb, f, MSG_NFIELDS(f));
}

int hp_encode_log(msgpack_sbuffer *sb, const hp_log *m)
{
	const msg_field f[] = {
	    MSG_F_STR("t", "log"),
	    MSG_F_U64("id", m->id),
	    MSG_F_U64("idx", m->idx),
	    MSG_F_STR("level", msg_level_name(m->level)),
	    MSG_F_STR("message", m->message),
	    MSG_F_KVS("context", &m->context),
	};
	return msg_enc_message(sb, f, MSG_NFIELDS(f));
}

int hp_encode_reply(msgpack_sbuffer *sb, const hp_reply *m)
{
	/* Only an "ok" reply carries the builder's frame; the decoder holds
	 * the sender to that. */
	const msg_field f[] = {
	    MSG_F_STR("t", "reply"),
	    MSG_F_U64("id", m->id),
	    MSG_F_U64("idx", m->idx),
	    MSG_F_STR("status", hp_status_name(m->status)),
	    MSG_F_STR("detail", m->detail),
	    m->status == HP_OK ? MSG_F_BIN("frame", m->frame.data, m->frame.len) : MSG_F_NIL("frame"),
	    MSG_F_STRS("stderr_tail", &m->stderr_tail),
	    MSG_F_U64("duration_us", m->duration_us),
	};
	return msg_enc_message(sb, f, MSG_NFIELDS(f));
}

int hp_encode_builder(msgpack_sbuffer *sb, const hp_bnote *m)
{
	const msg_field f[] = {
	    MSG_F_STR("t", "builder"),
	    MSG_F_STR("key", m->key),
	    MSG_F_STR("state", hp_bstate_name(m->state)),
	    MSG_F_STR("detail", m->detail),
	    MSG_F_U64("crashes", m->crashes),
	    MSG_F_U64("retry_ms", m->retry_ms),
	};
	return msg_enc_message(sb, f, MSG_NFIELDS(f));
}
