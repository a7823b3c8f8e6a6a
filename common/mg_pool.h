/* mg_pool.h: one persistent thread pool with a parallel-for.
 *
 * Threads are started once by mg_pool_create() and reused by every
 * mg_pool_for() (as minimap2's kt_for and htslib's hts_tpool do), so that
 * kernels called many times per second pay no thread creation. Tasks are
 * handed out one index at a time from an atomic counter; which worker runs a
 * task is not deterministic, so callers must make results depend only on the
 * task index (per-worker scratch indexed by `worker` is fine).
 */
#ifndef MG_POOL_H
#define MG_POOL_H

#include "mg_err.h"

typedef struct mg_pool mg_pool;

/** A pool of nthreads workers counting the caller (nthreads - 1 threads are
 *  started; nthreads <= 1 starts none). NULL when out of memory or when no
 *  thread could be started at all for nthreads > 1. */
MG_MUST_CHECK mg_pool *mg_pool_create(int nthreads);
/** Stop and join the threads; NULL is allowed. */
void mg_pool_free(mg_pool *p);
/** Workers including the caller (1 for a NULL pool). */
int mg_pool_threads(const mg_pool *p);

/** Run fn(arg, task, worker) for every task in [0, ntasks) and return when all
 *  have finished; worker is in [0, mg_pool_threads(p)), the caller being one of
 *  them. A NULL pool, or a pool already running a loop (a call from inside a
 *  task, or from another thread), runs the tasks on the caller as worker 0.
 *  Returns 0. */
int mg_pool_for(mg_pool *p, int ntasks, void (*fn)(void *arg, int task, int worker), void *arg);

#endif
