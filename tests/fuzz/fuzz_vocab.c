/* The vocab.txt loader, then a tokenization against whatever it loaded. */
#include "fuzz_common.h"
#include "mtbert/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("vocab.txt", data, size);
    mtb_vocab *v = NULL;
    mtb_error err = {0};
    if (mtb_vocab_load(path, &v, &err) == 0) {
        mtb_tokens t;
        mtb_tokens_init(&t);
        mtb_tokenize(v, "Hello, wörld! unaffable [UNK] 東京", strlen("Hello, wörld! unaffable [UNK] 東京"), &t, &err);
        mtb_tokens_free(&t);
        mtb_vocab_free(v);
    }
    return 0;
}
