/* sgemm_peak: GFLOP/s of cblas_sgemm on n×n matrices with T threads, median of R runs.
 * Built by bench/encode2d.sh; the machine's fp32 GEMM ceiling for the ratios. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void openblas_set_num_threads(int);

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2048, t = argc > 2 ? atoi(argv[2]) : 1,
        r = argc > 3 ? atoi(argv[3]) : 3;
    if (n < 1 || t < 1 || r < 1 || r > 99) return 2;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
          *c = malloc(sizeof(float) * n * n);
    if (!a || !b || !c) return 1;
    for (long i = 0; i < (long)n * n; i++) { a[i] = (float)(i % 7) * 0.1f; b[i] = (float)(i % 5) * 0.1f; }
    openblas_set_num_threads(t);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    double g[99];
    for (int k = 0; k < r; k++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        g[k] = 2.0 * n * n * (double)n / s / 1e9;
    }
    qsort(g, (size_t)r, sizeof g[0], cmp);
    printf("%.1f\n", g[r / 2]);
    free(a); free(b); free(c);
    return 0;
}
