/* frame_fuzz: a libFuzzer target for everything that reads builder and host
 * bytes. The input is a byte stream as it would arrive on a builder's
 * stdout; the first byte picks the chunk size it is fed in, so partial
 * headers and payloads are exercised too. Every complete frame goes to
 * msg_peek_type, every msg_decode_* and hp_decode. The same stream is also
 * read with the blocking frame_read_fd from a memory file, and both readers
 * must cut it into the same frames.
 *
 * A message that decodes must survive a round trip: encoding what was
 * decoded and decoding that again succeeds, and encoding the second result
 * gives the same bytes as the first encoding. A decoder that accepts what
 * its own encoder cannot reproduce would let a builder's reply mean one
 * thing to the host and another to the supervisor.
 *
 * Built with -DFRAME_FUZZ_SEEDS instead, it is a program that writes a seed
 * corpus of valid messages into the folder given as its argument. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arena.h"
#include "kerr.h"
#include "frame.h"
#include "hostproto.h"
#include "msg.h"

enum kind { K_DESCRIBE, K_CJ_REQ, K_CJ_RESP, K_PJ_REQ, K_PJ_RESP, K_LOG, K_HOST, K__COUNT };

typedef union decoded {
	msg_describe d;
	msg_create_jobs_req cq;
	msg_create_jobs_resp cs;
	msg_process_job_req pq;
	msg_process_job_resp ps;
	msg_log l;
	hp_msg h;
} decoded;

/* Encodes a decoded message of kind k into sb. Returns 0, 1 when there is
 * no encoder for it here, or -ENOMEM. */
static int encode(enum kind k, const decoded *m, msgpack_sbuffer *sb)
{
	switch (k) {
	case K_DESCRIBE:
		return msg_encode_describe(sb, &m->d);
	case K_CJ_REQ:
		return msg_encode_create_jobs_req(sb, &m->cq);
	case K_CJ_RESP:
		return msg_encode_create_jobs_resp(sb, &m->cs);
	case K_PJ_REQ:
		return msg_encode_process_job_req(sb, &m->pq);
	case K_PJ_RESP:
		return msg_encode_process_job_resp(sb, &m->ps);
	case K_LOG:
		return msg_encode_log(sb, &m->l);
	case K_HOST:
		switch (m->h.type) {
		case HP_T_RUN:
			return hp_encode_run(sb, &m->h.u.run);
		case HP_T_CANCEL:
			return hp_encode_cancel(sb, m->h.u.cancel_id);
		case HP_T_SHUTDOWN:
			return hp_encode_shutdown(sb);
		case HP_T_HELLO:
			return hp_encode_hello(sb, m->h.u.hello_pid);
		case HP_T_LOG:
			return hp_encode_log(sb, &m->h.u.log);
		case HP_T_REPLY:
			return hp_encode_reply(sb, &m->h.u.reply);
		case HP_T_BUILDER:
			return hp_encode_builder(sb, &m->h.u.builder);
		default:
			/* A message type newer than this target: no round trip. */
			return 1;
		}
		break;
	case K__COUNT:
		break;
	}
	return -1;
}

static int decode(enum kind k, const uint8_t *f, size_t n, arena *a, decoded *m, char *err, size_t errsz)
{
	memset(m, 0, sizeof *m);
	switch (k) {
	case K_DESCRIBE:
		return msg_decode_describe(f, n, a, &m->d, err, errsz);
	case K_CJ_REQ:
		return msg_decode_create_jobs_req(f, n, a, &m->cq, err, errsz);
	case K_CJ_RESP:
		return msg_decode_create_jobs_resp(f, n, a, &m->cs, err, errsz);
	case K_PJ_REQ:
		return msg_decode_process_job_req(f, n, a, &m->pq, err, errsz);
	case K_PJ_RESP:
		return msg_decode_process_job_resp(f, n, a, &m->ps, err, errsz);
	case K_LOG:
		return msg_decode_log(f, n, a, &m->l, err, errsz);
	case K_HOST:
		return hp_decode(f, n, a, &m->h, err, errsz);
	case K__COUNT:
		break;
	}
	return -1;
}

/* decode(encode(m)) must work and encode it to the same bytes again. */
static void round_trip(enum kind k, const decoded *m)
{
	char err[256];
	msgpack_sbuffer s1, s2;
	decoded m2;
	arena *a = arena_new();
	if (!a)
		return;
	msgpack_sbuffer_init(&s1);
	msgpack_sbuffer_init(&s2);
	if (encode(k, m, &s1) != 0)
		goto out; /* out of memory, or nothing to compare with */
	if (decode(k, (const uint8_t *)s1.data, s1.size, a, &m2, err, sizeof err) != 0) {
		fprintf(stderr, "round trip of kind %d: re-encoded message does not decode: %s\n", (int)k,
		        err);
		abort();
	}
	if (encode(k, &m2, &s2) != 0)
		goto out;
	if (s1.size != s2.size || memcmp(s1.data, s2.data, s1.size) != 0) {
		fprintf(stderr, "round trip of kind %d: second encoding differs (%zu vs %zu bytes)\n", (int)k,
		        s1.size, s2.size);
		abort();
	}
out:
	msgpack_sbuffer_destroy(&s1);
	msgpack_sbuffer_destroy(&s2);
	arena_free(a);
}

