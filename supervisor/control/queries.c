/* queries.c: the read-only requests (jobs, job, assets, asset, products,
 * product, builders) answered off the supervisor's thread.
 *
 * A query opens its own read-only SQLite connection and may run a client's
 * regex for its whole time budget, so on the event loop one heavy client
 * held up every builder host, inotify and every other client. Here the loop
 * only checks the request and queues it; QUERY_WORKERS threads answer.
 * Fairness: each peer (pipe) has a lane of its own, and the workers take
 * lanes in turn, one request at a time, so a peer that sends many heavy
 * queries waits for its own, not the others. A peer may have at most
 * QUERY_PER_PEER queued or running; past that it gets an error reply at
 * once. The workers run at a lower priority (nice) than the loop, so on a
 * machine with few cores the loop still gets the CPU first.
 *
 * Threads: ctl_queries_submit and ctl_queries_account run on the loop; the
 * workers touch only the lanes (under qmu), query_json (whose state is per
 * call and per thread), and ctl_send_reply (NNG sockets are thread-safe).
 * The counts the loop keeps per client are brought up to date from the
 * workers' results by ctl_queries_account. */
#include "control/control_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "klog.h"
#include "query/query.h"

#define QUERY_PER_PEER      8
#define QUERY_PER_PEER_TEXT "8" /* the same, for the message */
#define QUERY_NICE          5

typedef struct qjob {
	struct qjob *next;
	nng_msg *hdr; /* the request, kept for its header; owned */
	char *type;   /* the reply's key */
	int argc;
	char **argv; /* one block with the strings behind it; owned */
} qjob;

/* One peer's queue. A lane is freed when it is empty and not being served. */
typedef struct qlane {
	uint32_t pipe;
	qjob *head, *tail;
	unsigned n;   /* queued and running */
	bool serving; /* a worker runs one of its requests */
} qlane;

/* The result of one request, for the loop's counts. */
typedef struct qdone {
	uint32_t pipe;
	bool error;
} qdone;

#define DONE_KEEP 256

struct ctl_queries {
	control *c;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	qlane *lanes;
	size_t n_lanes, cap_lanes;
	size_t turn; /* where the next worker starts looking */
	qdone done[DONE_KEEP];
	size_t n_done;
	uint64_t done_lost; /* results beyond DONE_KEEP before the loop looked */
	pthread_t threads[QUERY_WORKERS];
	int n_threads;
};

static void job_free(qjob *j)
{
	if (!j)
		return;
	nng_msg_free(j->hdr);
	free(j->argv);
	free(j);
}

/* Takes the next request in turn, lane by lane. Called with mu held. */
static qjob *take(ctl_queries *q, qlane **lane_out)
{
	for (size_t k = 0; k < q->n_lanes; k++) {
		size_t i = (q->turn + k) % q->n_lanes;
		qlane *l = &q->lanes[i];
		if (!l->head || l->serving)
			continue;
		qjob *j = l->head;
		l->head = j->next;
		if (!l->head)
			l->tail = NULL;
		l->serving = true;
		q->turn = i + 1;
		*lane_out = l;
		return j;
	}
	return NULL;
}

static qlane *lane_of(ctl_queries *q, uint32_t pipe)
{
	for (size_t i = 0; i < q->n_lanes; i++)
		if (q->lanes[i].pipe == pipe)
			return &q->lanes[i];
	return NULL;
}

/* Drops lane l when nothing of it is left. Called with mu held; l goes
 * stale (the array is compacted). */
static void lane_release(ctl_queries *q, qlane *l)
{
	if (l->n || l->head || l->serving)
		return;
	*l = q->lanes[--q->n_lanes];
}

/* Answers one request: the query module's document wrapped as
 * {ok, exit_code, <type>: document}, or an error reply. */
static bool answer(control *c, qjob *j)
{
	json_t *doc = NULL, *rep;
	char qerr[1024] = "";
	int qrc = query_json(c->cfg, j->argc, j->argv, &doc, qerr, sizeof qerr);
	bool error = false;
	if (doc && qrc != 2) {
		rep = json_pack("{s:b, s:i, s:o}", "ok", 1, "exit_code", qrc, j->type, doc);
	} else {
		json_decref(doc);
		rep = json_pack("{s:b, s:s, s:i}", "ok", 0, "error", qerr[0] ? qerr : "the query failed",
		                "exit_code", qrc == 0 ? 2 : qrc);
		error = true;
	}
	if (!rep) {
		rep = json_pack("{s:b, s:s}", "ok", 0, "error", "out of memory");
		error = true;
	}
	if (rep)
		(void)ctl_send_reply(c, j->hdr, rep);
	json_decref(rep);
	return error;
}

