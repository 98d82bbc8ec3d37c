/* json.c: the commands' answers as jansson values: strings from bytes that
 * may not be UTF-8, database columns, the printed document, and values read
 * back for text output. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/query.h"
#include "query/query_priv.h"
#include "utf8.h"

json_t *q_jstr(const char *s, size_t len)
{
	json_t *v = json_stringn(s, len);
	if (v)
		return v;
	/* Not UTF-8: replace every bad byte with U+FFFD (3 bytes). */
	if (len > (SIZE_MAX - 1) / 3)
		return NULL;
	char *buf = malloc(len * 3 + 1);
	size_t o = 0;
	if (!buf)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_char_len(s + i, len - i, NULL);
		if (n == 0) {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(buf + o, s + i, n);
			o += n;
			i += n;
		}
	}
	v = json_stringn(buf, o);
	free(buf);
	return v;
}

json_t *q_jstr0(const char *s)
{
	return s ? q_jstr(s, strlen(s)) : json_null();
}

json_t *q_jcol_str(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	const char *s = (const char *)sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);
	return s ? q_jstr(s, (size_t)n) : json_null();
}

json_t *q_jcol_int(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	return json_integer(sqlite3_column_int64(st, i));
}

json_t *q_jcol_time(sqlite3_stmt *st, int i)
{
	char buf[32];
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	query_iso_time(sqlite3_column_int64(st, i), buf);
	return json_string(buf);
}

json_t *q_jcol_hex64(sqlite3_stmt *st, int i)
{
	char buf[17];
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	snprintf(buf, sizeof buf, "%016" PRIx64, (uint64_t)sqlite3_column_int64(st, i));
	return json_string(buf);
}

json_t *q_jasset_id(const char *uuid, int64_t sub_id)
{
	char buf[64];
	if (!uuid || query_asset_id(uuid, sub_id, buf, sizeof buf) != 0)
		return json_null();
	return q_jstr0(buf);
}

void q_set(json_t *obj, const char *key, json_t *v)
{
	json_object_set_new(obj, key, v ? v : json_null());
}

void q_add_unique(json_t *arr, json_t *s)
{
	size_t i;
	json_t *v;
	if (!s)
		return;
	json_array_foreach(arr, i, v)
	{
		if (json_equal(v, s)) {
			json_decref(s);
			return;
		}
	}
	json_array_append_new(arr, s);
}

int q_print_json(qctx *q, json_t *v)
{
	if (q->capture) {
		json_decref(q->doc);
		q->doc = json_incref(v);
		return 0;
	}
	if (json_dumpf(v, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) != 0 ||
	    fputc('\n', stdout) == EOF) {
		q_err(q, "writing JSON: %s", strerror(errno));
		return Q_USAGE;
	}
	return 0;
}

int q_print_answer(qctx *q, json_t *o, void (*text)(json_t *o), bool failed)
{
	int rc = 0;
	if (q->json)
		rc = q_print_json(q, o);
	else
		text(o);
	return rc == Q_OK && failed ? Q_FAILED : rc;
}

const char *q_text(json_t *obj, const char *key, char *buf, size_t bufsz)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, bufsz, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		snprintf(buf, bufsz, "%.3f", json_real_value(v));
		return buf;
	}
	if (json_is_true(v))
		return "yes";
	if (json_is_false(v))
		return "no";
	return "-";
}
