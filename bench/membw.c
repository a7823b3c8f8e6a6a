/* Memory read and copy bandwidth of this machine, one thread: the ceiling that
 * streaming workloads are compared with in make bench. Prints "read_GBs copy_GBs". */
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

int main(void)
{
    size_t n = (size_t)1 << 27;                 /* 1 GiB of u64 */
    unsigned long long *a = malloc(n * 8), *b = malloc(n * 8);
    if (!a || !b) return 1;
    memset(a, 1, n * 8);
    memset(b, 0, n * 8);
    double rd[5], cp[5];
    unsigned long long s = 0;
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        for (size_t i = 0; i < n; i += 4) s += a[i] ^ a[i + 1] ^ a[i + 2] ^ a[i + 3];
        rd[r] = n * 8 / (now() - t0) / 1e9;
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
