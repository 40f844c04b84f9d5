/* import.c - how fast `dinoseek import` fills a collection from a week of
 * USPTO design patents, against an import written like the seed's (Python:
 * Pillow, Hugging Face Dinov2Model, batch writes), side by side in one run.
 *
 *   build/bench/import [--patents N] [--threads 1,2] [--size WxH] [--keep]
 *                      [--workers N] [--precisions auto,bf16,int8] [--no-python]
 *                      [--no-tar] [--no-seed] [DINOSEEK_BIN]
 *
 * It generates the data (`dinoseek sample generate`: USD* folders of XML and
 * 1-bit CCITT G4 TIFF drawings, and the weekly tar of ZIPs) and ViT-S/14
 * weights (`dinoseek model generate --arch small --seed 1`) into a fresh
 * temporary folder, then for each thread count T:
 *   - runs the real binary (DINOSEEK_BIN or argv, default build/dinoseek):
 *     `dinoseek import --workers T` with OMP_NUM_THREADS = OPENBLAS_NUM_THREADS
 *     = T on the USD* folders into a fresh data directory, with the default
 *     (native) preprocessing and again with --preprocess seed (the seed's
 *     exact preprocessing, what the Python side does), then on the weekly
 *     tar; its summary lines give images/s and the time per stage, wait4()
 *     its CPU time; with --precisions, the folders with native
 *     preprocessing again in each precision named (the first one, default
 *     auto, is the one the other rows use);
 *   - runs bench/seed_import.py (.venv's Python) on the same USD* folders
 *     with the same weights and T threads; it prints the same figures as
 *     JSON.
 * Rates exclude loading the model on both sides (each measures from its
 * first input to its last commit). Before that, the cost of decoding one
 * drawing (tensor + thumbnail, as an import worker does it) is measured
 * alone on one thread, which tells how much of the import's CPU time
 * decoding really takes: the workers' own decode timers are wall clock,
 * and they run beside the model's threads.
 * The machine is shared and noisy: compare the ratios.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/file.h"
#include "image/image.h"
#include "model/ops.h"
#include "model/vit.h"

#define MAX_THREADS 8

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *fmt, const char *what)
{
    fprintf(stderr, "bench/import: ");
    fprintf(stderr, fmt, what);
    fputc('\n', stderr);
    exit(1);
}

/* Run argv with the thread variables set to `threads` (0: left alone),
 * stdout and stderr into files. Returns the exit status (128 + N: killed by
 * signal N; -1: did not run); *cpu_s receives the child's user + system time. */
static int run(char *const *argv, int threads, const char *out_path, const char *err_path,
               double *cpu_s)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0)
            _exit(126);
        dup2(o, 1);
        dup2(e, 2);
        if (threads > 0) {
            char t[16];
            snprintf(t, sizeof t, "%d", threads);
            setenv("OMP_NUM_THREADS", t, 1);
            setenv("OPENBLAS_NUM_THREADS", t, 1);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0)
        return -1;
    if (cpu_s)
        *cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    return WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

static void show_tail(const char *path)
{
    size_t n = 0;
    char *s = ds_read_file(path, &n);
    if (s)
        fprintf(stderr, "%s\n", n > 2000 ? s + n - 2000 : s);
    free(s);
}

/* ---- the figures of one import -------------------------------------------------- */

typedef struct result {
    int ok;
    long images;
    double seconds, rate;        /* first input to last commit */
    double parse, decode, embed, write; /* seconds per stage (C decode: summed over workers) */
    double cpu;                  /* user + system seconds of the whole process */
    double load;                 /* the 1-minute load average when it ended */
} result;

