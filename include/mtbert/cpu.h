/* What the CPU can execute, read from cpuid.
 *
 * A feature counts only when the CPU has it and the operating system saves
 * its registers across context switches (XCR0): a kernel chosen from the
 * raw cpuid bits alone could die of SIGILL on a kernel that disabled
 * AVX-512 or AMX.  OpenBLAS's kernel choice (blas_kernel.h) and the
 * precision choice read this; nothing here depends on OpenBLAS. */
#ifndef MTBERT_CPU_H
#define MTBERT_CPU_H

#include <stdbool.h>
#include <stddef.h>

typedef enum mtb_cpu_vendor {
    MTB_CPU_OTHER,
    MTB_CPU_INTEL,
    MTB_CPU_AMD,
} mtb_cpu_vendor;

typedef struct mtb_cpu {
    mtb_cpu_vendor vendor;
    int family, model; /* as /proc/cpuinfo prints them (extended fields folded in) */
    char name[64];     /* the brand string, spaces trimmed */
    bool sse3, avx, fma, avx2;
    bool avx512f, avx512cd, avx512bw, avx512dq, avx512vl;
    bool avx512_bf16, amx_bf16;
} mtb_cpu;

/* This machine's CPU, read once; the same answer on every call. */
const mtb_cpu *mtb_cpu_this(void);

/* The set OpenBLAS's SkylakeX kernels need (F, CD, BW, DQ, VL). */
bool mtb_cpu_has_avx512(const mtb_cpu *cpu);
/* Native bf16 dot products: AVX512_BF16 or AMX-BF16. */
bool mtb_cpu_has_bf16(const mtb_cpu *cpu);

/* "AVX2 FMA AVX-512 AVX512_BF16 AMX-BF16": the features that decide
 * kernels and precision, for messages and the metrics file. */
void mtb_cpu_features_text(const mtb_cpu *cpu, char *buf, size_t cap);

#endif
