/* mg_metrics_boot.c: threaded, thread-count-independent bootstrap. */
#include "mg_metrics_boot.h"
#include "mg_metrics.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t n;
    int nout;
    uint64_t seed;
    int first;              /* replicate of task 0 */
    mg_boot_fn fn;
    void *ctx;
    double *res;
    uint8_t *skip;
    double *w;              /* n draw counts per worker */
    atomic_int failed;
} boot_job;

/* Replicate b on worker wk: depends only on (seed, b). */
static void boot_task(void *arg, int task, int wk)
{
    boot_job *j = arg;
    int b = j->first + task;
    if (atomic_load(&j->failed)) return;
    double *w = j->w + (size_t)wk * j->n;
    mg_rng r;
    mg_rng_seed(&r, j->seed + (uint64_t)b);
    memset(w, 0, j->n * sizeof *w);
    for (size_t i = 0; i < j->n; i++) w[mg_rng_below(&r, j->n)] += 1;
    double *out = j->res + (size_t)b * j->nout;
    int rc = j->fn(j->ctx, w, out);
    if (rc < 0) atomic_store(&j->failed, 1);
    if (rc == 1) {
        j->skip[b] = 1;
        for (int k = 0; k < j->nout; k++) out[k] = NAN;
    }
}

int mg_bootstrap(size_t n, int B, uint64_t seed, mg_pool *pool, int nout,
                 mg_boot_fn fn, void *ctx, double *res, int *nskipped, mg_progress *progress)
{
    boot_job j = { .n = n, .nout = nout, .seed = seed, .fn = fn, .ctx = ctx, .res = res };
    atomic_init(&j.failed, 0);
    j.skip = calloc((size_t)B + 1, 1);
    j.w = malloc((n ? n : 1) * (size_t)mg_pool_threads(pool) * sizeof *j.w);
    if (!j.skip || !j.w) { free(j.skip); free(j.w); return -1; }
    /* in blocks, so that the caller's thread can report progress between
     * them; a replicate's result does not depend on the blocking */
    int block = progress ? 32 * mg_pool_threads(pool) : B;
    for (j.first = 0; j.first < B && !atomic_load(&j.failed); j.first += block) {
        mg_pool_for(pool, B - j.first < block ? B - j.first : block, boot_task, &j);
        mg_progress_step(progress, (uint64_t)(B - j.first < block ? B : j.first + block));
    }
    int sk = 0;
    for (int b = 0; b < B; b++) sk += j.skip[b];
    *nskipped = sk;
    free(j.w); free(j.skip);
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
