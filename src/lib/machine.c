/* A run's machine in words (see machine.h): CPU, OpenBLAS build and
 * kernel, how products use the cores and the thread count, read once for
 * bench, `mtbert info`, --version and the metrics file. */
#include "mtbert/machine.h"

#include <cblas.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mtbert/blas_kernel.h"
#include "mtbert/cpu.h"
#include "mtbert/gemm.h"
#include "mtbert/parallel.h"
#include "mtbert/precision.h"

static const char *source_name(mtb_kernel_source s)
{
    switch (s) {
    case MTB_KERNEL_USER: return "user";
    case MTB_KERNEL_RAISED: return "raised";
    case MTB_KERNEL_KEPT: return "kept";
    default: return "openblas";
    }
}

void mtb_machine_read(mtb_machine *m)
{
    memset(m, 0, sizeof *m);
    const mtb_cpu *cpu = mtb_cpu_this();
    snprintf(m->cpu, sizeof m->cpu, "%s", cpu->name);
    mtb_cpu_features_text(cpu, m->features, sizeof m->features);
    snprintf(m->openblas, sizeof m->openblas, "%s", openblas_get_config());
    const mtb_kernel_choice *k = mtb_blas_kernel_current();
    snprintf(m->kernel, sizeof m->kernel, "%s", openblas_get_corename());
    m->kernel_source = source_name(k->source);
    snprintf(m->kernel_reason, sizeof m->kernel_reason, "%s", k->reason);
    mtb_gemm_describe(m->gemm, sizeof m->gemm);
    mtb_precision_describe(m->precision, sizeof m->precision);
    m->threads = mtb_thread_count();
    m->cpus_online = sysconf(_SC_NPROCESSORS_ONLN);
}

void mtb_machine_describe(char *buf, size_t cap)
{
    mtb_machine m;
    mtb_machine_read(&m);
    snprintf(buf, cap, "%s (%s), %ld CPUs online; %s; kernel %s: %s; products: %s; precision %s",
             m.cpu, m.features, m.cpus_online, m.openblas, m.kernel, m.kernel_reason, m.gemm,
             m.precision);
}
