/* mg_pool.c: persistent workers around a shared task counter (see mg_pool.h). */
#include "mg_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct mg_pool {
    int n;                        /* workers counting the caller */
    pthread_t *th;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long gen;            /* bumped for each loop; workers wait for a new one */
    int quit;
    int running;                  /* threads still inside the current loop */
    atomic_flag busy;             /* a loop is in progress */
    /* the current loop */
    void (*fn)(void *, int, int);
    void *arg;
    int ntasks;
    atomic_int next;
};

typedef struct { mg_pool *p; int worker; } pool_worker;

static void run_tasks(mg_pool *p, int worker)
{
    for (;;) {
        int t = atomic_fetch_add(&p->next, 1);
        if (t >= p->ntasks) break;
        p->fn(p->arg, t, worker);
    }
}

static void *worker_main(void *v)
{
    pool_worker w = *(pool_worker *)v;
    free(v);
    mg_pool *p = w.p;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->gen == seen && !p->quit) pthread_cond_wait(&p->go, &p->mu);
        if (p->quit) break;
        seen = p->gen;
        pthread_mutex_unlock(&p->mu);
        run_tasks(p, w.worker);
        pthread_mutex_lock(&p->mu);
        if (--p->running == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

mg_pool *mg_pool_create(int nthreads)
{
    mg_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    if (nthreads < 1) nthreads = 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_flag_clear(&p->busy);
    atomic_init(&p->next, 0);
    p->n = 1;
    if (nthreads > 1 && !(p->th = calloc((size_t)nthreads, sizeof *p->th))) goto fail;
    for (int i = 1; i < nthreads; i++) {
        pool_worker *w = malloc(sizeof *w);
        if (!w) break;
        w->p = p;
        w->worker = i;
        if (pthread_create(&p->th[i], NULL, worker_main, w) != 0) { free(w); break; }
        p->n = i + 1;
    }
    /* fewer threads than asked only changes speed, never results */
    if (nthreads > 1 && p->n == 1) goto fail;
    return p;
fail:
    mg_pool_free(p);
    return NULL;
}

void mg_pool_free(mg_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->th[i], NULL);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->th);
    free(p);
}

int mg_pool_threads(const mg_pool *p)
{
    return p ? p->n : 1;
}

int mg_pool_for(mg_pool *p, int ntasks, void (*fn)(void *arg, int task, int worker), void *arg)
{
    if (ntasks <= 0) return 0;
    if (!p || p->n == 1 || ntasks == 1 || atomic_flag_test_and_set(&p->busy)) {
        for (int t = 0; t < ntasks; t++) fn(arg, t, 0);
        return 0;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->ntasks = ntasks;
    atomic_store(&p->next, 0);
    p->running = p->n - 1;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    run_tasks(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->running > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    atomic_flag_clear(&p->busy);
    return 0;
}
