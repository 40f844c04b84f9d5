/* embed.c - how fast is the DINOv2 forward pass, against the machine's own
 * limit and against PyTorch, measured side by side in one run.
 *
 *   build/bench/embed [--quick] [--no-torch] [--no-onnx] [--seconds S]
 *                     [--threads N] [--precisions f32,bf16,bf16x2,int8]
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
 * the same input. Then, from bench/onnx_embed.py, the same weights exported
 * to ONNX, on the same threads and the same input: ONNX Runtime in f32
 * ("ort"), OpenVINO in f32 ("ov-f32") and in OpenVINO's default precision
 * ("ov-dflt": bf16 where the CPU has AVX512_BF16 or AMX), each with its CLS
 * cosine against dinoseek f32 (a wrong export shows there, not only a
 * speed); --no-onnx leaves them out. Then where the C time went (GEMM,
 * attention, LayerNorm, GELU, ...) and the cost of preprocessing an image.
 * The machine is shared and noisy: compare the ratios, which are measured
 * within seconds of each other.
 */
#include <cblas.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
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

/* A Python side (bench/torch_embed.py, bench/onnx_embed.py) as a child,
 * spoken to by pipes, one request line and one answer line at a time. */
typedef struct py_peer {
    FILE *to, *from;
    pid_t pid;
} py_peer;

static void peer_stop(py_peer *p)
{
    if (!p->to)
        return;
    fclose(p->to), fclose(p->from);
    waitpid(p->pid, NULL, 0);
    p->to = NULL;
}

/* Starts `script`; without its "ready" line (packages missing), says once
 * what is needed, and the run goes on without that comparison. */
static int peer_start(py_peer *p, const char *script, const char *needs)
{
    int in[2], out[2];
    const char *py = getenv("DINOSEEK_BENCH_PYTHON");
    if (!py)
        py = access(".venv/bin/python", X_OK) == 0 ? ".venv/bin/python" : "/usr/bin/python3";
    /* Close-on-exec: our ends must not leak into a side started later, or
     * closing them here would never reach this side as end of input. */
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
        return -1;
    p->pid = fork();
    if (p->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]), close(out[0]);
        execl(py, py, script, (char *)NULL);
        _exit(127);
    }
    close(in[0]), close(out[1]);
    p->to = fdopen(in[1], "w");
    p->from = fdopen(out[0], "r");
    char line[64];
    if (!fgets(line, sizeof line, p->from) || strncmp(line, "ready", 5) != 0) {
        fprintf(stderr, "bench: %s %s did not start (it needs %s: make venv); going on "
                        "without it\n", py, script, needs);
        peer_stop(p);
        return -1;
    }
    return 0;
}

/* Sends one request line and reads the answer into line; a side that died
 * is stopped, so that the rest of the run no longer asks it. */
static int peer_ask(py_peer *p, const char *request, char *line, int n)
{
    if (!p->to)
        return -1;
    fputs(request, p->to);
    if (fflush(p->to) != 0 || !fgets(line, n, p->from)) {
        fprintf(stderr, "bench: a Python side stopped answering; going on without it\n");
        peer_stop(p);
        return -1;
    }
    return 0;
}

static double torch_ms(py_peer *p, const char *dir, int size, int batch, int threads,
                       double seconds)
{
    char req[400], line[64];
    snprintf(req, sizeof req, "%s %d %d %d %g\n", dir, size, batch, threads, seconds);
    return peer_ask(p, req, line, sizeof line) == 0 ? atof(line) : NAN;
}

/* One bench/onnx_embed.py engine on the same input as c_ms: ms per image,
 * the worst CLS cosine against ref (dinoseek f32, which the Python side
 * reads from ref_path, written here) and the precision the engine ran in. */
static double onnx_ms(py_peer *p, const char *engine, const char *dir, int size, int batch,
                      int threads, double seconds, const char *ref_path, double *cos,
                      char prec[16])
{
    char req[600], line[128];
    *cos = NAN;
    snprintf(prec, 16, "-");
    snprintf(req, sizeof req, "%s %s %d %d %d %g %s\n", engine, dir, size, batch, threads,
             seconds, ref_path);
    if (peer_ask(p, req, line, sizeof line) != 0)
        return NAN;
    double ms = NAN;
    char pr[16];
    if (sscanf(line, "%lf %lf %15s", &ms, cos, pr) == 3)
        snprintf(prec, 16, "%s", pr);
    return ms;
}

