/* The OpenBLAS kernel mtbert runs (see blas_kernel.h): the kernel the CPU
 * deserves, the restart with OPENBLAS_CORETYPE where OpenBLAS fell below
 * it, and the product with an exact answer a raised kernel must pass. */
#include "mtbert/blas_kernel.h"

#include <cblas.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Set across the restart: "KERNEL FROM", the kernel mtbert asked for and
 * the one OpenBLAS had chosen.  Together with OPENBLAS_CORETYPE=KERNEL it
 * tells the restarted process (and any child) that the variable is
 * mtbert's, not the user's. */
#define RAISED_ENV "MTBERT_OPENBLAS_RAISED"
/* Set when a raised kernel failed the self-check: "KERNEL FROM". */
#define REVERTED_ENV "MTBERT_OPENBLAS_REVERTED"
#define TEST_KERNEL_ENV "MTBERT_TEST_OPENBLAS_KERNEL"

/* OpenBLAS 0.3.21's x86-64 kernels by the instruction set their sgemm uses. */
static const struct {
    const char *name;
    int tier;
} kernels[] = {
    {"Katmai", 1},    {"Coppermine", 1},   {"Northwood", 1}, {"Prescott", 1},
    {"Banias", 1},    {"Atom", 1},         {"Core2", 1},     {"Penryn", 1},
    {"Dunnington", 1}, {"Nehalem", 1},     {"Athlon", 1},    {"Opteron", 1},
    {"Opteron_SSE3", 1}, {"Barcelona", 1}, {"Nano", 1},      {"Bobcat", 1},
    {"Sandybridge", 2}, {"Bulldozer", 2},  {"Piledriver", 2}, {"Steamroller", 2},
    {"Excavator", 2}, {"Haswell", 3},      {"Zen", 3},       {"SkylakeX", 4},
    {"Cooperlake", 4}, {"SapphireRapids", 4},
};

int mtb_blas_kernel_tier(const char *kernel)
{
    if (!kernel)
        return 0;
    for (size_t i = 0; i < sizeof kernels / sizeof *kernels; i++)
        if (strcasecmp(kernel, kernels[i].name) == 0)
            return kernels[i].tier;
    return 0;
}

const char *mtb_blas_kernel_best(const mtb_cpu *cpu)
{
    if (mtb_cpu_has_avx512(cpu))
        return cpu->avx512_bf16 ? "Cooperlake" : "SkylakeX";
    if (cpu->avx2 && cpu->fma)
        return cpu->vendor == MTB_CPU_AMD ? "Zen" : "Haswell";
    if (cpu->avx)
        return "Sandybridge";
    return NULL;
}

/* A kernel name, from OpenBLAS or from the environment: it reaches terminals
 * and the metrics file, so anything but a name's characters becomes '?'. */
static void copy_name(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src && src[0] ? src : "unknown");
    for (char *p = dst; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            *p = '?';
}

void mtb_blas_kernel_decide(const mtb_cpu *cpu, const char *openblas_kernel,
                            const char *user_coretype, mtb_kernel_choice *out)
{
    memset(out, 0, sizeof *out);
    copy_name(out->openblas, sizeof out->openblas, openblas_kernel);
    copy_name(out->kernel, sizeof out->kernel, openblas_kernel);
    char features[96];
    mtb_cpu_features_text(cpu, features, sizeof features);
    const char *best = mtb_blas_kernel_best(cpu);
    const int chosen_tier = mtb_blas_kernel_tier(openblas_kernel);
    const bool below = best && chosen_tier > 0 && chosen_tier < mtb_blas_kernel_tier(best);

    if (user_coretype && user_coretype[0]) {
        out->source = MTB_KERNEL_USER;
        char user[32];
        copy_name(user, sizeof user, user_coretype);
        int n = snprintf(out->reason, sizeof out->reason,
                         "OPENBLAS_CORETYPE=%s is set in the environment, so OpenBLAS runs %s",
                         user, out->kernel);
        if (below && n > 0 && (size_t)n < sizeof out->reason)
            snprintf(out->reason + n, sizeof out->reason - (size_t)n,
                     "; this CPU (%s) could run %s", features, best);
        return;
    }
    if (below) {
        out->source = MTB_KERNEL_RAISED;
        copy_name(out->kernel, sizeof out->kernel, best);
        snprintf(out->reason, sizeof out->reason,
                 "OpenBLAS chose %s, a fallback below what this CPU runs (%s): mtbert uses %s",
                 out->openblas, features, best);
        return;
    }
    out->source = MTB_KERNEL_OPENBLAS;
    if (chosen_tier == 0)
        snprintf(out->reason, sizeof out->reason,
                 "OpenBLAS chose %s, a kernel newer than mtbert knows; kept", out->openblas);
    else
        snprintf(out->reason, sizeof out->reason,
                 "OpenBLAS chose %s, the best kernel for this CPU (%s)", out->openblas, features);
}

/* Small integers keep every product and sum exact in float, so the answer
 * is known bit for bit.  Two sizes: OpenBLAS sends small products to
 * separate kernels. */
