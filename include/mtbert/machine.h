/* What a run's speed and last bits depend on, in words: the CPU, the
 * OpenBLAS build and kernel (and why that kernel), how products use the
 * cores, the thread count.  For bench, `mtbert info`, --version, the
 * workbench's log and the metrics file's first record: figures are only
 * comparable on the same kernel and precision. */
#ifndef MTBERT_MACHINE_H
#define MTBERT_MACHINE_H

#include <stddef.h>

typedef struct mtb_machine {
    char cpu[64];           /* brand string */
    char features[96];      /* "AVX2 FMA AVX-512 ..." */
    char openblas[160];     /* openblas_get_config() */
    char kernel[32];        /* the kernel running */
    const char *kernel_source; /* "openblas", "user", "raised", "kept" */
    char kernel_reason[320];
    char gemm[160];         /* mtb_gemm_describe */
    char precision[96];     /* mtb_precision_describe */
    int threads;
    long cpus_online;
} mtb_machine;

void mtb_machine_read(mtb_machine *m);
/* "AMD EPYC 7B13, 2 CPUs online; OpenBLAS 0.3.21 ..., kernel Zen (OpenBLAS's
 * choice)": one line for benchmark output. */
void mtb_machine_describe(char *buf, size_t cap);

#endif
