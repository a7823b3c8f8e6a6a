/* mg_metrics_boot.h: nonparametric bootstrap of any set of statistics.
 *
 * Replicate b draws n case indices uniformly with replacement from an
 * xoshiro256** generator seeded by splitmix64 with seed + b (mg_rng_seed), and
 * passes the draw counts as case weights to the statistic. Replicates are
 * spread over threads but each one depends only on (seed, b), so results are
 * identical for any thread count. Confidence limits are percentiles of the
 * kept replicates (numpy's default linear interpolation, Hyndman-Fan type 7). */
#ifndef MG_METRICS_BOOT_H
#define MG_METRICS_BOOT_H

#include <stddef.h>
#include <stdint.h>
#include "mg_pool.h"
#include "mg_progress.h"

/** Statistic under weights w (n draw counts): fill out[nout]; return 0, 1 to
 *  skip the replicate (e.g. a class is missing), or -1 on failure. Called
 *  concurrently from several threads. */
typedef int (*mg_boot_fn)(void *ctx, const double *w, double *out);

/** Run B replicates. res[b*nout + j] receives statistic j of replicate b (NaN
 *  for skipped ones); *nskipped counts them. 0, or -1 (memory, thread or
 *  statistic failure); the pool and progress may be NULL (progress is
 *  stepped in replicates done). */
MG_MUST_CHECK int mg_bootstrap(size_t n, int B, uint64_t seed, mg_pool *pool, int nout,
                 mg_boot_fn fn, void *ctx, double *res, int *nskipped, mg_progress *progress);

/** Percentile interval of column j of res (B rows, nout columns) at level
 *  1 - alpha, ignoring NaN. *nused receives the number of finite values. */
void mg_boot_interval(const double *res, int B, int nout, int j, double alpha,
                      double *lo, double *hi, int *nused);

#endif
