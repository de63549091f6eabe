/* Files and folders: reading whole files, with the size limits mtbert
 * enforces on everything it reads (a stranger's file must not be able to
 * exhaust memory), atomic writes, and making folders.
 *
 * Limits: task files (CSV/TSV) MTB_MAX_DATA_FILE_BYTES, vocabularies
 * MTB_MAX_VOCAB_FILE_BYTES, JSON files (config.json, mtbert.json,
 * trainer.json) MTB_MAX_JSON_FILE_BYTES.  Safetensors files are mapped, not
 * read, and bounded by their own header checks. */
#ifndef MTBERT_FILE_H
#define MTBERT_FILE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "mtbert/error.h"

#define MTB_MAX_DATA_FILE_BYTES ((size_t)2 << 30)  /* 2 GiB */
#define MTB_MAX_VOCAB_FILE_BYTES ((size_t)64 << 20) /* 64 MiB */
#define MTB_MAX_JSON_FILE_BYTES ((size_t)16 << 20)  /* 16 MiB */

/* Reads all of path into a malloc'd buffer with a NUL after the last byte.
 * `what` names the file's role in messages ("a data file", "a vocab.txt").
 * Errors: MTB_EINPUT for a missing or unreadable file, a folder, or one
 * larger than max_bytes (a device such as /dev/zero included); MTB_EFAIL for
 * out of memory or a read error. */
int mtb_read_file(const char *path, size_t max_bytes, const char *what, char **out,
                  size_t *out_len, mtb_error *err);

/* Reads and parses a JSON file (duplicate keys rejected); NULL on failure,
 * with "path:line:column: message" for a syntax error. */
json_t *mtb_json_load_file(const char *path, mtb_error *err);

/* Writes len bytes to path through a temporary file in the same folder,
 * fsynced and renamed over path: a crash leaves the old file or the new one. */
int mtb_write_file_atomic(const char *path, const char *data, size_t len, mtb_error *err);

/* json_dumps(root, flags) and a newline, written as mtb_write_file_atomic. */
int mtb_json_save_file(const json_t *root, const char *path, size_t flags, mtb_error *err);

/* The folder that holds path: "." for a bare name, "/" for one at the root. */
void mtb_path_parent(const char *path, char *out, size_t cap);

/* Makes the entries of a folder (new files, renames) durable; best effort. */
void mtb_fsync_dir(const char *dir);

/* mkdir -p: dir and any missing folders above it, with mode; true when dir
 * exists afterwards. */
bool mtb_mkdir_p(const char *dir, int mode);

#endif
