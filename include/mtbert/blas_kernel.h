/* Which OpenBLAS kernel runs, and why.
 *
 * A DYNAMIC_ARCH OpenBLAS picks its kernels by CPU model when it loads.  A
 * release older than the CPU does not know the model and falls back to its
 * baseline (Debian's 0.3.21 runs Prescott's SSE3 kernels on an Emerald
 * Rapids Xeon: a quarter of the speed, silently).  mtbert compares that
 * choice with what the CPU can execute (cpu.h) and, where OpenBLAS fell
 * below it, restarts itself with OPENBLAS_CORETYPE naming the right kernel:
 * OpenBLAS reads the variable only when it loads, so no call made later in
 * the process could change it.
 *
 * The user's own OPENBLAS_CORETYPE always wins (some machines set it
 * because a kernel computes wrong results there), a kernel the CPU cannot
 * execute is never chosen, and a name mtbert does not know (a newer
 * OpenBLAS) is trusted.  A raised kernel must pass a product with an exact
 * answer before it is used; if it fails, mtbert restarts once more on
 * OpenBLAS's own choice and says so. */
#ifndef MTBERT_BLAS_KERNEL_H
#define MTBERT_BLAS_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

#include "mtbert/cpu.h"

typedef enum mtb_kernel_source {
    MTB_KERNEL_OPENBLAS, /* OpenBLAS's own choice, the best for this CPU */
    MTB_KERNEL_USER,     /* OPENBLAS_CORETYPE from the user's environment */
    MTB_KERNEL_RAISED,   /* OpenBLAS fell back; mtbert chose a better one */
    MTB_KERNEL_KEPT,     /* a better one was wanted but could not be used */
} mtb_kernel_source;

typedef struct mtb_kernel_choice {
    mtb_kernel_source source;
    char kernel[32];   /* the kernel to run (the one running, once applied) */
    char openblas[32]; /* what OpenBLAS chose by itself */
    char reason[320];  /* one sentence for logs, bench and the metrics file */
} mtb_kernel_choice;

/* 1 SSE-class, 2 AVX, 3 AVX2, 4 AVX-512; 0 for a name mtbert does not know. */
int mtb_blas_kernel_tier(const char *kernel);
/* The best kernel of OpenBLAS 0.3.21 for this CPU's features and vendor;
 * NULL where the CPU has no AVX (nothing to raise). */
const char *mtb_blas_kernel_best(const mtb_cpu *cpu);

/* The decision alone, from the CPU's features, the kernel OpenBLAS chose
 * and the user's OPENBLAS_CORETYPE (NULL or "" when unset).  Pure, so it is
 * tested on every machine against every CPU. */
void mtb_blas_kernel_decide(const mtb_cpu *cpu, const char *openblas_kernel,
                            const char *user_coretype, mtb_kernel_choice *out);

/* Applies the decision for this process.  Call it first in main(), before
 * any thread or BLAS call: where a better kernel is wanted it re-executes
 * the program (argv unchanged) and does not return.  Later calls return at
 * once.  The environment variable MTBERT_TEST_OPENBLAS_KERNEL, for tests,
 * stands in for OpenBLAS's own choice. */
void mtb_blas_kernel_apply(char **argv);
/* The choice in force: what mtb_blas_kernel_apply decided, or, in a program
 * that never called it, the decision without the restart. */
const mtb_kernel_choice *mtb_blas_kernel_current(void);

/* A product with an exact answer, through the kernels in use: false when
 * they compute it wrong. */
bool mtb_blas_kernel_selfcheck(void);

#endif