/* Writes n floats to path, for the Python side to read; 0 on success. */
static int write_floats(const char *path, const float *v, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(v, sizeof *v, n, f);
    return (fclose(f) != 0 || w != n) ? -1 : 0;
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
    int quick = 0, use_torch = 1, use_onnx = 1, only_threads = 0, n_prec = 0;
    gemm_precision precs[4];
    double seconds = 3.0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1, seconds = 1.0;
        else if (strcmp(argv[i], "--no-torch") == 0)
            use_torch = 0;
        else if (strcmp(argv[i], "--no-onnx") == 0)
            use_onnx = 0;
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
            fprintf(stderr, "usage: %s [--quick] [--no-torch] [--no-onnx] [--seconds S] "
                    "[--threads N] [--precisions f32,bf16,bf16x2,int8]\n", argv[0]);
            return 2;
        }
    }
    if (!n_prec) {
        precs[n_prec++] = GEMM_F32;
        for (int p = GEMM_BF16; p <= GEMM_INT8; p++)
            if (gemm_precision_available((gemm_precision)p, NULL, 0))
                precs[n_prec++] = (gemm_precision)p;
    }
    printf("CPU: %s; flags: %s\n", ds_cpu_get()->brand, ds_cpu_flags());
    static const struct {
        const char *arch;
        int size;
    } models[] = {{"small", 224}, {"base", 224}, {"small", 518}};
    static const int batches[] = {1, 8}, threads[] = {1, 2};
    /* A Python side that dies must cost its comparison, not the whole run:
     * writing to its pipe then fails instead of killing us. */
    signal(SIGPIPE, SIG_IGN);
    py_peer torch = {0}, onnx = {0};
    if (use_torch)
        peer_start(&torch, "bench/torch_embed.py", "torch and transformers");
    /* dinoseek's f32 vectors go to the ONNX side through this file. */
    char ref_path[] = "/tmp/dinoseek-bench-ref-XXXXXX";
    if (use_onnx) {
        int fd = mkstemp(ref_path);
        if (fd < 0 || close(fd) != 0)
            snprintf(ref_path, sizeof ref_path, "-");
        peer_start(&onnx, "bench/onnx_embed.py",
                   "onnxruntime, openvino, onnx, torch and transformers");
    }
    /* Engines of the ONNX side: what it is asked for, and the row's name. */
    static const char *const engines[][2] = {{"ort", "ort"}, {"ov-f32", "ov-f32"},
                                             {"ov", "ov-dflt"}};
    /* Rows: dinoseek in each precision, then ONNX Runtime and OpenVINO;
     * speedup is always PyTorch f32's time over the row's. */
    printf("%-6s %4s %5s %3s %-7s | %9s %8s %9s | %8s %6s | %9s %7s\n", "model", "size",
           "batch", "thr", "prec", "ms/img", "img/s", "cos f32", "sgemm GF", "%roof",
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
                int have_ref = 0;
                for (int pi = 0; pi < n_prec; pi++) {
                    if (vit_set_precision(m, precs[pi], &err) != 0) {
                        fprintf(stderr, "bench: %s\n", err.msg);
                        continue;
                    }
                    double ms = c_ms(m, size, b, seconds, precs[pi] == GEMM_F32 ? ref : out);
                    have_ref |= precs[pi] == GEMM_F32;
                    double cos = precs[pi] == GEMM_F32 ? 1.0 : worst_cosine(ref, out, b, d);
                    if (pi == 0)
                        tms = torch_ms(&torch, dir, size, b, th, seconds);
                    printf("%-6s %4d %5d %3d %-7s | %9.1f %8.2f %9.6f | %8.1f %5.0f%% | %9.1f "
                           "%6.2fx\n", models[mi].arch, size, b, th,
                           gemm_precision_name(precs[pi]), ms, 1000.0 / ms, cos, peak,
                           100.0 * gflop / (ms / 1000.0) / peak, tms, tms / ms);
                    print_profile(m);
                    fflush(stdout);
                }
                vit_set_precision(m, GEMM_F32, &err);
                /* Without an f32 row there is nothing to compare with. */
                const char *rp = have_ref && strcmp(ref_path, "-") != 0 &&
                                         write_floats(ref_path, ref, (size_t)b * d) == 0
                                     ? ref_path
                                     : "-";
                for (int ei = 0; onnx.to && ei < 3; ei++) {
                    double cos;
                    char prec[16];
                    double ms = onnx_ms(&onnx, engines[ei][0], dir, size, b, th, seconds, rp,
                                        &cos, prec);
                    printf("%-6s %4d %5d %3d %-7s | %9.1f %8.2f %9.6f | %8.1f %5.0f%% | %9.1f "
                           "%6.2fx\n", models[mi].arch, size, b, th, engines[ei][1], ms,
                           1000.0 / ms, cos, peak, 100.0 * gflop / (ms / 1000.0) / peak, tms,
                           tms / ms);
                    if (strcmp(engines[ei][0], "ov") == 0)
                        printf("      OpenVINO's default precision here: %s\n", prec);
                    fflush(stdout);
                }
                free(ref);
                free(out);
            }
        }
        vit_close(m);
    }
    peer_stop(&torch);
    peer_stop(&onnx);
    if (use_onnx && strcmp(ref_path, "-") != 0)
        unlink(ref_path);
    bench_preprocess();
    return 0;
}
