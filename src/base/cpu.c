/* cpu.c - CPUID and XGETBV (see cpu.h). An instruction set counts only when
 * the processor has it and the operating system saves its registers: XCR0
 * bits 1-2 (SSE, AVX), 5-7 (AVX-512) and 17-18 (AMX tiles). Linux also asks
 * a process to request the AMX state before its first tile instruction
 * (arch_prctl ARCH_REQ_XCOMP_PERM); oneDNN does that itself. */
#include "base/cpu.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xgetbv0(void)
{
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif

static ds_cpu cpu;
static char flags[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void add_flag(int on, const char *name)
{
    if (on)
        snprintf(flags + strlen(flags), sizeof flags - strlen(flags), "%s%s", *flags ? " " : "",
                 name);
}

static void probe(void)
{
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d, max = __get_cpuid_max(0, NULL);
    int osxsave = 0, f16c = 0, fma = 0;
    if (max >= 1 && __get_cpuid(1, &a, &b, &c, &d)) {
        osxsave = (c >> 27) & 1;
        fma = (c >> 12) & 1;
        f16c = (c >> 29) & 1;
    }
    unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
    int os_avx = (xcr0 & 0x6) == 0x6, os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0,
        os_amx = (xcr0 & 0x60000) == 0x60000;
    if (max >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        cpu.avx2 = os_avx && ((b >> 5) & 1);
        cpu.fma = os_avx && fma;
        cpu.f16c = os_avx && f16c;
        cpu.avx512f = os_avx512 && ((b >> 16) & 1);
        cpu.avx512bw = os_avx512 && ((b >> 30) & 1);
        cpu.avx512vl = os_avx512 && ((b >> 31) & 1);
        cpu.avx512_vnni = os_avx512 && ((c >> 11) & 1);
        cpu.amx_bf16 = os_amx && ((d >> 22) & 1);
        cpu.amx_tile = os_amx && ((d >> 24) & 1);
        cpu.amx_int8 = os_amx && ((d >> 25) & 1);
        __cpuid_count(7, 1, a, b, c, d);
        cpu.avx_vnni = os_avx && ((a >> 4) & 1);
        cpu.avx512_bf16 = os_avx512 && ((a >> 5) & 1);
    }
    unsigned ext = __get_cpuid_max(0x80000000u, NULL);
    if (ext >= 0x80000004u) {
        for (unsigned leaf = 0; leaf < 3; leaf++) {
            unsigned r[4];
            __get_cpuid(0x80000002u + leaf, &r[0], &r[1], &r[2], &r[3]);
            memcpy(cpu.brand + leaf * 16, r, 16);
        }
        cpu.brand[48] = '\0';
    }
#endif
    /* The brand string is padded with spaces on some processors. */
    char *s = cpu.brand;
    while (*s == ' ')
        s++;
    memmove(cpu.brand, s, strlen(s) + 1);
    for (size_t n = strlen(cpu.brand); n > 0 && cpu.brand[n - 1] == ' '; n--)
        cpu.brand[n - 1] = '\0';
    add_flag(cpu.avx2, "avx2");
    add_flag(cpu.fma, "fma");
    add_flag(cpu.f16c, "f16c");
    add_flag(cpu.avx512f, "avx512f");
    add_flag(cpu.avx512bw, "avx512bw");
    add_flag(cpu.avx512vl, "avx512vl");
    add_flag(cpu.avx512_vnni, "avx512_vnni");
    add_flag(cpu.avx_vnni, "avx_vnni");
    add_flag(cpu.avx512_bf16, "avx512_bf16");
    add_flag(cpu.amx_tile, "amx_tile");
    add_flag(cpu.amx_bf16, "amx_bf16");
    add_flag(cpu.amx_int8, "amx_int8");
}

const ds_cpu *ds_cpu_get(void)
{
    pthread_once(&once, probe);
    return &cpu;
}

const char *ds_cpu_flags(void)
{
    pthread_once(&once, probe);
    return flags;
}
