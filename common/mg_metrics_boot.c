/* mg_metrics_boot.c: threaded, thread-count-independent bootstrap. */
#include "mg_metrics_boot.h"
#include "mg_metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t n;
    int B, nout;
    uint64_t seed;
    mg_boot_fn fn;
    void *ctx;
    double *res;
    uint8_t *skip;
    atomic_int next;
    atomic_int failed;
} boot_job;

static void *boot_worker(void *arg)
{
    boot_job *j = arg;
    double *w = malloc(j->n * sizeof *w);
    if (!w) { atomic_store(&j->failed, 1); return NULL; }
    for (;;) {
        int b = atomic_fetch_add(&j->next, 1);
        if (b >= j->B || atomic_load(&j->failed)) break;
        mg_rng r;
        mg_rng_seed(&r, j->seed + (uint64_t)b);
        memset(w, 0, j->n * sizeof *w);
        for (size_t i = 0; i < j->n; i++) w[mg_rng_below(&r, j->n)] += 1;
        double *out = j->res + (size_t)b * j->nout;
        int rc = j->fn(j->ctx, w, out);
        if (rc < 0) { atomic_store(&j->failed, 1); break; }
        if (rc == 1) {
            j->skip[b] = 1;
            for (int k = 0; k < j->nout; k++) out[k] = NAN;
        }
    }
    free(w);
    return NULL;
}

int mg_bootstrap(size_t n, int B, uint64_t seed, int threads, int nout,
                 mg_boot_fn fn, void *ctx, double *res, int *nskipped)
{
    boot_job j = { .n = n, .B = B, .nout = nout, .seed = seed, .fn = fn, .ctx = ctx, .res = res };
    atomic_init(&j.next, 0);
    atomic_init(&j.failed, 0);
    j.skip = calloc((size_t)B + 1, 1);
    if (!j.skip) return -1;
    if (threads < 1) threads = 1;
    if (threads > B) threads = B > 0 ? B : 1;
    pthread_t *tid = calloc((size_t)threads, sizeof *tid);
    if (!tid) { free(j.skip); return -1; }
    int started = 0;
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&tid[t], NULL, boot_worker, &j) != 0) { atomic_store(&j.failed, 1); break; }
        started++;
    }
    boot_worker(&j);
    for (int t = 1; t <= started; t++) pthread_join(tid[t], NULL);
    int sk = 0;
    for (int b = 0; b < B; b++) sk += j.skip[b];
    *nskipped = sk;
    free(tid); free(j.skip);
    return atomic_load(&j.failed) ? -1 : 0;
}

void mg_boot_interval(const double *res, int B, int nout, int j, double alpha,
                      double *lo, double *hi, int *nused)
{
    double *v = malloc((size_t)(B > 0 ? B : 1) * sizeof *v);
    int m = 0;
    if (v)
        for (int b = 0; b < B; b++) {
            double x = res[(size_t)b * nout + j];
            if (!isnan(x)) v[m++] = x;
        }
    *nused = m;
    if (!v || m == 0) { *lo = *hi = NAN; free(v); return; }
    *lo = mg_percentile_sorted(v, (size_t)m, alpha / 2);
    *hi = mg_percentile_sorted(v, (size_t)m, 1 - alpha / 2);
    free(v);
}