static void decode_all(const uint8_t *f, size_t n)
{
	char type[32], err[256];
	decoded m;
	/* One arena for every decoder: a fresh one per decoder zeroes 16 KiB
	 * each time and costs the fuzzer most of its speed. */
	arena *a = arena_new();
	if (!a)
		return;
	(void)msg_peek_type(f, n, type, sizeof(type), err, sizeof(err));
	for (int k = 0; k < K__COUNT; k++) {
		err[0] = '\0';
		int rc = decode((enum kind)k, f, n, a, &m, err, sizeof(err));
		if (rc == 0)
			round_trip((enum kind)k, &m);
		else if (rc != -ENOMEM && err[0] == '\0')
			abort(); /* every refusal must say why */
	}
	arena_free(a);
}

#ifndef FRAME_FUZZ_SEEDS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True when a frame header in the stream claims more than 1 MiB (and no
 * more than FRAME_MAX, which is refused before any allocation). */
static int big_claim(const uint8_t *p, size_t n)
{
	size_t pos = 0;
	while (n - pos >= 4) {
		uint32_t len = (uint32_t)p[pos] << 24 | (uint32_t)p[pos + 1] << 16 |
		               (uint32_t)p[pos + 2] << 8 | p[pos + 3];
		if (len > FRAME_MAX)
			return 0;
		if (len > (1u << 20))
			return 1;
		pos += 4;
		if (len > n - pos)
			return 0;
		pos += len;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t chunk = (size_t)data[0] + 1;
	data++;
	size--;

	/* The whole input as one frame payload, as the NNG host link carries it. */
	decode_all(data, size);

	/* The blocking reader on the same bytes, from a memory file made once
	 * (a memfd per input costs more than everything else here). */
	static int memfd = -2;
	int fd = -1;
	uint8_t *fd_frames[64];
	size_t fd_lens[64], n_fd = 0;
	int fd_end = 0; /* the code the blocking reader stopped with */
	if (memfd == -2)
		memfd = memfd_create("frame_fuzz", MFD_CLOEXEC);
	/* frame_read_fd allocates what a header claims before it reads; under
	 * ASan a 64 MiB block costs 8 MiB of shadow to poison, which would
	 * make this target twenty times slower. Such inputs are left to the
	 * incremental reader. */
	if (!big_claim(data, size))
		fd = memfd;
	if (fd >= 0) {
		if (ftruncate(fd, 0) == 0 && (size == 0 || pwrite(fd, data, size, 0) == (ssize_t)size) &&
		    lseek(fd, 0, SEEK_SET) == 0) {
			while (n_fd < 64) {
				uint8_t *f = NULL;
				size_t flen = 0;
				fd_end = frame_read_fd(fd, &f, &flen);
				if (fd_end != 0)
					break;
				fd_frames[n_fd] = f;
				fd_lens[n_fd++] = flen;
			}
		} else {
			fd_end = -1;
		}
	}

	frame_reader r;
	frame_reader_init(&r);
	size_t pos = 0, n_inc = 0;
	int inc_end = 0;
	while (pos < size) {
		size_t avail = size - pos < chunk ? size - pos : chunk;
		size_t used = 0;
		uint8_t *f = NULL;
		size_t flen = 0;
		int rc = frame_reader_feed(&r, data + pos, avail, &used, &f, &flen);
		if (rc != 0) {
			inc_end = rc;
			break;
		}
		if (used > avail)
			abort();
		pos += used;
		if (f) {
			/* Both readers must see the same frames in the same order. */
			if (fd >= 0 && n_inc < n_fd &&
			    (fd_lens[n_inc] != flen || memcmp(fd_frames[n_inc], f, flen) != 0))
				abort();
			n_inc++;
			decode_all(f, flen);
			free(f);
		} else if (used == 0) {
			abort(); /* no progress without a frame would spin a host */
		}
	}
	if (fd >= 0 && n_inc < 64 && fd_end != -1) {
		/* Where the incremental reader ran out, the blocking one ended
		 * too: at a clean end, inside a frame, or at an over-long length. */
		if (n_inc != n_fd)
			abort();
		if (inc_end == KILN_E_TOOBIG && fd_end != KILN_E_TOOBIG)
			abort();
		if (inc_end == 0 && frame_reader_partial(&r) && fd_end != KILN_E_TRUNC)
			abort();
		if (inc_end == 0 && !frame_reader_partial(&r) && fd_end != KILN_E_EOF)
			abort();
	}
	for (size_t i = 0; i < n_fd; i++)
		free(fd_frames[i]);
	frame_reader_free(&r);
	return 0;
}

#else

static void write_seed(const char *dir, const char *name, msgpack_sbuffer *sb)
{
	char path[4096];
	uint8_t hdr[4];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return;
	decode_all((const uint8_t *)sb->data, sb->size);
	/* Chunk-size byte, then the frame as a stream. */
	fputc(0x40, f);
	frame_put_len(hdr, (uint32_t)sb->size);
	fwrite(hdr, 1, 4, f);
	fwrite(sb->data, 1, sb->size, f);
	fclose(f);
	msgpack_sbuffer_clear(sb);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	const char *dir = argv[1];
	msgpack_sbuffer sb;
	msgpack_sbuffer_init(&sb);

	const char *pats[] = {"*.png"};
	msg_describe d = {
	    .name = "n", .uuid = "u", .version = "1", .analysis_fingerprint = "f", .patterns = {pats, 1}};
	msg_encode_describe(&sb, &d);
	write_seed(dir, "describe", &sb);
	msg_encode_describe_req(&sb);
	write_seed(dir, "describe_req", &sb);
	msg_encode_shutdown(&sb);
	write_seed(dir, "shutdown", &sb);

	const char *plats[] = {"pc", "linux"};
	msg_create_jobs_req cq = {.source_file = "a/b.png",
	                          .watch_folder = "/w",
	                          .full_path = "/w/a/b.png",
	                          .source_uuid = "u",
	                          .builder_uuid = "b",
	                          .platforms = {plats, 2}};
	msg_encode_create_jobs_req(&sb, &cq);
	write_seed(dir, "create_jobs_req", &sb);

	msg_kv params[] = {{"k", "v"}};
	msg_job_desc jobs[] = {
	    {.job_key = "k", .platform = "pc", .critical = true, .priority = -3, .params = {params, 1}}};
	msg_source_dep deps[] = {{.path = "x"}, {.uuid = "y"}};
	msg_create_jobs_resp cs = {
	    .result = MSG_RESULT_SUCCESS, .jobs = jobs, .n_jobs = 1, .deps = deps, .n_deps = 2};
	msg_encode_create_jobs_resp(&sb, &cs);
	write_seed(dir, "create_jobs_resp", &sb);

	const char *tags[] = {"t"};
	msg_process_job_req pq = {.source_file = "a",
	                          .watch_folder = "/w",
	                          .full_path = "/w/a",
	                          .builder_uuid = "b",
	                          .job = jobs[0],
	                          .temp_dir = "/t",
	                          .platform_info = {"pc", {tags, 1}},
	                          .source_file_dependencies = {tags, 1},
	                          .source_uuid = "u",
	                          .job_id = 9};
	msg_encode_process_job_req(&sb, &pq);
	write_seed(dir, "process_job_req", &sb);

	const char *ids[] = {"{a}:1"};
	msg_path_dep pd[] = {{"p", true}};
	msg_product prods[] = {{.file = "f",
	                        .asset_type = "t",
	                        .sub_id = 4,
	                        .dep_asset_ids = ids,
	                        .n_dep_asset_ids = 1,
	                        .path_deps = pd,
	                        .n_path_deps = 1,
	                        .intermediate = true}};
	msg_process_job_resp ps = {.result = MSG_RESULT_SUCCESS,
	                           .products = prods,
	                           .n_products = 1,
	                           .sources_to_reprocess = {tags, 1}};
	msg_encode_process_job_resp(&sb, &ps);
	write_seed(dir, "process_job_resp", &sb);

	msg_log l = {.level = MSG_LEVEL_WARNING, .message = "m", .context = {params, 1}};
	msg_encode_log(&sb, &l);
	write_seed(dir, "log", &sb);

	hp_bytes fr = {(const uint8_t *)"\x80", 1};
	hp_run run = {.id = 1,
	              .builder = {"k", "e", {tags, 1}, true, 10, 20},
	              .cwd = "/c",
	              .frames = &fr,
	              .n_frames = 1};
	hp_encode_run(&sb, &run);
	write_seed(dir, "hp_run", &sb);
	hp_log hl = {.id = 1, .idx = 0, .level = MSG_LEVEL_ERROR, .message = "m", .context = {params, 1}};
	hp_encode_log(&sb, &hl);
	write_seed(dir, "hp_log", &sb);
	hp_reply rep = {.id = 1, .status = HP_OK, .detail = "", .frame = fr, .stderr_tail = {tags, 1}};
	hp_encode_reply(&sb, &rep);
	write_seed(dir, "hp_reply", &sb);
	hp_encode_hello(&sb, 5);
	write_seed(dir, "hp_hello", &sb);
	hp_encode_cancel(&sb, 5);
	write_seed(dir, "hp_cancel", &sb);
	hp_bnote bn = {.key = "k", .state = HP_BSTATE_BACKOFF, .detail = "crashed", .crashes = 3};
	hp_encode_builder(&sb, &bn);
	write_seed(dir, "hp_builder", &sb);
	msgpack_sbuffer_destroy(&sb);
	return 0;
}

#endif
