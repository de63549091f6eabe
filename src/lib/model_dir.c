#include "mtbert/model_dir.h"
#include "mtbert/finite.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mtbert/checkpoint.h"
#include "mtbert/config.h"

/* dir + "/" + file; false when it does not fit (the path is then unusable). */
bool mtb_path_join(char *out, size_t cap, const char *dir, const char *file)
{
    size_t n = strlen(dir);
    int w = snprintf(out, cap, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", file);
    return w >= 0 && (size_t)w < cap;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int mtb_model_dir_load(const char *dir, mtb_bert *model, mtb_vocab **vocab, mtb_error *err)
{
    char config_path[4096], vocab_path[4096], weights_path[4096];
    struct stat st;
    if (stat(dir, &st) != 0)
        return mtb_error_set(err, MTB_EINPUT, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return mtb_error_set(err, MTB_EINPUT,
                             "%s: not a folder (expected config.json, vocab.txt and "
                             "model.safetensors inside)",
                             dir);
    if (!mtb_path_join(config_path, sizeof config_path, dir, "config.json") ||
        !mtb_path_join(vocab_path, sizeof vocab_path, dir, "vocab.txt") ||
        !mtb_path_join(weights_path, sizeof weights_path, dir, "model.safetensors"))
        return mtb_error_set(err, MTB_EINPUT, "%.200s...: path too long", dir);
    if (!file_exists(weights_path)) {
        char bin[4096];
        if (mtb_path_join(bin, sizeof bin, dir, "pytorch_model.bin") && file_exists(bin))
            return mtb_error_set(err, MTB_EINPUT,
                                 "%s: only pytorch_model.bin is present; mtbert reads "
                                 "model.safetensors (see data/README.md to convert it)",
                                 dir);
        return mtb_error_set(err, MTB_EINPUT, "%s: no model.safetensors in this folder",
                             dir);
    }

    mtb_config cfg;
    int rc = mtb_config_load_json(&cfg, config_path, err);
    if (rc)
        return rc;
    mtb_vocab *v = NULL;
    rc = mtb_vocab_load(vocab_path, &v, err);
    if (rc)
        return rc;
    const int n_tokens = (int)mtb_vocab_size(v);
    if (n_tokens != cfg.vocab_size) {
        mtb_vocab_free(v);
        return mtb_error_set(err, MTB_EINPUT, "%s has %d tokens but %s says vocab_size %d",
                             vocab_path, n_tokens, config_path, cfg.vocab_size);
    }
    mtb_bert m;
    rc = mtb_bert_init(&m, &cfg, err);
    if (!rc)
        rc = mtb_checkpoint_load_weights(&m, weights_path, err);
    const char *bad = rc ? NULL : mtb_bert_first_nonfinite(&m, m.params);
    if (bad)
        rc = mtb_error_set(err, MTB_EINPUT, "%s: tensor '%s' holds NaN or infinite values (saved "
                           "by a run that diverged?)", weights_path, bad);
    if (rc) {
        mtb_bert_free(&m);
        mtb_vocab_free(v);
        return rc;
    }
    *model = m;
    *vocab = v;
    return MTB_OK;
}

int mtb_vocab_save(const mtb_vocab *vocab, const char *path, mtb_error *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return mtb_error_set(err, MTB_EFAIL, "%s: %s", path, strerror(errno));
    for (int32_t i = 0; i < mtb_vocab_size(vocab); i++)
        fprintf(f, "%s\n", mtb_vocab_token(vocab, i));
    if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f)) {
        int e = errno;
        fclose(f);
        return mtb_error_set(err, MTB_EFAIL, "%s: %s", path, strerror(e));
    }
    if (fclose(f) != 0)
        return mtb_error_set(err, MTB_EFAIL, "%s: %s", path, strerror(errno));
    return MTB_OK;
}

/* Removes a model folder we wrote or replaced: its regular files, then the
 * folder.  Sub-folders are never descended into. */
static void remove_tree_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (mtb_path_join(path, sizeof path, dir, e->d_name) && lstat(path, &st) == 0 &&
            S_ISREG(st.st_mode))
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static bool dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

/* Files the user keeps in a run folder (a metrics log, notes) move into
 * the replacement, so a save never loses them. */
static void keep_foreign_entries(const char *old_dir, const char *new_dir)
{
    DIR *d = opendir(old_dir);
    if (!d)
        return;
    struct dirent *e;
    char from[4096], to[4096];
    struct stat st;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (mtb_path_join(to, sizeof to, new_dir, e->d_name) && lstat(to, &st) != 0 &&
            mtb_path_join(from, sizeof from, old_dir, e->d_name))
            rename(from, to);
    }
    closedir(d);
}

