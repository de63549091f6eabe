/* mtbert info: what this machine gives a run, and why. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mtbert/blas_kernel.h"
#include "mtbert/cpu.h"
#include "mtbert/gemm.h"
#include "mtbert/machine.h"
#include "mtbert/parallel.h"
#include "mtbert/precision.h"

static void usage(FILE *out)
{
    fputs("Usage: mtbert info [--threads N] [--precision P]\n"
          "\n"
          "Prints what decides a run's speed on this machine: the CPU and the\n"
          "features mtbert uses, the OpenBLAS build and the kernel it runs (and\n"
          "why: OpenBLAS's own choice, OPENBLAS_CORETYPE from the environment, or\n"
          "a better kernel mtbert chose where OpenBLAS fell back), how large\n"
          "products use the cores (MTBERT_GEMM) and where the timed plan is kept,\n"
          "and the precision the products get (bf16 units, oneDNN).\n"
          "\n"
          "  --threads N     compute threads to describe (default: all cores)\n"
          "  --precision P   fp32, bf16 or auto (default): what a run asking for it gets\n"
          "  -h, --help      show this help\n",
          out);
}

void cli_print_kernel_line(FILE *out)
{
    const mtb_kernel_choice *k = mtb_blas_kernel_current();
    fprintf(out, "kernel     %s: %s\n", k->kernel, k->reason);
}

int cmd_info(int argc, char **argv)
{
    int threads = 0, precision = MTB_PRECISION_AUTO;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return FE_OK;
        }
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            if (!fe_parse_int(argv[++i], 1, 1024, &threads))
                return fe_usage_error("info", "--threads must be an integer in 1..1024");
            continue;
        }
        if (strcmp(argv[i], "--precision") == 0 && i + 1 < argc) {
            if ((precision = fe_parse_precision("info", argv[++i])) < 0)
                return FE_USAGE;
            continue;
        }
        return fe_bad_option("info", argv[i]);
    }
    mtb_set_threads(threads);
    char note[320];
    mtb_precision_set((mtb_precision)precision, note, sizeof note);
    mtb_machine m;
    mtb_machine_read(&m);
    const mtb_cpu *cpu = mtb_cpu_this();
    printf("mtbert     %s\n", MTBERT_VERSION);
    printf("cpu        %s (family %d, model %d): %s\n", m.cpu, cpu->family, cpu->model,
           m.features);
    printf("threads    %d (%ld CPUs online)\n", m.threads, m.cpus_online);
    printf("openblas   %s\n", m.openblas);
    cli_print_kernel_line(stdout);
    char path[4096];
    mtb_gemm_default_cache_path(path, sizeof path);
    if (mtb_gemm_get_mode() == MTB_GEMM_AUTO && m.threads > 1) {
        char err[256] = "";
        const int shapes = mtb_gemm_use_cache(path, err, sizeof err);
        mtb_gemm_describe(m.gemm, sizeof m.gemm);
        if (shapes < 0)
            printf("products   %s (plan %s)\n", m.gemm, err);
        else
            printf("products   %s (plan %s%s)\n", m.gemm, path,
                   shapes == 0 ? ", not written yet: the first run times its products" : "");
    } else {
        printf("products   %s\n", m.gemm);
    }
    printf("precision  %s\n", strncmp(note, "precision ", 10) == 0 ? note + 10 : note);
    return FE_OK;
}
