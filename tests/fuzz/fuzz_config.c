/* A model folder's config.json: parsing, validation and the size bounds,
 * then (when it is valid and small) building the model it describes. */
#include "fuzz_common.h"
#include "mtbert/bert.h"
#include "mtbert/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("config.json", data, size);
    mtb_config cfg;
    mtb_error err = {0};
    if (mtb_config_load_json(&cfg, path, &err) == 0 &&
        (double)cfg.vocab_size * cfg.hidden_size < 1e6 && cfg.num_layers <= 4 &&
        (double)cfg.hidden_size * cfg.intermediate_size < 1e6 && cfg.max_position <= 512) {
        mtb_bert m;
        if (mtb_bert_init(&m, &cfg, &err) == 0)
            mtb_bert_free(&m);
    }
    return 0;
}