/* The machine's 1-minute load average (others' builds and tests show here). */
static double loadavg(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

/* The number after `key` in s, or -1. */
static double after(const char *s, const char *key)
{
    const char *p = strstr(s, key);
    return p ? atof(p + strlen(key)) : -1;
}

/* From dinoseek import's summary (src/cmd/import.c print_summary):
 *   dinoseek import: done: N stored, ...; X s, Y images/s
 *   dinoseek import: time: parse A s (..%), decode B s (..), embed C s (..), write D s (..) */
static int parse_c_summary(const char *text, result *r)
{
    const char *done = strstr(text, "dinoseek import: done: ");
    const char *time = strstr(text, "dinoseek import: time: ");
    if (!done || !time)
        return -1;
    r->images = atol(done + strlen("dinoseek import: done: "));
    const char *eol = strchr(done, '\n');
    const char *last = NULL;
    for (const char *p = done; (p = strstr(p, "; ")) && (!eol || p < eol); p += 2)
        last = p;
    if (!last || sscanf(last, "; %lf s, %lf images/s", &r->seconds, &r->rate) != 2)
        return -1;
    if (r->seconds > 0) /* more digits than the summary's one decimal */
        r->rate = (double)r->images / r->seconds;
    r->parse = after(time, "parse ");
    r->decode = after(time, "decode ");
    r->embed = after(time, "embed ");
    r->write = after(time, "write ");
    return r->parse < 0 || r->decode < 0 || r->embed < 0 || r->write < 0 ? -1 : 0;
}

static int parse_py_json(const char *text, result *r)
{
    const char *line = strrchr(text, '{'); /* the last JSON object: one flat line */
    if (!line)
        return -1;
    r->images = (long)after(line, "\"images\": ");
    r->seconds = after(line, "\"seconds\": ");
    r->rate = after(line, "\"images_per_s\": ");
    r->parse = after(line, "\"parse\": ");
    r->decode = after(line, "\"decode\": ");
    r->embed = after(line, "\"embed\": ");
    r->write = after(line, "\"write\": ");
    double cpu = after(line, "\"cpu\": ");
    if (cpu > 0)
        r->cpu = cpu; /* the timed span only: without Python's start and model load */
    return r->images <= 0 || r->seconds <= 0 ? -1 : 0;
}

/* ---- the runs -------------------------------------------------------------------- */

typedef struct bench {
    const char *bin, *python, *work, *model;
    char **inputs;               /* the USD* folders, sorted */
    int n_inputs;
    char tar[PATH_MAX];
    int run_id;
    int workers;                 /* --workers of the C import; 0: the thread count */
    const char *precision;       /* --precision of the C import (NULL: its default) */
} bench;

static result run_c(bench *b, int threads, const char *preprocess, int use_tar)
{
    result r = {0};
    char data[PATH_MAX], out[PATH_MAX], err[PATH_MAX], workers[16], conf[PATH_MAX];
    snprintf(data, sizeof data, "%s/data-%d", b->work, ++b->run_id);
    snprintf(out, sizeof out, "%s/c-%d.out", b->work, b->run_id);
    snprintf(err, sizeof err, "%s/c-%d.err", b->work, b->run_id);
    snprintf(conf, sizeof conf, "%s/empty.conf", b->work);
    snprintf(workers, sizeof workers, "%d", b->workers > 0 ? b->workers : threads);
    if (mkdir(data, 0755) != 0)
        die("cannot make %s", data);
    setenv("DINOSEEK_CONFIG", conf, 1); /* no ./dinoseek.conf of the caller's */
    int n = 0;
    char **argv = calloc((size_t)b->n_inputs + 20, sizeof *argv);
    argv[n++] = (char *)b->bin;
    argv[n++] = "import";
    argv[n++] = "--data", argv[n++] = data;
    argv[n++] = "--model", argv[n++] = (char *)b->model;
    argv[n++] = "--collection", argv[n++] = "bench";
    argv[n++] = "--preprocess", argv[n++] = (char *)preprocess;
    argv[n++] = "--index", argv[n++] = "flat";
    argv[n++] = "--workers", argv[n++] = workers;
    if (b->precision)
        argv[n++] = "--precision", argv[n++] = (char *)b->precision;
    if (use_tar)
        argv[n++] = b->tar;
    else
        for (int i = 0; i < b->n_inputs; i++)
            argv[n++] = b->inputs[i];
    int rc = run(argv, threads, out, err, &r.cpu);
    r.load = loadavg();
    free(argv);
    char *text = ds_read_file(err, NULL);
    if (rc != 0 || !text || parse_c_summary(text, &r) != 0) {
        fprintf(stderr, "bench/import: dinoseek import exited with %d%s; its stderr ends:\n", rc,
                rc > 128 ? " (killed by a signal: 128 + its number)" : "");
        show_tail(err);
    } else {
        r.ok = 1;
    }
    free(text);
    return r;
}

static result run_python(bench *b, int threads, const char *root)
{
    result r = {0};
    char dir[PATH_MAX], out[PATH_MAX], err[PATH_MAX], t[16];
    snprintf(dir, sizeof dir, "%s/py-%d", b->work, ++b->run_id);
    snprintf(out, sizeof out, "%s/py-%d.out", b->work, b->run_id);
    snprintf(err, sizeof err, "%s/py-%d.err", b->work, b->run_id);
    snprintf(t, sizeof t, "%d", threads);
    char *argv[] = {(char *)b->python, "bench/seed_import.py", "--model", (char *)b->model,
                    "--out", dir, "--threads", t, (char *)root, NULL};
    int rc = run(argv, threads, out, err, &r.cpu);
    r.load = loadavg();
    char *text = ds_read_file(out, NULL);
    if (rc != 0 || !text || parse_py_json(text, &r) != 0) {
        fprintf(stderr, "bench/import: %s bench/seed_import.py exited with %d (it needs torch, "
                        "transformers and Pillow: make venv); its stderr ends:\n", b->python, rc);
        show_tail(err);
    } else {
        r.ok = 1;
    }
    free(text);
    return r;
}

/* ---- decoding alone ---------------------------------------------------------------- */

/* CPU ms per drawing of what an import worker does to it (decode once, the
 * model's tensor and the 300 px q85 thumbnail), one thread, nothing else
 * of ours running: the median over every drawing of the set. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double decode_alone_ms(bench *b, img_mode mode, double *wall_ms)
{
    ds_err err = {0};
    if (img_init(NULL, &err) != 0)
        return -1;
    img_opts o;
    img_opts_default(&o);
    o.mode = mode;
    float *chw = malloc(sizeof(float) * 3 * 224 * 224);
    double *cpu = NULL, *wall = NULL;
    int n = 0, cap = 0;
    for (int i = 0; i < b->n_inputs; i++) {
        DIR *d = opendir(b->inputs[i]);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            size_t len = strlen(de->d_name);
            if (len < 4 || strcasecmp(de->d_name + len - 4, ".tif") != 0)
                continue;
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", b->inputs[i], de->d_name);
            size_t size = 0;
            char *buf = ds_read_file(path, &size);
            if (!buf)
                continue;
            void *jpeg = NULL;
            size_t jlen = 0;
            double c0 = cpu_now(), w0 = now();
            int rc = img_prepare_buffer(buf, size, &o, chw, 300, 85, &jpeg, &jlen, &err);
            double c1 = cpu_now(), w1 = now();
            free(jpeg);
            free(buf);
            if (rc != 0) {
                fprintf(stderr, "bench/import: %s: %s\n", path, err.msg);
                continue;
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                cpu = realloc(cpu, sizeof *cpu * (size_t)cap);
                wall = realloc(wall, sizeof *wall * (size_t)cap);
            }
            cpu[n] = (c1 - c0) * 1e3;
            wall[n++] = (w1 - w0) * 1e3;
        }
        if (d)
            closedir(d);
    }
    double ms = -1;
    if (n > 0) {
        qsort(cpu, (size_t)n, sizeof *cpu, cmp_double);
        qsort(wall, (size_t)n, sizeof *wall, cmp_double);
        ms = cpu[n / 2];
        *wall_ms = wall[n / 2];
    }
    free(cpu), free(wall), free(chw);
    return ms;
}

/* ---- the model alone ---------------------------------------------------------------- */

/* Images per second of the forward pass alone (batch 32, `threads`
 * threads, random input, nothing else of ours running): the rate a
 * model-bound import would reach. The best of three batches after a
 * warm-up (the best: others' jobs on the machine only ever slow it). */
static double model_alone_rate(const char *dir, int threads, int batch, double *cpu_ms)
{
    vit_model *m;
    ds_err err = {0};
    if (vit_open(dir, &m, &err) != 0) {
        fprintf(stderr, "bench/import: %s\n", err.msg);
        return -1;
    }
    ops_set_threads(threads);
    size_t n = (size_t)batch * 3 * 224 * 224;
    float *x = malloc(sizeof(float) * n);
    float *out = malloc(sizeof(float) * (size_t)batch * (size_t)vit_get_config(m)->hidden_size);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(i % 251) / 125.0f - 1.0f;
    double best = -1;
    for (int r = 0; r < 4; r++) {
        double t0 = now(), c0 = cpu_now();
        if (vit_embed(m, x, r == 0 ? 4 : batch, 224, out, &err) != 0) {
            fprintf(stderr, "bench/import: %s\n", err.msg);
            break;
        }
        double t = now() - t0;
        if (r > 0 && (best < 0 || t < best)) {
            best = t;
            *cpu_ms = (cpu_now() - c0) * 1e3 / batch;
        }
    }
    free(x), free(out);
    vit_close(m);
    return best > 0 ? batch / best : -1;
}

/* ---- setting up ---------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_inputs(bench *b, const char *set)
{
    DIR *d = opendir(set);
    if (!d)
        die("cannot read %s", set);
    struct dirent *de;
    int cap = 0;
    b->tar[0] = 0;
    while ((de = readdir(d))) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", set, de->d_name);
        size_t len = strlen(de->d_name);
        if (strncmp(de->d_name, "USD", 3) == 0) {
            if (b->n_inputs == cap) {
                cap = cap ? cap * 2 : 64;
                b->inputs = realloc(b->inputs, sizeof *b->inputs * (size_t)cap);
            }
            b->inputs[b->n_inputs++] = strdup(path);
        } else if (de->d_name[0] == 'I' && len > 4 && strcmp(de->d_name + len - 4, ".tar") == 0) {
            snprintf(b->tar, sizeof b->tar, "%s", path);
        }
    }
    closedir(d);
    qsort(b->inputs, (size_t)b->n_inputs, sizeof *b->inputs, cmp_str);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

/* ---- printing ---------------------------------------------------------------------- */

static void pct4(const result *r, char *out, size_t n)
{
    double total = r->parse + r->decode + r->embed + r->write;
    double k = total > 0 ? 100.0 / total : 0;
    snprintf(out, n, "%5.1f%% %6.1f%% %5.1f%% %5.1f%%", r->parse * k, r->decode * k, r->embed * k,
             r->write * k);
}

static void print_row(int threads, const char *what, const result *r, const result *py,
                      double decode_cpu_ms, double model_rate)
{
    if (!r->ok) {
        printf("%3d  %-16s | (failed)\n", threads, what);
        return;
    }
    char split[64], ratio[16] = "", dec_cpu[16] = "", dec_est[16] = "", emb[16] = "", of[16] = "";
    if (model_rate > 0)
        snprintf(of, sizeof of, "%.0f%%", 100.0 * r->rate / model_rate);
    pct4(r, split, sizeof split);
    if (py && py->ok && py != r)
        snprintf(ratio, sizeof ratio, "%.2fx", r->rate / py->rate);
    if (r->cpu > 0 && py != r)
        snprintf(dec_cpu, sizeof dec_cpu, "%.0f%%", 100.0 * r->decode / r->cpu);
    if (r->cpu > 0 && decode_cpu_ms > 0)
        snprintf(dec_est, sizeof dec_est, "%.0f%%",
                 100.0 * (double)r->images * decode_cpu_ms / 1e3 / r->cpu);
    if (r->seconds > 0)
        snprintf(emb, sizeof emb, "%.0f%%", 100.0 * r->embed / r->seconds);
    printf("%3d  %-16s %6ld | %6.2f %6s %8s | %s | %7s %8s %10s | %6.1f %10.0f | %4.1f\n",
           threads, what, r->images, r->rate, ratio, of, split, dec_cpu, dec_est, emb, r->seconds,
           r->images > 0 ? 1e3 * r->cpu / (double)r->images : 0, r->load);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int patents = 40, use_python = 1, use_tar = 1, use_seed = 1, keep = 0, workers = 0;
    int threads[MAX_THREADS] = {1, 2}, n_threads = 2;
    char *precisions[8] = {NULL};
    int n_precisions = 0;
    const char *size = NULL, *bin = getenv("DINOSEEK_BIN");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--patents") == 0 && i + 1 < argc) {
            patents = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            n_threads = 0;
            for (char *s = argv[++i], *end; *s && n_threads < MAX_THREADS; s = end) {
                threads[n_threads] = (int)strtol(s, &end, 10);
                if (end == s || threads[n_threads] < 1 || threads[n_threads] > 64)
                    die("bad --threads %s", argv[i]);
                n_threads++;
                if (*end == ',')
                    end++;
            }
        } else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            size = argv[++i];
        } else if (strcmp(argv[i], "--no-python") == 0) {
            use_python = 0;
        } else if (strcmp(argv[i], "--no-tar") == 0) {
            use_tar = 0;
        } else if (strcmp(argv[i], "--no-seed") == 0) {
            use_seed = 0;
        } else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
            workers = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--precisions") == 0 && i + 1 < argc) {
            char *tok = strtok(argv[++i], ",");
            for (; tok && n_precisions < 8; tok = strtok(NULL, ","))
                precisions[n_precisions++] = tok;
        } else if (strcmp(argv[i], "--keep") == 0) {
            keep = 1;
        } else if (argv[i][0] != '-') {
            bin = argv[i];
        } else {
            fprintf(stderr, "usage: %s [--patents N] [--threads 1,2] [--size WxH] [--keep] "
                            "[--workers N] [--precisions auto,bf16,int8] [--no-python] [--no-tar] "
                            "[--no-seed] [DINOSEEK_BIN]\n", argv[0]);
            return 2;
        }
    }
    if (patents < 1)
        die("--patents must be at least 1%s", "");
    char bin_abs[PATH_MAX];
    if (!realpath(bin ? bin : "build/dinoseek", bin_abs))
        die("no dinoseek binary at %s (give its path, or set DINOSEEK_BIN)",
            bin ? bin : "build/dinoseek");

    bench b = {.bin = bin_abs, .workers = workers};
    b.python = getenv("DINOSEEK_BENCH_PYTHON");
    if (!b.python)
        b.python = access(".venv/bin/python", X_OK) == 0 ? ".venv/bin/python" : "python3";
    const char *tmp = getenv("TMPDIR");
    char work[512], set[640], model[640], log_out[640], log_err[640]; /* short: paths are built on them */
    snprintf(work, sizeof work, "%s/dinoseek-bench-import-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(work))
        die("cannot make a folder in %s", tmp && *tmp ? tmp : "/tmp");
    b.work = work;
    snprintf(set, sizeof set, "%s/set", work);
    snprintf(model, sizeof model, "%s/model", work);
    snprintf(log_out, sizeof log_out, "%s/setup.out", work);
    snprintf(log_err, sizeof log_err, "%s/setup.err", work);
    b.model = model;
    char conf[640];
    snprintf(conf, sizeof conf, "%s/empty.conf", work);
    FILE *cf = fopen(conf, "w");
    if (cf)
        fclose(cf);

    /* The data and the weights. */
    char n_patents[16];
    snprintf(n_patents, sizeof n_patents, "%d", patents);
    char *gen[] = {bin_abs, "sample", "generate", set, "--patents", n_patents,
                   size ? "--size" : NULL, (char *)size, NULL};
    char *mdl[] = {bin_abs, "model", "generate", "--arch", "small", "--seed", "1", model, NULL};
    if (run(gen, 0, log_out, log_err, NULL) != 0) {
        show_tail(log_err);
        die("dinoseek sample generate failed (work folder %s)", work);
    }
    if (run(mdl, 0, log_out, log_err, NULL) != 0) {
        show_tail(log_err);
        die("dinoseek model generate failed (work folder %s)", work);
    }
    list_inputs(&b, set);
    if (b.n_inputs == 0)
        die("no USD* folders in %s", set);

    long drawings = 0;
    for (int i = 0; i < b.n_inputs; i++) {
        DIR *d = opendir(b.inputs[i]);
        struct dirent *de;
        while (d && (de = readdir(d)))
            drawings += strcasestr(de->d_name, ".tif") != NULL;
        if (d)
            closedir(d);
    }
    printf("data: %d patents, %ld drawings (%s 1-bit CCITT G4 TIFF sheets), in %d USD* folders "
           "and %s\n", patents, drawings, size ? size : "850x1100", b.n_inputs,
           b.tar[0] ? strrchr(b.tar, '/') + 1 : "(no tar)");
    printf("model: ViT-S/14 (generated weights, F32), batch 32; C import into a flat index\n");

    double wall_native = 0, wall_seed = 0;
    double dec_native = decode_alone_ms(&b, IMG_NATIVE, &wall_native);
    double dec_seed = use_seed ? decode_alone_ms(&b, IMG_SEED, &wall_seed) : -1;
    printf("decode alone, one thread, model idle (tensor + 300 px thumbnail, median per "
           "drawing): native %.1f ms CPU (%.1f wall)", dec_native, wall_native);
    if (use_seed)
        printf(", seed %.1f ms CPU (%.1f wall)", dec_seed, wall_seed);
    printf("\n\n");

    printf("img/s: images / seconds from the first input to the last commit (model loading "
           "excluded on both sides)\n"
           "model alone: the forward pass only, batch 32, measured just before each thread "
           "count's imports\n"
           "vs py: / the Python import's img/s; of model: / the model-alone img/s at the same "
           "threads\n"
           "stage split: %% of the four stage times' sum (C decode summed over its workers, "
           "which run beside the model)\n"
           "dec/CPU: the workers' decode time / the process's CPU time; dec*/CPU: drawings x "
           "'decode alone' / CPU time\n"
           "embed/wall: the forward passes' share of the import's wall clock; CPU ms/img: user "
           "+ system time per image\n  (C: the whole process; Python: its timed span); load: "
           "the machine's 1-minute load average as the run ended\n  (2 cores: above 2, others "
           "were running too)\n\n");
    printf("%3s  %-16s %6s | %6s %6s %8s | %6s %7s %6s %6s | %7s %8s %10s | %6s %10s | %4s\n",
           "thr", "import", "images", "img/s", "vs py", "of model", "parse", "decode", "embed",
           "write", "dec/CPU", "dec*/CPU", "embed/wall", "wall s", "CPU ms/img", "load");
    for (int t = 0; t < n_threads; t++) {
        int th = threads[t];
        result py = {0}, c;
        double cpu_ms = 0, model_rate = model_alone_rate(model, th, 32, &cpu_ms);
        printf("%3d  model alone      %6d | %6.2f %6s %8s | %*s | %27s | %6s %10.0f | %4.1f\n", th,
               32, model_rate, "", "100%", 28, "", "", "", cpu_ms, loadavg());
        /* Python first: C's rows are then printed with the ratio. */
        if (use_python)
            py = run_python(&b, th, set);
        b.precision = n_precisions ? precisions[0] : NULL;
        c = run_c(&b, th, "native", 0);
        print_row(th, "C folders native", &c, &py, dec_native, model_rate);
        for (int p = 1; p < n_precisions; p++) {
            char what[32];
            snprintf(what, sizeof what, "C native %s", precisions[p]);
            b.precision = precisions[p];
            c = run_c(&b, th, "native", 0);
            print_row(th, what, &c, &py, dec_native, model_rate);
        }
        b.precision = n_precisions ? precisions[0] : NULL;
        if (use_seed) {
            c = run_c(&b, th, "seed", 0);
            print_row(th, "C folders seed", &c, &py, dec_seed, model_rate);
        }
        if (use_tar && b.tar[0]) {
            c = run_c(&b, th, "native", 1);
            print_row(th, "C tar native", &c, &py, dec_native, model_rate);
        }
        if (use_python)
            print_row(th, "Python (seed)", &py, &py, -1, -1);
    }
    if (!keep)
        nftw(work, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    else
        printf("\nwork folder kept: %s\n", work);
    return 0;
}
