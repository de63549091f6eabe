/* The method registry: every merge method mtbert offers, in the order
 * --help lists them, looked up by name or index; the trainer's modes, which
 * are numbered after it; and the methods' default parameters.  Adding a
 * method is its file in this folder and its line in the table below. */
#include <stdio.h>
#include <string.h>

#include "mtbert/merge.h"

static const mtb_merge_method *const registry[] = {
    &mtb_method_sum,    &mtb_method_pcgrad,  &mtb_method_mgda,    &mtb_method_cagrad,
    &mtb_method_gradvac, &mtb_method_imtl,   &mtb_method_nashmtl, &mtb_method_aligned,
    &mtb_method_upgrad, &mtb_method_uw,      &mtb_method_dwa,     &mtb_method_famo,
};
#define N_METHODS ((int)(sizeof registry / sizeof registry[0]))

int mtb_merge_count(void) { return N_METHODS; }

const mtb_merge_method *mtb_merge_at(int i)
{
    return i >= 0 && i < N_METHODS ? registry[i] : NULL;
}

const mtb_merge_method *mtb_merge_find(const char *name)
{
    for (int i = 0; name && i < N_METHODS; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

int mtb_merge_index(const mtb_merge_method *m)
{
    for (int i = 0; i < N_METHODS; i++)
        if (registry[i] == m)
            return i;
    return -1;
}

const char *mtb_merge_names(char *buf, size_t cap)
{
    size_t used = 0;
    if (cap)
        buf[0] = '\0';
    for (int i = 0; i < N_METHODS && used < cap; i++) {
        int w = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", registry[i]->name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

/* The trainer's modes: single-task, or 1 + a method's index here. */
int mtb_mode_parse(const char *text, mtb_mode *mode, mtb_task *single_task)
{
    const mtb_merge_method *m = mtb_merge_find(text);
    if (m) {
        *mode = (mtb_mode)(1 + mtb_merge_index(m));
        return 0;
    }
    if (strncmp(text, "single:", 7) == 0) {
        int t = mtb_task_parse(text + 7);
        if (t < 0)
            return -1;
        *mode = MTB_MODE_SINGLE;
        *single_task = (mtb_task)t;
        return 0;
    }
    return -1;
}

const mtb_merge_method *mtb_mode_method(mtb_mode mode)
{
    return mode == MTB_MODE_SINGLE ? NULL : mtb_merge_at((int)mode - 1);
}

const char *mtb_mode_name(mtb_mode mode, mtb_task single_task, char *buf, size_t cap)
{
    const mtb_merge_method *m = mtb_mode_method(mode);
    if (m)
        snprintf(buf, cap, "%s", m->name);
    else
        snprintf(buf, cap, "single:%s", mtb_task_name(single_task));
    return buf;
}

void mtb_merge_params_defaults(mtb_merge_params *p)
{
    p->cagrad_c = 0.4;        /* Liu et al. 2021, their experiments' c */
    p->gradvac_beta = 0.01;   /* Wang et al. 2021 */
    p->uw_lr = 0.0;           /* the log-variances train with the model's optimizer */
    p->dwa_temperature = 2.0; /* Liu et al. 2019 */
    p->famo_lr = 0.025;       /* Liu et al. 2023 */
    p->famo_decay = 0.001;
}
