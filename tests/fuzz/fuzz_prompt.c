/* The prompt's parser (sentences, pairs, commands) and the formatting of a
 * result for whatever it parsed. */
#include "fuzz_common.h"
#include "prompt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    memcpy(line, data, size);
    line[size] = '\0';
    prompt_cmd cmd;
    prompt_parse(line, &cmd);
    mtb_score_result r = {0};
    r.pair = cmd.kind == PROMPT_PAIR;
    char out[1024];
    prompt_format_result(&r, cmd.a, r.pair ? cmd.b : NULL, out, sizeof out);
    free(line);
    return 0;
}
