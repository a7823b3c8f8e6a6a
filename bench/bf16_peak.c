/* bf16_peak: GFLOP/s of oneDNN's bf16 matmul (bf16 × bf16 -> f32, weights packed
 * in the layout oneDNN prefers) on n×n matrices with T OpenMP threads, median of
 * R runs; prints "GFLOPS ISA". Built by bench/encode2d.sh: the machine's bf16
 * GEMM ceiling for the ratios. */
#include <oneapi/dnnl/dnnl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void omp_set_num_threads(int);

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define OK(call) do { if ((call) != dnnl_success) { fprintf(stderr, "bf16_peak: %s failed\n", #call); return 1; } } while (0)

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2048, t = argc > 2 ? atoi(argv[2]) : 1,
        r = argc > 3 ? atoi(argv[3]) : 3;
    if (n < 1 || t < 1 || r < 1 || r > 99) return 2;
    omp_set_num_threads(t);
    dnnl_engine_t eng;
    dnnl_stream_t st;
    OK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    OK(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));
    dnnl_dims_t d = { n, n };
    dnnl_memory_desc_t a_md, w_any, w_plain, c_md;
    OK(dnnl_memory_desc_init_by_tag(&a_md, 2, d, dnnl_bf16, dnnl_ab));
    OK(dnnl_memory_desc_init_by_tag(&w_any, 2, d, dnnl_bf16, dnnl_format_tag_any));
    OK(dnnl_memory_desc_init_by_tag(&w_plain, 2, d, dnnl_bf16, dnnl_ab));
    OK(dnnl_memory_desc_init_by_tag(&c_md, 2, d, dnnl_f32, dnnl_ab));
    dnnl_matmul_desc_t md;
    OK(dnnl_matmul_desc_init(&md, &a_md, &w_any, NULL, &c_md));
    dnnl_primitive_desc_t pd, rpd;
    OK(dnnl_primitive_desc_create(&pd, &md, NULL, eng, NULL));
    const dnnl_memory_desc_t *w_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_memory_t A, W, Wp, C;
    OK(dnnl_memory_create(&A, &a_md, eng, DNNL_MEMORY_ALLOCATE));
    OK(dnnl_memory_create(&W, &w_plain, eng, DNNL_MEMORY_ALLOCATE));
    OK(dnnl_memory_create(&Wp, w_md, eng, DNNL_MEMORY_ALLOCATE));
    OK(dnnl_memory_create(&C, &c_md, eng, DNNL_MEMORY_ALLOCATE));
    uint16_t *a, *w;
    OK(dnnl_memory_get_data_handle(A, (void **)&a));
    OK(dnnl_memory_get_data_handle(W, (void **)&w));
    for (long i = 0; i < (long)n * n; i++) {
        a[i] = (uint16_t)(0x3F80 + i % 7);      /* bf16 values near 1 */
        w[i] = (uint16_t)(0x3DCC + i % 5);      /* near 0.1 */
    }
    dnnl_primitive_t reorder, mm;
    OK(dnnl_reorder_primitive_desc_create(&rpd, &w_plain, eng, w_md, eng, NULL));
    OK(dnnl_primitive_create(&reorder, rpd));
    dnnl_exec_arg_t ra[2] = { { DNNL_ARG_FROM, W }, { DNNL_ARG_TO, Wp } };
    OK(dnnl_primitive_execute(reorder, st, 2, ra));
    OK(dnnl_primitive_create(&mm, pd));
    dnnl_exec_arg_t args[3] = { { DNNL_ARG_SRC, A }, { DNNL_ARG_WEIGHTS, Wp }, { DNNL_ARG_DST, C } };
    OK(dnnl_primitive_execute(mm, st, 3, args));
    OK(dnnl_stream_wait(st));
    double g[99];
    for (int k = 0; k < r; k++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        OK(dnnl_primitive_execute(mm, st, 3, args));
        OK(dnnl_stream_wait(st));
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        g[k] = 2.0 * n * n * (double)n / s / 1e9;
    }
    qsort(g, (size_t)r, sizeof g[0], cmp);
    const char *impl = "?";
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    printf("%.1f %s\n", g[r / 2], impl);
    return 0;
}
