/* The tokenizer on arbitrary bytes (invalid UTF-8, combining marks, CJK),
 * with the fixture vocabulary, and the single/pair encoders after it. */
#include "fuzz_common.h"
#include "mtbert/tokenizer.h"

static mtb_vocab *vocab;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mtb_error err = {0};
    if (!vocab && mtb_vocab_load(fuzz_fixture("fixtures/tiny-bert/vocab.txt"), &vocab, &err))
        abort();
    mtb_tokens t;
    mtb_tokens_init(&t);
    if (mtb_tokenize(vocab, (const char *)data, size, &t, &err) == 0) {
        int32_t ids[64], types[64];
        size_t n;
        size_t half = size / 2;
        mtb_encode_single(vocab, (const char *)data, size, 64, &t, ids, types, &n, &err);
        mtb_encode_pair(vocab, (const char *)data, half, (const char *)data + half, size - half,
                        64, &t, ids, types, &n, &err);
    }
    mtb_tokens_free(&t);
    return 0;
}
