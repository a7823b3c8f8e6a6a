/* The thread pool: every task runs once, on a worker numbered below the
 * pool's size; the threads are started once and reused; a loop started from
 * inside a task runs on the caller; a NULL pool runs everything on worker 0. */
#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_pool.h"

static int fails;

static void check(const char *name, int ok, const char *why)
{
    if (ok) printf("PASS %s\n", name);
    else { printf("FAIL %s: %s\n", name, why); fails++; }
}

/* threads of this process, from /proc/self/task */
static int thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    struct dirent *e;
    if (!d) return -1;
    while ((e = readdir(d))) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

typedef struct {
    atomic_int *runs;
    int nworkers;
    atomic_int bad_worker;
    mg_pool *pool;
    atomic_int inner;
} job;

static void count_task(void *arg, int task, int worker)
{
    job *j = arg;
    atomic_fetch_add(&j->runs[task], 1);
    if (worker < 0 || worker >= j->nworkers) atomic_store(&j->bad_worker, 1);
}

static void inner_task(void *arg, int task, int worker)
{
    job *j = arg;
    (void)task;
    if (worker != 0) atomic_store(&j->bad_worker, 1);
    atomic_fetch_add(&j->inner, 1);
}

static void nesting_task(void *arg, int task, int worker)
{
    job *j = arg;
    count_task(arg, task, worker);
    mg_pool_for(j->pool, 3, inner_task, j);
}

static int all_once(const job *j, int n)
{
    for (int t = 0; t < n; t++)
        if (atomic_load(&j->runs[t]) != 1) return 0;
    return 1;
}

int main(void)
{
    enum { N = 1000, CALLS = 2000 };
    atomic_int runs[N];
    char why[128];
    job j = { runs, 1, 0, NULL, 0 };

    for (int t = 0; t < N; t++) atomic_init(&runs[t], 0);
    mg_pool_for(NULL, N, count_task, &j);
    check("null_pool_runs_every_task_once_on_worker_0", all_once(&j, N) && !j.bad_worker, "a task ran twice, never, or off worker 0");

    int before = thread_count();
    mg_pool *p = mg_pool_create(4);
    if (!p) { check("pool_created", 0, "mg_pool_create(4) failed"); return 1; }
    int after = thread_count();
    snprintf(why, sizeof why, "%d threads before, %d after, pool of %d", before, after, mg_pool_threads(p));
    check("pool_starts_its_threads_once", mg_pool_threads(p) == 4 && after - before == 3, why);

    j.nworkers = mg_pool_threads(p);
    int ok = 1;
    for (int c = 0; c < CALLS && ok; c++) {
        int n = 1 + c % N;
        for (int t = 0; t < n; t++) atomic_store(&runs[t], 0);
        mg_pool_for(p, n, count_task, &j);
        ok = all_once(&j, n) && !j.bad_worker;
    }
    check("every_task_runs_once_on_a_valid_worker", ok, "a task ran twice or never, or a worker number out of range");
    snprintf(why, sizeof why, "%d threads after %d loops, %d before", thread_count(), CALLS, after);
    check("loops_reuse_the_threads", thread_count() == after, why);

    for (int t = 0; t < N; t++) atomic_store(&runs[t], 0);
    j.pool = p;
    mg_pool_for(p, 50, nesting_task, &j);
    check("loop_inside_a_task_runs_on_the_caller", all_once(&j, 50) && atomic_load(&j.inner) == 150 && !j.bad_worker,
          "nested loop lost tasks or ran on other workers");

    mg_pool_free(p);
    snprintf(why, sizeof why, "%d threads after free, %d before create", thread_count(), before);
    check("free_joins_the_threads", thread_count() == before, why);
    return fails != 0;
}