static bool check_product(int M, int N, int K, bool trans_b)
{
    float *A = malloc(sizeof(float) * (size_t)M * K);    /* (M, K) */
    float *B = malloc(sizeof(float) * (size_t)K * N);    /* (K, N), or (N, K) transposed */
    float *C = malloc(sizeof(float) * (size_t)M * N);    /* (M, N) */
    bool ok = A && B && C;
    if (ok) {
        for (int i = 0; i < M; i++)
            for (int k = 0; k < K; k++)
                A[(size_t)i * K + k] = (float)((i * 7 + k * 3) % 9 - 4);
        for (int k = 0; k < K; k++)
            for (int j = 0; j < N; j++)
                B[trans_b ? (size_t)j * K + k : (size_t)k * N + j] =
                    (float)((k * 5 + j * 11) % 7 - 3);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K,
                    1.0f, A, K, B, trans_b ? K : N, 0.0f, C, N);
        for (int i = 0; ok && i < M; i++)
            for (int j = 0; ok && j < N; j++) {
                long want = 0;
                for (int k = 0; k < K; k++)
                    want += (long)((i * 7 + k * 3) % 9 - 4) * ((k * 5 + j * 11) % 7 - 3);
                ok = C[(size_t)i * N + j] == (float)want;
            }
    }
    free(A);
    free(B);
    free(C);
    return ok;
}

bool mtb_blas_kernel_selfcheck(void)
{
    return check_product(67, 45, 83, false) && check_product(150, 130, 120, true) &&
           check_product(150, 130, 120, false);
}

static mtb_kernel_choice current;
static bool applied;
static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;

/* Restarts the program with the environment as it now is; returns only if
 * that failed, with errno set. */
static void restart(char **argv)
{
    fflush(NULL);
    execv("/proc/self/exe", argv);
}

/* The restarted process: OPENBLAS_CORETYPE is mtbert's.  Confirms that
 * OpenBLAS took the kernel and that it computes right. */
static void after_restart(char **argv, const char *asked, const char *from)
{
    const char *running = openblas_get_corename();
    char features[96];
    mtb_cpu_features_text(mtb_cpu_this(), features, sizeof features);
    copy_name(current.openblas, sizeof current.openblas, from);
    copy_name(current.kernel, sizeof current.kernel, running);
    if (strcasecmp(running, asked) != 0) {
        current.source = MTB_KERNEL_KEPT;
        snprintf(current.reason, sizeof current.reason,
                 "OpenBLAS chose %s, a fallback below what this CPU runs (%s); mtbert asked for "
                 "%s but OpenBLAS runs %s",
                 from, features, asked, running);
        return;
    }
    if (!mtb_blas_kernel_selfcheck() && argv) {
        char value[80];
        snprintf(value, sizeof value, "%s %s", asked, from);
        setenv(REVERTED_ENV, value, 1);
        unsetenv(RAISED_ENV);
        unsetenv("OPENBLAS_CORETYPE");
        restart(argv);
        fprintf(stderr, "mtbert: OpenBLAS's %s kernel failed its self-check and mtbert could "
                        "not restart on %s: %s\n", asked, from, strerror(errno));
    }
    current.source = MTB_KERNEL_RAISED;
    snprintf(current.reason, sizeof current.reason,
             "OpenBLAS chose %s, a fallback below what this CPU runs (%s): mtbert restarted it "
             "on %s",
             from, features, running);
}

/* Splits "KERNEL FROM" into its two names. */
static bool parse_pair(const char *value, char *kernel, char *from, size_t cap)
{
    if (!value)
        return false;
    const char *space = strchr(value, ' ');
    if (!space || (size_t)(space - value) >= cap || strlen(space + 1) >= cap)
        return false;
    snprintf(kernel, cap, "%.*s", (int)(space - value), value);
    snprintf(from, cap, "%s", space + 1);
    return kernel[0] && from[0];
}

static void apply_locked(char **argv)
{
    const char *user = getenv("OPENBLAS_CORETYPE");
    const char *running = openblas_get_corename();
    char asked[32], from[32];

    if (parse_pair(getenv(RAISED_ENV), asked, from, sizeof asked) && user &&
        strcasecmp(user, asked) == 0) {
        after_restart(argv, asked, from);
        return;
    }
    if (parse_pair(getenv(REVERTED_ENV), asked, from, sizeof asked) && !user) {
        current.source = MTB_KERNEL_KEPT;
        copy_name(current.kernel, sizeof current.kernel, running);
        copy_name(current.openblas, sizeof current.openblas, from);
        snprintf(current.reason, sizeof current.reason,
                 "OpenBLAS chose %s; %s, which this CPU runs, failed a self-check product, so "
                 "OpenBLAS's choice is kept",
                 from, asked);
        return;
    }
    const char *test_kernel = getenv(TEST_KERNEL_ENV);
    mtb_blas_kernel_decide(mtb_cpu_this(), test_kernel && test_kernel[0] ? test_kernel : running,
                           user, &current);
    if (current.source != MTB_KERNEL_RAISED)
        return;
    if (!argv) {
        /* a library user that never asked for the restart: report only */
        current.source = MTB_KERNEL_KEPT;
        copy_name(current.kernel, sizeof current.kernel, running);
        size_t n = strlen(current.reason);
        snprintf(current.reason + n, sizeof current.reason - n,
                 "; not applied (mtb_blas_kernel_apply was not called)");
        return;
    }
    char value[80];
    snprintf(value, sizeof value, "%s %s", current.kernel, current.openblas);
    setenv("OPENBLAS_CORETYPE", current.kernel, 1);
    setenv(RAISED_ENV, value, 1);
    restart(argv);
    const int err = errno;
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv(RAISED_ENV);
    current.source = MTB_KERNEL_KEPT;
    copy_name(current.kernel, sizeof current.kernel, running);
    size_t n = strlen(current.reason);
    snprintf(current.reason + n, sizeof current.reason - n, "; could not restart (%s), so %s runs",
             strerror(err), running);
}

void mtb_blas_kernel_apply(char **argv)
{
    pthread_mutex_lock(&current_lock);
    if (!applied) {
        apply_locked(argv);
        applied = true;
    }
    pthread_mutex_unlock(&current_lock);
}

const mtb_kernel_choice *mtb_blas_kernel_current(void)
{
    mtb_blas_kernel_apply(NULL);
    return &current;
}