static void *worker(void *arg)
{
	ctl_queries *q = arg;
	/* Linux applies nice to the calling thread alone. */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), QUERY_NICE) != 0) {
		/* The loop keeps the same priority as the workers then. */
	}
	pthread_mutex_lock(&q->mu);
	for (;;) {
		qlane *l = NULL;
		qjob *j = NULL;
		while (!q->stop && !(j = take(q, &l)))
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->stop) {
			if (j) {
				l->serving = false;
				l->n--;
				job_free(j);
			}
			break;
		}
		uint32_t pipe = l->pipe;
		pthread_mutex_unlock(&q->mu);
		bool error = answer(q->c, j);
		job_free(j);
		pthread_mutex_lock(&q->mu);
		l = lane_of(q, pipe);
		if (l) {
			l->serving = false;
			l->n--;
			lane_release(q, l);
		}
		if (q->n_done < DONE_KEEP)
			q->done[q->n_done++] = (qdone){pipe, error};
		else
			q->done_lost++;
		/* Another lane may have work this worker passed over while the
		 * lane it served was busy. */
		pthread_cond_signal(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

int ctl_queries_start(control *c, char *err, size_t errsz)
{
	ctl_queries *q = calloc(1, sizeof *q);
	if (!q) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	q->c = c;
	if (pthread_mutex_init(&q->mu, NULL) != 0) {
		free(q);
		snprintf(err, errsz, "cannot make the query workers' lock");
		return -ENOMEM;
	}
	if (pthread_cond_init(&q->cv, NULL) != 0) {
		pthread_mutex_destroy(&q->mu);
		free(q);
		snprintf(err, errsz, "cannot make the query workers' condition");
		return -ENOMEM;
	}
	c->queries = q;
	for (int i = 0; i < QUERY_WORKERS; i++) {
		int rc = pthread_create(&q->threads[i], NULL, worker, q);
		if (rc != 0) {
			snprintf(err, errsz, "cannot start a query worker: %s", strerror(rc));
			return -rc; /* control_close stops what started */
		}
		q->n_threads++;
	}
	return 0;
}

void ctl_queries_stop(control *c)
{
	ctl_queries *q = c->queries;
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	for (int i = 0; i < q->n_threads; i++)
		pthread_join(q->threads[i], NULL);
	/* What was still queued is dropped unanswered: the control is
	 * closing, and so are its sockets. */
	for (size_t i = 0; i < q->n_lanes; i++)
		for (qjob *j = q->lanes[i].head, *nx; j; j = nx) {
			nx = j->next;
			job_free(j);
		}
	free(q->lanes);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
	c->queries = NULL;
}

/* A copy of argv and its strings in one block (freed with free()). */
static char **copy_argv(int argc, char **argv)
{
	size_t n = (size_t)(argc + 1) * sizeof(char *);
	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	char **v = malloc(n);
	if (!v)
		return NULL;
	char *p = (char *)(v + argc + 1);
	for (int i = 0; i < argc; i++) {
		size_t len = strlen(argv[i]) + 1;
		memcpy(p, argv[i], len);
		v[i] = p;
		p += len;
	}
	v[argc] = NULL;
	return v;
}

const char *ctl_queries_submit(control *c, nng_msg *req, int argc, char **argv)
{
	ctl_queries *q = c->queries;
	uint32_t pipe = nng_msg_get_pipe(req).id;
	const char *refusal = NULL;
	qjob *j = calloc(1, sizeof *j);
	if (!q || !j)
		goto oom;
	if (!(j->argv = copy_argv(argc, argv)) || nng_msg_alloc(&j->hdr, 0) != 0 ||
	    nng_msg_header_append(j->hdr, nng_msg_header(req), nng_msg_header_len(req)) != 0)
		goto oom;
	j->argc = argc;
	j->type = j->argv[0]; /* the command word is the reply's key */
	pthread_mutex_lock(&q->mu);
	qlane *l = lane_of(q, pipe);
	if (!l) {
		if (q->n_lanes == q->cap_lanes) {
			size_t cap = q->cap_lanes ? q->cap_lanes * 2 : 16;
			qlane *nl = realloc(q->lanes, cap * sizeof *nl);
			if (!nl) {
				pthread_mutex_unlock(&q->mu);
				goto oom;
			}
			q->lanes = nl;
			q->cap_lanes = cap;
		}
		l = &q->lanes[q->n_lanes++];
		*l = (qlane){.pipe = pipe};
	}
	if (l->n >= QUERY_PER_PEER) {
		refusal = "busy: this connection has " QUERY_PER_PEER_TEXT
		          " queries waiting or running already; wait for their replies";
		lane_release(q, l);
		pthread_mutex_unlock(&q->mu);
		job_free(j);
		return refusal;
	}
	l->n++;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return NULL;
oom:
	job_free(j);
	return "out of memory";
}

void ctl_queries_account(control *c)
{
	ctl_queries *q = c->queries;
	qdone done[DONE_KEEP];
	size_t n;
	uint64_t lost;
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	n = q->n_done;
	memcpy(done, q->done, n * sizeof done[0]);
	q->n_done = 0;
	lost = q->done_lost;
	q->done_lost = 0;
	pthread_mutex_unlock(&q->mu);
	for (size_t i = 0; i < n; i++) {
		if (!done[i].error)
			continue;
		c->errors_total++;
		cclient *cl = ctl_client_find(c, done[i].pipe);
		if (cl)
			cl->errors++;
	}
	if (lost)
		klog(KLOG_DEBUG, "control: %llu query results came faster than they were counted",
		     (unsigned long long)lost);
}
