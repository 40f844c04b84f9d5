/* embed.c - how fast is the DINOv2 forward pass, against the machine's own
 * limit and against PyTorch, measured side by side in one run.
 *
 *   build/bench/embed [--quick] [--no-torch] [--seconds S] [--threads N]
 *                     [--precisions f32,bf16,bf16x2]
 *
 * For each configuration (model, input size, batch, threads) it prints:
 *   - C: ms per image and images per second (median batch time / batch);
 *   - the sgemm roofline: this machine's cblas_sgemm rate on 2048x2048
 *     matrices with the same threads, measured right before, and the share
 *     of it the model reaches (model GFLOPs / time / sgemm rate);
 *   - PyTorch (transformers Dinov2Model) on the same weights and threads,
 *     measured right after by bench/torch_embed.py, and the speed ratio.
 * Each C row is run in every precision asked for (default: f32 and each
 * reduced one this CPU runs natively), with the CLS cosine against f32 on
 * the same input. Then where the C time went (GEMM, attention, LayerNorm, GELU, ...) and
 * the cost of preprocessing an image. The machine is shared and noisy:
 * compare the ratios, which are measured within seconds of each other.
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cpu.h"
#include "base/prng.h"
#include "image/image.h"
#include "model/generate.h"
#include "model/ops.h"
#include "model/vit.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* GFLOPS of cblas_sgemm on n x n matrices with the current thread count:
 * the median of 5 after a warm-up. */
static double sgemm_gflops(int n)
{
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
          *c = malloc(sizeof(float) * n * n);
    for (long i = 0; i < (long)n * n; i++) {
        a[i] = (float)(i % 17) * 0.01f;
        b[i] = (float)(i % 13) * 0.01f;
    }
    double t[5];
    for (int r = -1; r < 5; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f,
                    c, n);
        if (r >= 0)
            t[r] = now() - t0;
    }
    free(a), free(b), free(c);
    return 2.0 * n * n * n / median(t, 5) / 1e9;
}

/* The PyTorch side: bench/torch_embed.py as a child, spoken to by pipes. */
typedef struct torch_peer {
    FILE *to, *from;
    pid_t pid;
} torch_peer;

static int torch_start(torch_peer *p)
{
    int in[2], out[2];
    const char *py = getenv("DINOSEEK_BENCH_PYTHON");
    if (!py)
        py = access(".venv/bin/python", X_OK) == 0 ? ".venv/bin/python" : "/usr/bin/python3";
    if (pipe(in) || pipe(out))
        return -1;
    p->pid = fork();
    if (p->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]), close(out[0]);
        execl(py, py, "bench/torch_embed.py", (char *)NULL);
        _exit(127);
    }
    close(in[0]), close(out[1]);
    p->to = fdopen(in[1], "w");
    p->from = fdopen(out[0], "r");
    char line[64];
    if (!fgets(line, sizeof line, p->from) || strncmp(line, "ready", 5) != 0) {
        fprintf(stderr, "bench: PyTorch side did not start (%s bench/torch_embed.py needs torch "
                        "and transformers); comparing with C only\n", py);
        fclose(p->to), fclose(p->from);
        waitpid(p->pid, NULL, 0);
        p->to = NULL;
        return -1;
    }
    return 0;
}

static double torch_ms(torch_peer *p, const char *dir, int size, int batch, int threads,
                       double seconds)
{
    if (!p->to)
        return NAN;
    char line[64];
    fprintf(p->to, "%s %d %d %d %g\n", dir, size, batch, threads, seconds);
    fflush(p->to);
    if (!fgets(line, sizeof line, p->from))
        return NAN;
    return atof(line);
}

static void torch_stop(torch_peer *p)
{
    if (!p->to)
        return;
    fclose(p->to), fclose(p->from);
    waitpid(p->pid, NULL, 0);
}

/* Median ms per image over batches run for about `seconds` (>= 3); out
 * receives the batch's vectors. */
