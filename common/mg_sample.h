/* mg_sample.h: choosing the next token from a row of logits: greedy, or
 * sampling with temperature, top-k, top-p and min-p (applied in that order, as
 * transformers' logits warpers), after a repetition penalty; reproducible from
 * a seed (its own generator, no global state). */
#ifndef MG_SAMPLE_H
#define MG_SAMPLE_H

#include <stddef.h>
#include <stdint.h>
#include "mg_err.h"

typedef struct {
    double temperature;        /* 0: greedy (argmax, lowest id on ties) */
    int top_k;                 /* 0: off */
    double top_p;              /* 1: off */
    double min_p;              /* 0: off */
    double repeat_penalty;     /* 1: off; >1 penalises ids already seen */
    uint64_t seed;
} mg_sample_params;

mg_sample_params mg_sample_default_params(void);

typedef struct {
    mg_sample_params p;
    uint64_t state[4];         /* xoshiro256** */
    int32_t *order;            /* scratch: ids by logit */
    double *prob;
    int64_t cap;
} mg_sampler;

/** Set up a sampler (its generator seeded from p->seed). 0, or -1 (memory for n_vocab). */
MG_MUST_CHECK int mg_sampler_init(mg_sampler *s, const mg_sample_params *p, int64_t n_vocab);
void mg_sampler_free(mg_sampler *s);
/** The next id from logits[n_vocab] (modified in place by the penalty);
 *  seen[n_seen] are the ids the repetition penalty applies to. */
int32_t mg_sampler_next(mg_sampler *s, float *logits, int64_t n_vocab, const int32_t *seen,
                        int64_t n_seen);
/** log softmax(logits)[id] in double. */
double mg_log_prob(const float *logits, int64_t n_vocab, int32_t id);

#endif
