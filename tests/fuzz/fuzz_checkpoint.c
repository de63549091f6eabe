/* Restoring a training checkpoint: the first byte picks which of its files
 * the input replaces (trainer.json, mtbert.json, heads.safetensors,
 * optimizer.safetensors, order.safetensors); the model is loaded, the
 * trainer restored and, when both succeed, one step is taken. */
#include "fuzz_common.h"
#include "mtbert/multitask.h"
#include "mtbert/trainer.h"

static const char *const files[] = {"trainer.json", "mtbert.json", "heads.safetensors",
                                    "optimizer.safetensors", "order.safetensors"};
enum { N_FILES = sizeof files / sizeof *files };
static char ckpt[128];
static char *original[N_FILES];
static size_t original_len[N_FILES];
static mtb_dataset train[MTB_N_TASKS];

static void read_whole(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0)
        abort();
    *len = (size_t)ftell(f);
    rewind(f);
    *buf = malloc(*len + 1);
    if (fread(*buf, 1, *len, f) != *len)
        abort();
    fclose(f);
}

static void write_whole(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
        abort();
}

static mtb_trainer *make_trainer(mtb_multitask *mt)
{
    mtb_train_options opt;
    mtb_train_options_defaults(&opt);
    opt.max_len = 16;
    opt.epochs = 0;
    opt.max_steps = 4;
    for (int t = 0; t < MTB_N_TASKS; t++)
        opt.batch[t] = 2;
    const mtb_dataset *tp[MTB_N_TASKS] = {&train[0], &train[1], &train[2]};
    mtb_trainer *tr;
    mtb_error err = {0};
    if (mtb_trainer_create(&tr, mt, &opt, tp, NULL, &err))
        abort();
    return tr;
}

static void setup_once(void)
{
    static const char *names[] = {"sst-train.csv", "para-train.csv", "sts-train.csv"};
    mtb_error err = {0};
    for (int t = 0; t < MTB_N_TASKS; t++) {
        mtb_dataset_init(&train[t], (mtb_task)t);
        char rel[128];
        snprintf(rel, sizeof rel, "../data/demo/%s", names[t]);
        if (mtb_dataset_load(&train[t], fuzz_fixture(rel), true, &err))
            abort();
    }
    mtb_multitask mt;
    mtb_rng rng;
    mtb_rng_seed(&rng, 1);
    bool has_heads;
    if (mtb_multitask_load(&mt, fuzz_fixture("fixtures/tiny-bert"), MTB_POOL_CLS, 0.1f, &rng,
                           &has_heads, &err))
        abort();
    mtb_trainer *tr = make_trainer(&mt);
    float loss[MTB_N_TASKS];
    mtb_trainer_step(tr, NULL, loss, NULL);
    snprintf(ckpt, sizeof ckpt, "%s/ckpt", fuzz_tmp());
    if (mtb_trainer_save(tr, ckpt, &err))
        abort();
    mtb_trainer_destroy(tr);
    mtb_multitask_free(&mt);
    for (int i = 0; i < N_FILES; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", ckpt, files[i]);
        read_whole(path, &original[i], &original_len[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ckpt[0])
        setup_once();
    if (size < 1)
        return 0;
    const int which = data[0] % N_FILES;
    char path[256];
    snprintf(path, sizeof path, "%s/%s", ckpt, files[which]);
    write_whole(path, data + 1, size - 1);

    mtb_multitask mt;
    mtb_rng rng;
    mtb_rng_seed(&rng, 2);
    bool has_heads;
    mtb_error err = {0};
    if (mtb_multitask_load(&mt, ckpt, MTB_POOL_CLS, 0.1f, &rng, &has_heads, &err) == 0) {
        mtb_trainer *tr = make_trainer(&mt);
        if (mtb_trainer_restore(tr, ckpt, &err) == 0) {
            float loss[MTB_N_TASKS];
            mtb_trainer_step(tr, NULL, loss, NULL);
        }
        mtb_trainer_destroy(tr);
        mtb_multitask_free(&mt);
    }
    write_whole(path, original[which], original_len[which]);
    return 0;
}
