/* mg_sample.c: next-token choice (see mg_sample.h). */
#include "mg_sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

mg_sample_params mg_sample_default_params(void)
{
    return (mg_sample_params){ 0.0, 0, 1.0, 0.0, 1.0, 0 };
}

/* splitmix64 to spread the seed over xoshiro256**'s state (Vigna's advice) */
static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t xoshiro(uint64_t *s)
{
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 45);
    return r;
}

int mg_sampler_init(mg_sampler *s, const mg_sample_params *p, int64_t n_vocab)
{
    memset(s, 0, sizeof *s);
    s->p = *p;
    uint64_t x = p->seed;
    for (int i = 0; i < 4; i++) s->state[i] = splitmix(&x);
    s->order = malloc((size_t)n_vocab * sizeof *s->order);
    s->prob = malloc((size_t)n_vocab * sizeof *s->prob);
    s->cap = n_vocab;
    return s->order && s->prob ? 0 : -1;
}

void mg_sampler_free(mg_sampler *s)
{
    free(s->order);
    free(s->prob);
    memset(s, 0, sizeof *s);
}

static int by_logit(const void *a, const void *b, void *ctx)
{
    const float *lg = ctx;
    int32_t i = *(const int32_t *)a, j = *(const int32_t *)b;
    float x = lg[i], y = lg[j];
    return x > y ? -1 : x < y ? 1 : (i > j) - (i < j);
}

int32_t mg_sampler_next(mg_sampler *s, float *lg, int64_t n, const int32_t *seen, int64_t n_seen)
{
    if (n > s->cap) n = s->cap;
    /* transformers RepetitionPenaltyLogitsProcessor: positive logits divided,
     * negative multiplied, once per distinct id. */
    if (s->p.repeat_penalty != 1.0)
        for (int64_t i = 0; i < n_seen; i++) {
            int32_t t = seen[i];
            if (t < 0 || t >= n) continue;
            int dup = 0;
            for (int64_t k = 0; k < i && !dup; k++) dup = seen[k] == t;
            if (dup) continue;
            lg[t] = lg[t] > 0 ? (float)(lg[t] / s->p.repeat_penalty) : (float)(lg[t] * s->p.repeat_penalty);
        }
    int32_t best = 0;
    for (int64_t i = 1; i < n; i++) if (lg[i] > lg[best]) best = (int32_t)i;
    if (s->p.temperature <= 0) return best;

    /* Candidates sorted by logit (ties by id) so that every cut is deterministic. */
    int64_t m = n;
    for (int64_t i = 0; i < n; i++) s->order[i] = (int32_t)i;
    qsort_r(s->order, (size_t)n, sizeof *s->order, by_logit, lg);
    if (s->p.top_k > 0 && s->p.top_k < m) m = s->p.top_k;
    double mx = lg[s->order[0]] / s->p.temperature, sum = 0;
    for (int64_t i = 0; i < m; i++) {
        s->prob[i] = exp(lg[s->order[i]] / s->p.temperature - mx);
        sum += s->prob[i];
    }
    for (int64_t i = 0; i < m; i++) s->prob[i] /= sum;
    if (s->p.top_p < 1.0) {          /* smallest prefix whose mass reaches top_p */
        double c = 0;
        int64_t k = 0;
        while (k < m) { c += s->prob[k++]; if (c >= s->p.top_p) break; }
        m = k;
    }
    if (s->p.min_p > 0) {            /* drop ids below min_p times the top probability */
        int64_t k = 1;
        while (k < m && s->prob[k] >= s->p.min_p * s->prob[0]) k++;
        m = k;
    }
    sum = 0;
    for (int64_t i = 0; i < m; i++) sum += s->prob[i];
    /* 53 random bits -> [0, 1), scaled to the kept mass */
    double u = (double)(xoshiro(s->state) >> 11) * 0x1.0p-53 * sum, c = 0;
    for (int64_t i = 0; i < m; i++) {
        c += s->prob[i];
        if (u < c) return s->order[i];
    }
    return s->order[m - 1];
}

double mg_log_prob(const float *lg, int64_t n, int32_t id)
{
    double mx = lg[0], sum = 0;
    for (int64_t i = 1; i < n; i++) if (lg[i] > mx) mx = lg[i];
    for (int64_t i = 0; i < n; i++) sum += exp((double)lg[i] - mx);
    return (double)lg[id] - mx - log(sum);
}
