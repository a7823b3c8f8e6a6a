/* Memory read and copy bandwidth of this machine: the ceiling that streaming
 * workloads are compared with in make bench. `membw [THREADS]`: the read pass
 * runs on THREADS threads [1], each over its own slice at the same time (the way
 * a matrix-vector product over a weight matrix is split); the copy is one memcpy
 * on one thread. Prints "read_GBs copy_GBs checksum_bit". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    const unsigned long long *a;
    size_t n;
    unsigned long long s;
} slice;

static void *read_slice(void *arg)
{
    slice *sl = arg;
    unsigned long long s = 0;
    for (size_t i = 0; i + 4 <= sl->n; i += 4) s += sl->a[i] ^ sl->a[i + 1] ^ sl->a[i + 2] ^ sl->a[i + 3];
    sl->s = s;
    return NULL;
}

int main(int argc, char **argv)
{
    int nt = argc > 1 ? atoi(argv[1]) : 1;
    if (nt < 1 || nt > 256) { fprintf(stderr, "usage: membw [THREADS]\n"); return 2; }
    size_t n = (size_t)1 << 27;                 /* 1 GiB of u64 */
    unsigned long long *a = malloc(n * 8), *b = malloc(n * 8);
    pthread_t th[256];
    slice sl[256];
    if (!a || !b) return 1;
    memset(a, 1, n * 8);
    memset(b, 0, n * 8);
    double rd[5], cp[5];
    unsigned long long s = 0;
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        for (int t = 0; t < nt; t++) {
            sl[t] = (slice){a + n / nt * t, n / nt, 0};
            if (t && pthread_create(&th[t], NULL, read_slice, &sl[t]) != 0) return 1;
        }
        read_slice(&sl[0]);
        for (int t = 1; t < nt; t++) pthread_join(th[t], NULL);
        rd[r] = n / nt * nt * 8 / (now() - t0) / 1e9;
        for (int t = 0; t < nt; t++) s += sl[t].s;
        t0 = now();
        memcpy(b, a, n * 8);
        cp[r] = n * 8 / (now() - t0) / 1e9;
    }
    qsort(rd, 5, sizeof *rd, cmp);
    qsort(cp, 5, sizeof *cp, cmp);
    printf("%.2f %.2f %llu\n", rd[2], cp[2], s & 1);
    free(a); free(b);
    return 0;
}
