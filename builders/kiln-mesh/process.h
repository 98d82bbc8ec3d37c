/* process.h: one kiln-mesh job: import a model with assimp and write one
 * .kmesh product per triangle, line or point mesh, then one .kscene product
 * for the model (the only one when it holds no mesh).
 *
 * Shared by the protocol loop (main.c) and the command-line mode used for
 * surveys and sanitizer runs (`kiln-mesh --convert`), so both exercise the
 * same code. */
#ifndef KILN_MESH_PROCESS_H
#define KILN_MESH_PROCESS_H

#include <stdint.h>

#include "kiln_builder.h"

/* Models above this size are refused before assimp sees them: a single
 * model of more than 512 MiB is not something a game ships, and refusing it
 * early keeps a mistaken or hostile file from exhausting the builder. */
#define MESH_MAX_SOURCE_BYTES (512ull << 20)

/* Path dependencies recorded per product at most (textures). */
#define MESH_MAX_TEXTURE_DEPS 64

/* Writes the products of req into req->temp_dir and lists them in resp
 * (allocated from a). Logs through ctx (NULL: to stderr). Sets
 * resp->result to success when at least one product was written. Returns 0,
 * or -ENOMEM. */
int mesh_process(kb_ctx *ctx, const msg_process_job_req *req, msg_process_job_resp *resp, arena *a);

/* Runs mesh_process in a child process and waits at most timeout_s
 * seconds for it (0: 60 s plus 1 s per MiB of model). assimp checks its own
 * invariants with assertions that abort, and some of its parsers loop
 * forever on truncated input (PLY headers): in a child, such a file fails
 * its job with a clear log line, and the builder process lives on. The
 * child logs through ctx directly and hands its products back as a
 * MessagePack process_job reply on a pipe; resp is filled from that reply
 * (allocated from a). Same return convention as mesh_process. */
int mesh_process_isolated(kb_ctx *ctx, const msg_process_job_req *req, msg_process_job_resp *resp, arena *a,
                          unsigned timeout_s);

/* The product path of a mesh, relative to the temp dir:
 * "<source_file without extension>/<name>_<sub_id as 8 hex digits>.kmesh",
 * name sanitised to [A-Za-z0-9_.-] (other bytes become '_', a leading '.'
 * too, at most 64 bytes, "mesh" when empty). Returns 0 or KILN_E_TOOBIG. */
int mesh_product_path(const char *source_file, const char *name, uint32_t sub_id, char *out, size_t outsz);

#endif
