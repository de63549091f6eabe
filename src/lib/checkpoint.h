/* Model weights in safetensors files, Hugging Face BertModel naming. */
#ifndef MTBERT_CHECKPOINT_H
#define MTBERT_CHECKPOINT_H

#include "mtbert/bert.h"
#include "mtbert/error.h"

/* Fills m->params from a safetensors file.  Each parameter of m->info is
 * looked up under its own name, then with a "bert." prefix, then (for
 * LayerNorm.weight / LayerNorm.bias) under the legacy LayerNorm.gamma /
 * LayerNorm.beta names, with and without the prefix.  Shapes must match the
 * model exactly; F32, F16, BF16 and F64 tensors are converted to float32.
 * Tensors the model does not use (cls.*, position_ids, ...) are ignored.
 * A missing tensor, a shape mismatch or a non-float dtype is MTB_EINPUT
 * naming the file and tensor; everything is checked before m->params is
 * written, so on error the parameters are unchanged. */
int mtb_checkpoint_load_weights(mtb_bert *m, const char *safetensors_path, mtb_error *err);

/* Writes every parameter, in m->info order, as F32 under its unprefixed
 * Hugging Face name, with metadata {"format": "pt"}; the file is replaced
 * atomically. */
int mtb_checkpoint_save_weights(const mtb_bert *m, const char *path, mtb_error *err);

#endif
