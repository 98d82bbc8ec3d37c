/* keys.c: the restart records of persistent builder keys: the policy of
 * restart.h applied to the host's builders, each change of state logged and
 * told to the supervisor. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "host_priv.h"
#include "klog.h"
#include "restart.h"

hkey *key_find(host *h, const char *key)
{
	for (hkey *k = h->keys; k; k = k->next)
		if (strcmp(k->key, key) == 0)
			return k;
	return NULL;
}

static hkey *key_get(host *h, const char *key)
{
	hkey *k = key_find(h, key);
	if (k)
		return k;
	k = calloc(1, sizeof(*k));
	if (!k || !(k->key = strdup(key))) {
		free(k);
		return NULL;
	}
	restart_init(&k->r);
	k->next = h->keys;
	h->keys = k;
	return k;
}

/* A persistent builder died without a reply (or could not start): the
 * next start of its key waits, and after too many crashes in a row it is a
 * probe. */
void key_crashed(host *h, const char *key, const char *how)
{
	hkey *k = key_get(h, key);
	char d[512];
	uint32_t rnd = 0;
	if (!k) {
		klog(KLOG_ERROR, "out of memory recording a crash of builder %s", key);
		return;
	}
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
		rnd = (uint32_t)host_now_us();
	uint64_t now = host_now_ms();
	restart_state st = restart_crashed(&k->r, now, rnd, how);
	restart_describe(&k->r, now, d, sizeof(d));
	klog(KLOG_WARN, "builder %s: %s", key, d);
	sup_send_bnote(h, key, st, d, k->r.crashes, k->r.gap_ms);
}

/* The probe of a builder on probation failed: it is given up. */
void key_probe_failed(host *h, const char *key, const char *how)
{
	hkey *k = key_get(h, key);
	char d[512];
	if (!k) {
		klog(KLOG_ERROR, "out of memory recording a crash of builder %s", key);
		return;
	}
	uint64_t now = host_now_ms();
	restart_probe_failed(&k->r, now, h->cool_ms, how);
	restart_describe(&k->r, now, d, sizeof(d));
	klog(KLOG_ERROR, "builder %s: %s", key, d);
	sup_send_bnote(h, key, RESTART_GIVEN_UP, d, k->r.crashes, k->r.gap_ms);
}

/* A persistent builder replied successfully (probe tells whether it was the
 * host's describe probe). */
void key_healthy(host *h, const char *key, bool probe)
{
	hkey *k = key_find(h, key);
	char d[192];
	if (!k || k->r.state == RESTART_OK)
		return;
	uint32_t had = restart_healthy(&k->r);
	if (probe)
		snprintf(d, sizeof(d),
		         "described itself after %" PRIu32 " crash%s in a row: the builder works, its inputs "
		         "crashed it",
		         had, had == 1 ? "" : "es");
	else
		snprintf(d, sizeof(d), "replied again after %" PRIu32 " crash%s in a row", had,
		         had == 1 ? "" : "es");
	klog(KLOG_INFO, "builder %s: %s", key, d);
	sup_send_bnote(h, key, RESTART_OK, d, 0, 0);
}

/* Frees every restart record (the host is ending). */
void key_free_all(host *h)
{
	while (h->keys) {
		hkey *k = h->keys;
		h->keys = k->next;
		free(k->key);
		free(k);
	}
}
