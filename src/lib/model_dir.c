/* Hugging Face model folders (see model_dir.h): loading one, saving one
 * atomically through a temporary sibling (keeping the user's own files in
 * it), and recovering a folder a killed save left behind. */
#include "mtbert/model_dir.h"
#include "mtbert/file.h"
#include "finite.h"

#include <dirent.h>
#include <signal.h>
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
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
    size_t len = 0;
    for (int32_t i = 0; i < mtb_vocab_size(vocab); i++)
        len += strlen(mtb_vocab_token(vocab, i)) + 1;
    char *text = malloc(len + 1), *p = text;
    if (!text)
        return mtb_error_set(err, MTB_EFAIL, "%s: out of memory", path);
    for (int32_t i = 0; i < mtb_vocab_size(vocab); i++) {
        size_t n = strlen(mtb_vocab_token(vocab, i));
        memcpy(p, mtb_vocab_token(vocab, i), n);
        p[n] = '\n';
        p += n + 1;
    }
    int rc = mtb_write_file_atomic(path, text, len, err);
    free(text);
    return rc;
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

static bool is_checkpoint_file(const char *name);

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
        if (!is_checkpoint_file(e->d_name) &&
            mtb_path_join(to, sizeof to, new_dir, e->d_name) && lstat(to, &st) != 0 &&
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
    mtb_path_parent(dir, parent, sizeof parent);
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

    mtb_fsync_dir(tmp);

    /* Swap the finished folder in.  renameat2's RENAME_EXCHANGE swaps two
     * folders in one step, so DIR is always a complete checkpoint, the old
     * or the new.  Where the file system cannot exchange, the old folder
     * steps aside first: a crash between the two renames leaves no DIR, and
     * mtb_model_dir_recover puts the old one back. */
    char target[4096];
    snprintf(target, sizeof target, "%.*s", (int)n, dir);
    struct stat st;
    bool had_old = stat(target, &st) == 0;
    if (had_old && (rc = mtb_model_dir_check_target(target, err))) {
        remove_tree_files(tmp);
        return rc;
    }
    char parent[4096];
    mtb_path_parent(target, parent, sizeof parent);
    if (had_old && !getenv("MTBERT_NO_RENAME_EXCHANGE") &&
        renameat2(AT_FDCWD, tmp, AT_FDCWD, target, RENAME_EXCHANGE) == 0) {
        mtb_fsync_dir(parent);
        /* tmp now holds the previous checkpoint: the user's own files in it
         * move to the new one, the rest goes. */
        keep_foreign_entries(tmp, target);
        remove_tree_files(tmp);
        return MTB_OK;
    }
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
    mtb_fsync_dir(parent);
    if (had_old) {
        keep_foreign_entries(old, target);
        remove_tree_files(old);
    }
    return MTB_OK;
}

/* Names a checkpoint folder's files have; anything else in one is the user's. */
static bool is_checkpoint_file(const char *name)
{
    static const char *const known[] = {"config.json", "vocab.txt", "model.safetensors",
                                        "heads.safetensors", "mtbert.json",
                                        "optimizer.safetensors", "order.safetensors",
                                        "trainer.json"};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        size_t k = strlen(known[i]);
        /* "name.tmp.PID" is a file a killed save was writing */
        if (strncmp(name, known[i], k) == 0 && (name[k] == '\0' || strncmp(name + k, ".tmp.", 5) == 0))
            return true;
    }
    return false;
}

static bool pid_alive(long pid)
{
    return pid > 0 && pid != (long)getpid() && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

int mtb_model_dir_recover(const char *dir, char *note, size_t cap)
{
    note[0] = '\0';
    size_t used = 0;
    char target[4096], parent[4096], base[1024];
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    snprintf(target, sizeof target, "%.*s", (int)n, dir);
    mtb_path_parent(target, parent, sizeof parent);
    const char *slash = strrchr(target, '/');
    snprintf(base, sizeof base, "%.1000s", slash ? slash + 1 : target);
    const size_t bl = strlen(base);
    DIR *d = opendir(parent);
    if (!d)
        return 0;
    int count = 0;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        const char *rest = e->d_name + bl;
        if (strncmp(e->d_name, base, bl) != 0 ||
            (strncmp(rest, ".tmp-", 5) != 0 && strncmp(rest, ".old-", 5) != 0))
            continue;
        char *end;
        long pid = strtol(rest + 5, &end, 10);
        if (*end || end == rest + 5 || pid_alive(pid) || !mtb_path_join(path, sizeof path, parent, e->d_name))
            continue;
        struct stat st;
        bool restored = false;
        /* Only the fallback swap's crash window leaves no DIR: its ".old-"
         * folder was the checkpoint until then. */
        if (rest[1] == 'o' && stat(target, &st) != 0 && rename(path, target) == 0)
            restored = true;
        else {
            if (stat(target, &st) == 0) {
                /* keep the user's files that were in the leftover */
                DIR *ld = opendir(path);
                struct dirent *le;
                char from[4096], to[4096];
                while (ld && (le = readdir(ld)) != NULL)
                    if (strcmp(le->d_name, ".") && strcmp(le->d_name, "..") &&
                        !is_checkpoint_file(le->d_name) &&
                        mtb_path_join(from, sizeof from, path, le->d_name) &&
                        mtb_path_join(to, sizeof to, target, le->d_name) && lstat(to, &st) != 0)
                        rename(from, to);
                if (ld)
                    closedir(ld);
            }
            remove_tree_files(path);
        }
        count++;
        if (used < cap)
            used += (size_t)snprintf(note + used, cap - used, "%s%s %s", used ? "; " : "",
                                     restored ? "restored the checkpoint from" : "removed the "
                                     "leftover of an interrupted save,", path);
    }
    closedir(d);
    if (count)
        mtb_fsync_dir(parent);
    return count;
}
