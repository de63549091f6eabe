/* The safetensors reader: header parsing, offsets, dtypes, and reading every
 * tensor it accepted as float32. */
#include "fuzz_common.h"
#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("model.safetensors", data, size);
    mtb_safetensors *st = NULL;
    mtb_error err = {0};
    if (mtb_st_open(&st, path, &err) == 0) {
        for (int i = 0; i < mtb_st_count(st); i++) {
            const mtb_st_tensor *t = mtb_st_tensor_at(st, i);
            if (t->numel <= (1u << 20)) {
                float *buf = malloc((t->numel ? t->numel : 1) * sizeof(float));
                mtb_st_read_f32(st, i, buf, t->numel, &err);
                free(buf);
            }
        }
        mtb_st_close(st);
    }
    return 0;
}
