/* frame_fuzz: a libFuzzer target for everything that reads builder and host
 * bytes. The input is a byte stream as it would arrive on a builder's
 * stdout; the first byte picks the chunk size it is fed in, so partial
 * headers and payloads are exercised too. Every complete frame goes to
 * msg_peek_type, every msg_decode_* and hp_decode.
 *
 * Built with -DFRAME_FUZZ_SEEDS instead, it is a program that writes a seed
 * corpus of valid messages into the folder given as its argument. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "frame.h"
#include "hostproto.h"
#include "msg.h"

static void decode_all(const uint8_t *f, size_t n)
{
	char type[32], err[256];
	arena *a = arena_new();
	if (!a)
		return;
	msg_describe d;
	msg_create_jobs_req cq;
	msg_create_jobs_resp cs;
	msg_process_job_req pq;
	msg_process_job_resp ps;
	msg_log l;
	hp_msg h;
	(void)msg_peek_type(f, n, type, sizeof(type), err, sizeof(err));
	(void)msg_decode_describe(f, n, a, &d, err, sizeof(err));
	(void)msg_decode_create_jobs_req(f, n, a, &cq, err, sizeof(err));
	(void)msg_decode_create_jobs_resp(f, n, a, &cs, err, sizeof(err));
	(void)msg_decode_process_job_req(f, n, a, &pq, err, sizeof(err));
	(void)msg_decode_process_job_resp(f, n, a, &ps, err, sizeof(err));
	(void)msg_decode_log(f, n, a, &l, err, sizeof(err));
	(void)hp_decode(f, n, a, &h, err, sizeof(err));
	arena_free(a);
}

#ifndef FRAME_FUZZ_SEEDS

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t chunk = (size_t)data[0] + 1;
	data++;
	size--;

	/* The whole input as one frame payload, as the NNG host link carries it. */
	decode_all(data, size);

	frame_reader r;
	frame_reader_init(&r);
	size_t pos = 0;
	while (pos < size) {
		size_t avail = size - pos < chunk ? size - pos : chunk;
		size_t used = 0;
		uint8_t *f = NULL;
		size_t flen = 0;
		int rc = frame_reader_feed(&r, data + pos, avail, &used, &f, &flen);
		if (rc != 0)
			break;
		if (used > avail)
			abort();
		pos += used;
		if (f) {
			decode_all(f, flen);
			free(f);
		} else if (used == 0) {
			abort(); /* no progress without a frame would spin a host */
		}
	}
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
	msgpack_sbuffer_destroy(&sb);
	return 0;
}

#endif