int mtb_model_dir_check_target(const char *dir, mtb_error *err)
{
    struct stat st;
    char marker[4096], parent[4096];
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode) ||
            ((!mtb_path_join(marker, sizeof marker, dir, "config.json") ||
              !file_exists(marker)) && !dir_is_empty(dir)))
            return mtb_error_set(err, MTB_EINPUT,
                                 "%s exists and is not a model folder; mtbert replaces only "
                                 "its own folders",
                                 dir);
        return MTB_OK;
    }
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash)
        *(slash == parent ? slash + 1 : slash) = '\0';
    else
        snprintf(parent, sizeof parent, ".");
    if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode) || access(parent, W_OK) != 0)
        return mtb_error_set(err, MTB_EINPUT, "%s: cannot create it in %s", dir, parent);
    return MTB_OK;
}

int mtb_model_dir_save(const char *dir, const mtb_bert *model, const mtb_vocab *vocab,
                       mtb_dir_writer_fn extra, void *ctx, mtb_error *err)
{
    char tmp[4096], old[4096], path[4096];
    /* A diverged model never replaces a good checkpoint. */
    const char *bad = mtb_bert_first_nonfinite(model, model->params);
    if (bad)
        return mtb_error_set(err, MTB_EFAIL, "not saving %s: tensor '%s' holds NaN or infinite "
                             "values; what %s held is kept", dir, bad, dir);
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    snprintf(tmp, sizeof tmp, "%.*s.tmp-%ld", (int)n, dir, (long)getpid());
    snprintf(old, sizeof old, "%.*s.old-%ld", (int)n, dir, (long)getpid());
    remove_tree_files(tmp);
    if (mkdir(tmp, 0755) != 0)
        return mtb_error_set(err, MTB_EFAIL, "%s: %s", tmp, strerror(errno));

    int rc = MTB_OK;
    if (!mtb_path_join(path, sizeof path, tmp, "config.json"))
        rc = mtb_error_set(err, MTB_EINPUT, "%.200s...: path too long", dir);
    if (!rc)
        rc = mtb_config_save_json(&model->cfg, path, err);
    if (!rc && mtb_path_join(path, sizeof path, tmp, "vocab.txt"))
        rc = mtb_vocab_save(vocab, path, err);
    if (!rc && mtb_path_join(path, sizeof path, tmp, "model.safetensors"))
        rc = mtb_checkpoint_save_weights(model, path, err);
    if (!rc && extra)
        rc = extra(tmp, ctx, err);
    if (rc) {
        remove_tree_files(tmp);
        return rc;
    }

    /* Swap the finished folder in: rename cannot replace a non-empty
     * folder, so the previous one steps aside first and goes last. */
    char target[4096];
    snprintf(target, sizeof target, "%.*s", (int)n, dir);
    struct stat st;
    bool had_old = stat(target, &st) == 0;
    if (had_old && (rc = mtb_model_dir_check_target(target, err))) {
        remove_tree_files(tmp);
        return rc;
    }
    if (had_old)
        keep_foreign_entries(target, tmp);
    if (had_old && rename(target, old) != 0) {
        int e = errno;
        remove_tree_files(tmp);
        return mtb_error_set(err, MTB_EFAIL, "%s: %s", target, strerror(e));
    }
    if (rename(tmp, target) != 0) {
        int e = errno;
        if (had_old)
            rename(old, target);
        remove_tree_files(tmp);
        return mtb_error_set(err, MTB_EFAIL, "%s: %s", target, strerror(e));
    }
    if (had_old)
        remove_tree_files(old);
    return MTB_OK;
}
