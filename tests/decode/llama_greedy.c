/* llama-greedy: greedy continuation of a prompt given as token ids, by llama.cpp
 * (libllama), the second implementation mg-decode's output is compared with.
 * Driving by ids leaves tokenizers out of the comparison.
 *
 *   llama-greedy MODEL.gguf N "ID ID ..." [-t THREADS] [--logits OUT.npy] [-v]
 *
 * Prints the N generated ids on one line. With --logits, writes the logits of
 * every processed position (each prompt position, then each generated token but
 * the last) as a float32 .npy [rows, vocab], the layout of mg-decode
 * --dump-logits. With -v, prints the prompt and generation speeds on stderr
 * (model loading excluded; generation counts the N - 1 tokens fed back). The K/V cache is kept in float32 and flash attention is off,
 * so that the cache does not round to float16 (llama.cpp's default cache type)
 * and the comparison sees the model's arithmetic rather than a storage choice. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"

static void quiet_log(enum ggml_log_level level, const char *text, void *user)
{
    (void)user;
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static int parse_ids(const char *s, llama_token **out, int *n)
{
    size_t cap = 16;
    int k = 0;
    llama_token *v = malloc(cap * sizeof *v);
    if (!v) return -1;
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == '\n') s++;
        if (!*s) break;
        char *end;
        errno = 0;
        long x = strtol(s, &end, 10);
        if (end == s || errno || x < 0 || x > 0x7fffffff) { free(v); return -1; }
        if ((size_t)k == cap) {
            llama_token *w = realloc(v, 2 * cap * sizeof *v);
            if (!w) { free(v); return -1; }
            v = w; cap *= 2;
        }
        v[k++] = (llama_token)x;
        s = end;
    }
    *out = v; *n = k;
    return k > 0 ? 0 : -1;
}

/* A float32 .npy (format 1.0) with the header padded to a multiple of 64 bytes. */
static int write_npy(const char *path, const float *x, long rows, long cols)
{
    char h[128];
    int hl = snprintf(h, sizeof h, "{'descr': '<f4', 'fortran_order': False, 'shape': (%ld, %ld), }", rows, cols);
    int total = 10 + hl + 1, pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
    unsigned hlen = (unsigned)(hl + pad + 1);
    pre[8] = (unsigned char)(hlen & 0xff); pre[9] = (unsigned char)(hlen >> 8);
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(h, 1, (size_t)hl, f) == (size_t)hl;
    for (int i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    ok = ok && fwrite(x, sizeof *x, (size_t)(rows * cols), f) == (size_t)(rows * cols);
    if (fclose(f) != 0) ok = 0;
    return ok ? 0 : -1;
}

static llama_token argmax(const float *row, int nv)
{
    int best = 0;
    for (int i = 1; i < nv; i++) if (row[i] > row[best]) best = i;
    return best;
}

int main(int argc, char **argv)
{
    const char *model_path = NULL, *ids_arg = NULL, *logits_path = NULL;
    long n_gen = -1;
    int threads = 1, npos = 0, verbose = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-t") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--logits") && i + 1 < argc) logits_path = argv[++i];
        else if (!strcmp(argv[i], "-v")) verbose = 1;
        else if (npos == 0) { model_path = argv[i]; npos++; }
        else if (npos == 1) { n_gen = strtol(argv[i], NULL, 10); npos++; }
        else if (npos == 2) { ids_arg = argv[i]; npos++; }
        else npos = 99;
    }
    if (npos != 3 || n_gen < 1 || threads < 1) {
        fprintf(stderr, "usage: llama-greedy MODEL.gguf N \"IDS\" [-t THREADS] [--logits OUT.npy] [-v]\n");
        return 2;
    }
    llama_token *prompt = NULL, *gen = NULL;
    float *dump = NULL;
    struct llama_model *model = NULL;
    struct llama_context *ctx = NULL;
    struct llama_batch batch = {0};
    int have_batch = 0, rc = 1, n_prompt = 0;
    const char *why = "out of memory";

    if (parse_ids(ids_arg, &prompt, &n_prompt) < 0) { why = "bad token ids"; goto fail; }
    llama_log_set(quiet_log, NULL);
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    if (!(model = llama_model_load_from_file(model_path, mp))) { why = "cannot load the model"; goto fail; }
    const int nv = llama_vocab_n_tokens(llama_model_get_vocab(model));
    for (int i = 0; i < n_prompt; i++)
        if (prompt[i] >= nv) { why = "token id outside the vocabulary"; goto fail; }

    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)(n_prompt + n_gen);
    cp.n_batch = cp.n_ctx;
    cp.n_threads = cp.n_threads_batch = threads;
    cp.type_k = cp.type_v = GGML_TYPE_F32;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.no_perf = 1;
    if (!(ctx = llama_init_from_model(model, cp))) { why = "cannot make a context"; goto fail; }

    long rows = n_prompt + n_gen - 1;
    if (!(gen = malloc((size_t)n_gen * sizeof *gen))) goto fail;
    if (logits_path && !(dump = malloc((size_t)rows * (size_t)nv * sizeof *dump))) goto fail;
    batch = llama_batch_init(n_prompt, 0, 1);
    have_batch = 1;
    for (int i = 0; i < n_prompt; i++) {
        batch.token[i] = prompt[i];
        batch.pos[i] = i;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = logits_path != NULL || i == n_prompt - 1;
    }
    batch.n_tokens = n_prompt;
    int64_t t0 = llama_time_us();
    if (llama_decode(ctx, batch) != 0) { why = "prompt decode failed"; goto fail; }
    int64_t t1 = llama_time_us();
    if (dump)
        for (int i = 0; i < n_prompt; i++)
            memcpy(dump + (size_t)i * nv, llama_get_logits_ith(ctx, i), (size_t)nv * sizeof *dump);
    const float *row = llama_get_logits_ith(ctx, -1);
    for (long k = 0; k < n_gen; k++) {
        gen[k] = argmax(row, nv);
        if (k == n_gen - 1) break;
        llama_token t = gen[k];
        if (llama_decode(ctx, llama_batch_get_one(&t, 1)) != 0) { why = "decode failed"; goto fail; }
        row = llama_get_logits_ith(ctx, -1);
        if (dump) memcpy(dump + (size_t)(n_prompt + k) * nv, row, (size_t)nv * sizeof *dump);
    }
    int64_t t2 = llama_time_us();
    if (verbose)
        fprintf(stderr, "llama-greedy: prompt %d tokens, %.2f tokens/s; generated %ld tokens, %.2f tokens/s\n",
                n_prompt, n_prompt / ((t1 - t0) * 1e-6), n_gen - 1,
                n_gen > 1 ? (n_gen - 1) / ((t2 - t1) * 1e-6) : 0.0);
    for (long k = 0; k < n_gen; k++) printf("%s%d", k ? " " : "", gen[k]);
    printf("\n");
    if (fflush(stdout) != 0) { why = "cannot write the output"; goto fail; }
    if (dump && write_npy(logits_path, dump, rows, nv) < 0) { why = "cannot write the logits"; goto fail; }
    rc = 0;
fail:
    if (rc) fprintf(stderr, "llama-greedy: error: %s: %s\n", model_path ? model_path : "-", why);
    if (have_batch) llama_batch_free(batch);
    if (ctx) llama_free(ctx);
    if (model) llama_model_free(model);
    if (model) llama_backend_free();
    free(prompt); free(gen); free(dump);
    return rc;
}
