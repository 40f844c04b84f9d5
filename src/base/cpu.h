/* cpu.h - what this processor can do, from CPUID (and what the kernel lets
 * a process use, from XGETBV), read once. The machines dinoseek runs on
 * change (AMD without AVX-512, Zen 4 with AVX-512 BF16 and VNNI, Intel with
 * AMX), so every choice of a code path is made at run time from here.
 */
#ifndef DS_CPU_H
#define DS_CPU_H

typedef struct ds_cpu {
    int avx2, fma, f16c;          /* x86-64-v3 */
    int avx512f, avx512bw, avx512vl;
    int avx512_vnni;              /* vpdpbusd: int8 dot products on 512-bit vectors */
    int avx_vnni;                 /* the same on 256-bit vectors (Alder Lake and later) */
    int avx512_bf16;              /* vdpbf16ps: bf16 dot products, f32 sums */
    int amx_tile, amx_bf16, amx_int8; /* the tile unit (Sapphire Rapids and later) */
    char brand[49];               /* "AMD EPYC 9R14 96-Core Processor" */
} ds_cpu;

/* This machine's (read on the first call; thread-safe after that). */
const ds_cpu *ds_cpu_get(void);

/* The flags above that are set, space-separated, e.g. "avx2 fma f16c
 * avx512f avx512_bf16" (for logs and benchmarks). */
const char *ds_cpu_flags(void);

#endif