static double c_ms(vit_model *m, int size, int batch, double seconds, float *out)
{
    size_t n = (size_t)batch * 3 * size * size;
    float *x = malloc(sizeof(float) * n);
    ds_prng r;
    ds_prng_seed(&r, 1);
    for (size_t i = 0; i < n; i++)
        x[i] = ds_prng_uniform(&r) * 4.0f - 2.0f;
    ds_err err = {0};
    double t[1000];
    int reps = 0;
    if (vit_embed(m, x, batch, size, out, &err) != 0) { /* warm-up and buffers */
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    vit_profile_reset(m);
    double start = now();
    while (reps < 1000 && (reps < 3 || now() - start < seconds)) {
        double t0 = now();
        vit_embed(m, x, batch, size, out, &err);
        t[reps++] = now() - t0;
    }
    free(x);
    return median(t, reps) * 1000.0 / batch;
}

static void print_profile(const vit_model *m)
{
    const vit_profile *p = vit_get_profile(m);
    double total = p->embed + p->linear + p->attention + p->norm + p->act + p->residual;
    printf("      time: GEMM %.0f%%, attention %.0f%%, LayerNorm %.0f%%, GELU %.0f%%, "
           "residual %.0f%%, patch embed %.0f%%\n", 100 * p->linear / total,
           100 * p->attention / total, 100 * p->norm / total, 100 * p->act / total,
           100 * p->residual / total, 100 * p->embed / total);
}

static const char *model_dir(const char *arch)
{
    static char dirs[2][256];
    char *dir = dirs[strcmp(arch, "small") != 0];
    snprintf(dir, 256, "build/bench-models/%s", arch);
    char path[300];
    struct stat st;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    ds_err err = {0};
    if (stat(path, &st) != 0 && mdl_generate(arch, 1, ST_F32, dir, &err) != 0) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    return dir;
}

static void bench_preprocess(void)
{
    static const char *files[] = {"tests/fixtures/images/drawing_g4.tif",
                                  "tests/fixtures/images/parity_photo.jpg"};
    ds_err err = {0};
    if (img_init(NULL, &err) != 0)
        return;
    float *px = malloc(sizeof(float) * 3 * 224 * 224);
    printf("\npreprocessing (one thread), ms per image:\n");
    for (int f = 0; f < 2; f++) {
        for (int mode = 0; mode < 2; mode++) {
            img_opts o;
            img_opts_default(&o);
            o.mode = mode ? IMG_SEED : IMG_NATIVE;
            double t[50];
            for (int r = 0; r < 50; r++) {
                double t0 = now();
                if (img_preprocess_file(files[f], &o, px, &err) != 0) {
                    printf("  %s: %s\n", files[f], err.msg);
                    break;
                }
                t[r] = now() - t0;
            }
            printf("  %-40s %-6s %6.2f\n", files[f], mode ? "seed" : "native", 1e3 * median(t, 50));
        }
    }
    free(px);
}

/* The worst cosine between rows of a and b (n vectors of d). */
static double worst_cosine(const float *a, const float *b, int n, int d)
{
    double worst = 1;
    for (int i = 0; i < n; i++) {
        double ab = 0, aa = 0, bb = 0;
        for (int k = 0; k < d; k++) {
            ab += (double)a[i * d + k] * b[i * d + k];
            aa += (double)a[i * d + k] * a[i * d + k];
            bb += (double)b[i * d + k] * b[i * d + k];
        }
        double c = ab / sqrt(aa * bb);
        worst = c < worst ? c : worst;
    }
    return worst;
}

int main(int argc, char **argv)
{
    int quick = 0, use_torch = 1, only_threads = 0, n_prec = 0;
    gemm_precision precs[4];
    double seconds = 3.0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1, seconds = 1.0;
        else if (strcmp(argv[i], "--no-torch") == 0)
            use_torch = 0;
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            only_threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--precisions") == 0 && i + 1 < argc) {
            char list[64];
            snprintf(list, sizeof list, "%s", argv[++i]);
            for (char *t = strtok(list, ","); t && n_prec < 4; t = strtok(NULL, ",")) {
                int p;
                if (gemm_precision_parse(t, &p) != 0 || p == GEMM_AUTO) {
                    fprintf(stderr, "bench: unknown precision %s\n", t);
                    return 2;
                }
                precs[n_prec++] = (gemm_precision)p;
            }
        } else {
            fprintf(stderr, "usage: %s [--quick] [--no-torch] [--seconds S] [--threads N] "
                    "[--precisions f32,bf16,bf16x2]\n", argv[0]);
            return 2;
        }
    }
    if (!n_prec) {
        precs[n_prec++] = GEMM_F32;
        for (int p = GEMM_BF16; p <= GEMM_BF16X2; p++)
            if (gemm_precision_available((gemm_precision)p, NULL, 0))
                precs[n_prec++] = (gemm_precision)p;
    }
    printf("CPU: %s; flags: %s\n", ds_cpu_get()->brand, ds_cpu_flags());
    static const struct {
        const char *arch;
        int size;
    } models[] = {{"small", 224}, {"base", 224}, {"small", 518}};
    static const int batches[] = {1, 8}, threads[] = {1, 2};
    torch_peer torch = {0};
    if (use_torch)
        torch_start(&torch);
    printf("%-6s %4s %5s %3s %-6s | %9s %8s %9s | %8s %6s | %9s %7s\n", "model", "size",
           "batch", "thr", "prec", "C ms/img", "img/s", "cos f32", "sgemm GF", "%roof",
           "torch ms", "speedup");
    for (size_t mi = 0; mi < sizeof models / sizeof models[0]; mi++) {
        const char *dir = model_dir(models[mi].arch);
        vit_model *m;
        ds_err err = {0};
        if (vit_open(dir, &m, &err) != 0) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
        double gflop = vit_flops(vit_get_config(m), models[mi].size) / 1e9;
        for (int bi = 0; bi < 2; bi++) {
            for (int ti = 0; ti < 2; ti++) {
                int b = batches[bi], th = threads[ti], size = models[mi].size;
                if ((quick && size == 518 && b == 8) || (only_threads && th != only_threads))
                    continue;
                ops_set_threads(th);
                double peak = sgemm_gflops(2048);
                int d = vit_get_config(m)->hidden_size;
                float *ref = malloc(sizeof(float) * (size_t)b * d);
                float *out = malloc(sizeof(float) * (size_t)b * d);
                double tms = NAN;
                for (int pi = 0; pi < n_prec; pi++) {
                    if (vit_set_precision(m, precs[pi], &err) != 0) {
                        fprintf(stderr, "bench: %s\n", err.msg);
                        continue;
                    }
                    double ms = c_ms(m, size, b, seconds, precs[pi] == GEMM_F32 ? ref : out);
                    double cos = precs[pi] == GEMM_F32 ? 1.0 : worst_cosine(ref, out, b, d);
                    if (pi == 0)
                        tms = torch_ms(&torch, dir, size, b, th, seconds);
                    printf("%-6s %4d %5d %3d %-6s | %9.1f %8.2f %9.6f | %8.1f %5.0f%% | %9.1f "
                           "%6.2fx\n", models[mi].arch, size, b, th,
                           gemm_precision_name(precs[pi]), ms, 1000.0 / ms, cos, peak,
                           100.0 * gflop / (ms / 1000.0) / peak, tms, tms / ms);
                    print_profile(m);
                    fflush(stdout);
                }
                vit_set_precision(m, GEMM_F32, &err);
                free(ref);
                free(out);
            }
        }
        vit_close(m);
    }
    torch_stop(&torch);
    bench_preprocess();
    return 0;
}
