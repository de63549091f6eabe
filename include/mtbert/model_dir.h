/* A model folder in Hugging Face's layout: config.json, vocab.txt and
 * model.safetensors.  This is what `--model DIR` reads and what mtbert writes
 * when it saves an encoder, so transformers can load it back. */
#ifndef MTBERT_MODEL_DIR_H
#define MTBERT_MODEL_DIR_H

#include "mtbert/bert.h"
#include "mtbert/error.h"
#include "mtbert/tokenizer.h"

/* Loads DIR into a freshly initialised *model and *vocab (both owned by the
 * caller on success, untouched on failure).  Checks that the vocabulary has
 * exactly config.vocab_size tokens. */
int mtb_model_dir_load(const char *dir, mtb_bert *model, mtb_vocab **vocab, mtb_error *err);

/* Writes vocab as vocab.txt (one token per line, id order). */
int mtb_vocab_save(const mtb_vocab *vocab, const char *path, mtb_error *err);

/* Writes config.json, vocab.txt and model.safetensors into DIR.  The files
 * go to a sibling temporary folder DIR.tmp-PID first, each fsynced, which
 * then takes DIR's place in one atomic exchange (renameat2): killed at any
 * moment, DIR holds the old checkpoint or the new one.  DIR may be missing,
 * empty, or a model folder; the user's other files in it are kept.  A
 * model with a NaN or infinite weight is refused (MTB_EFAIL), DIR untouched.
 * extra, when not NULL, writes further files into the temporary folder.
 * MTBERT_NO_RENAME_EXCHANGE in the environment forces the fallback used
 * where the file system cannot exchange (two renames), for tests. */
typedef int (*mtb_dir_writer_fn)(const char *tmp_dir, void *ctx, mtb_error *err);
int mtb_model_dir_save(const char *dir, const mtb_bert *model, const mtb_vocab *vocab,
                       mtb_dir_writer_fn extra, void *ctx, mtb_error *err);

/* Whether DIR may become (or be replaced by) a model folder: missing with
 * a writable parent, empty, or a model folder already.  mtb_model_dir_save
 * checks this itself; front ends call it to fail before hours of work. */
int mtb_model_dir_check_target(const char *dir, mtb_error *err);

/* Cleans up after saves that were killed: removes DIR.tmp-PID and
 * DIR.old-PID folders of processes no longer running (moving any of the
 * user's own files in them into DIR), or, when DIR is missing, puts
 * DIR.old-PID back in its place.  Returns how many it handled and says
 * what in note ("" when none). */
int mtb_model_dir_recover(const char *dir, char *note, size_t cap);

/* dir + "/" + file into out (cap bytes); false when it does not fit. */
bool mtb_path_join(char *out, size_t cap, const char *dir, const char *file);

#endif
