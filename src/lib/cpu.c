/* What this CPU can execute (see cpu.h), read once from cpuid and XCR0 and
 * kept for the process; its features in words for logs and `mtbert info`. */
#include "mtbert/cpu.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void detect(mtb_cpu *c)
{
    unsigned a, b, cx, d;
    if (!__get_cpuid(0, &a, &b, &cx, &d))
        return;
    const unsigned max_leaf = a;
    char vendor[13];
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &cx, 4);
    vendor[12] = '\0';
    c->vendor = strcmp(vendor, "GenuineIntel") == 0   ? MTB_CPU_INTEL
                : strcmp(vendor, "AuthenticAMD") == 0 ? MTB_CPU_AMD
                                                      : MTB_CPU_OTHER;

    __get_cpuid(1, &a, &b, &cx, &d);
    const int base_family = (int)((a >> 8) & 0xf), base_model = (int)((a >> 4) & 0xf);
    c->family = base_family == 0xf ? base_family + (int)((a >> 20) & 0xff) : base_family;
    c->model = base_family == 0x6 || base_family == 0xf ? base_model + (int)(((a >> 16) & 0xf) << 4)
                                                        : base_model;
    c->sse3 = cx & 1u;
    const bool osxsave = cx & (1u << 27);
    const uint64_t xstate = osxsave ? xcr0() : 0;
    /* XMM and YMM state (bits 1, 2); opmask, ZMM upper halves, ZMM16-31
     * (5, 6, 7); AMX tile configuration and data (17, 18). */
    const bool os_ymm = (xstate & 0x6) == 0x6;
    const bool os_zmm = os_ymm && (xstate & 0xe0) == 0xe0;
    const bool os_amx = (xstate & 0x60000) == 0x60000;
    c->avx = os_ymm && (cx & (1u << 28));
    c->fma = c->avx && (cx & (1u << 12));

    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, cx, d);
        const unsigned leaf7_b = b, leaf7_d = d, max_subleaf = a;
        c->avx2 = c->avx && (leaf7_b & (1u << 5));
        c->avx512f = os_zmm && (leaf7_b & (1u << 16));
        c->avx512dq = c->avx512f && (leaf7_b & (1u << 17));
        c->avx512cd = c->avx512f && (leaf7_b & (1u << 28));
        c->avx512bw = c->avx512f && (leaf7_b & (1u << 30));
        c->avx512vl = c->avx512f && (leaf7_b & (1u << 31));
        /* AMX-BF16 is useless without AMX-TILE (bit 24), which loads the tiles */
        c->amx_bf16 = os_amx && (leaf7_d & (1u << 22)) && (leaf7_d & (1u << 24));
        if (max_subleaf >= 1) {
            __cpuid_count(7, 1, a, b, cx, d);
            c->avx512_bf16 = c->avx512f && (a & (1u << 5));
        }
    }

    char brand[49] = "";
    if (__get_cpuid_max(0x80000000, NULL) >= 0x80000004) {
        unsigned *w = (unsigned *)brand;
        for (unsigned leaf = 0; leaf < 3; leaf++)
            __get_cpuid(0x80000002 + leaf, &w[4 * leaf], &w[4 * leaf + 1], &w[4 * leaf + 2],
                        &w[4 * leaf + 3]);
        brand[48] = '\0';
    }
    const char *s = brand + strspn(brand, " ");
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        n--;
    snprintf(c->name, sizeof c->name, "%.*s", (int)n, n ? s : vendor);
    /* it goes to terminals and into JSON: printable ASCII only */
    for (char *p = c->name; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            *p = '?';
}
#else
static void detect(mtb_cpu *c)
{
    snprintf(c->name, sizeof c->name, "unknown CPU");
}
#endif

static mtb_cpu this_cpu;
static pthread_once_t this_once = PTHREAD_ONCE_INIT;

static void detect_this(void)
{
    detect(&this_cpu);
}

const mtb_cpu *mtb_cpu_this(void)
{
    pthread_once(&this_once, detect_this);
    return &this_cpu;
}

bool mtb_cpu_has_avx512(const mtb_cpu *c)
{
    return c->avx512f && c->avx512cd && c->avx512bw && c->avx512dq && c->avx512vl;
}

bool mtb_cpu_has_bf16(const mtb_cpu *c)
{
    return c->avx512_bf16 || c->amx_bf16;
}

void mtb_cpu_features_text(const mtb_cpu *c, char *buf, size_t cap)
{
    const struct {
        bool on;
        const char *name;
    } f[] = {
        {c->avx2, "AVX2"},
        {c->fma, "FMA"},
        {mtb_cpu_has_avx512(c), "AVX-512"},
        {c->avx512_bf16, "AVX512_BF16"},
        {c->amx_bf16, "AMX-BF16"},
    };
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        if (f[i].on && used < cap)
            used += (size_t)snprintf(buf + used, cap - used, "%s%s", used ? " " : "", f[i].name);
    if (!buf[0])
        snprintf(buf, cap, c->avx ? "AVX" : c->sse3 ? "SSE3" : "baseline x86-64");
}
