/* BERT hyper-parameters, as found in a Hugging Face config.json. */
#ifndef MTBERT_CONFIG_H
#define MTBERT_CONFIG_H

#include "mtbert/error.h"

/* Encoder layers mtbert handles: the conflict statistics keep a fixed row
 * per parameter group (embeddings, each layer, pooler). */
#define MTB_MAX_LAYERS 62

/* Upper bounds on the sizes a config.json may ask for, checked before any
 * allocation: far above bert-large (vocab 30522, hidden 1024, intermediate
 * 4096, 512 positions, 335M parameters), far below what would ask for tens
 * of gigabytes in one allocation. */
#define MTB_MAX_VOCAB_SIZE 1000000
#define MTB_MAX_HIDDEN_SIZE 4096
#define MTB_MAX_INTERMEDIATE_SIZE 16384
#define MTB_MAX_POSITIONS 8192
#define MTB_MAX_TYPE_VOCAB_SIZE 64
#define MTB_MAX_PARAMETERS 1500000000L

typedef struct mtb_config {
    int vocab_size;
    int hidden_size;
    int num_layers;        /* num_hidden_layers */
    int num_heads;         /* num_attention_heads */
    int intermediate_size;
    int max_position;      /* max_position_embeddings */
    int type_vocab_size;
    int pad_token_id;
    float layer_norm_eps;
    float hidden_dropout;    /* hidden_dropout_prob */
    float attention_dropout; /* attention_probs_dropout_prob */
    float initializer_range;
} mtb_config;

/* bert-base-uncased's values; callers override fields for smaller models. */
void mtb_config_default(mtb_config *cfg);
/* A fresh model's config for a size name: tiny (2 layers, hidden 128), mini
 * (4/256), small (4/512), medium (8/512), base (12/768); heads = hidden / 64,
 * intermediate = 4 hidden, the rest as mtb_config_default.  -1 for an
 * unknown name. */
int mtb_config_named(const char *name, int vocab_size, mtb_config *cfg);

/* Checks internal consistency (hidden divisible by heads, positive sizes...). */
int mtb_config_validate(const mtb_config *cfg, const char *origin, mtb_error *err);

/* Reads a Hugging Face config.json.  Keys not listed in mtb_config are
 * ignored; a key of the wrong type, or hidden_act other than "gelu", is an
 * MTB_EINPUT error naming the file and key. */
int mtb_config_load_json(mtb_config *cfg, const char *path, mtb_error *err);

/* Writes config.json in Hugging Face's layout so transformers can read it. */
int mtb_config_save_json(const mtb_config *cfg, const char *path, mtb_error *err);

#endif
