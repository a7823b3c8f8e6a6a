/* head.c: the head families written by mg-fit (mg_head.h): a linear layer
 * (logistic or ridge regression) and a one-hidden-layer MLP, both on
 * standardised inputs, parameters in F64 in head.safetensors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../mg_ckpt.h"
#include "../mg_family.h"
#include "../mg_head.h"

/* norm.mean, norm.scale [D]. */
static int load_norm(mg_ckpt *ck, mg_head *h)
{
    int64_t d = h->d;
    return (h->mean = mg_ckpt_f64(ck, "norm.mean", 1, &d)) && (h->scale = mg_ckpt_f64(ck, "norm.scale", 1, &d))
        ? 0 : -1;
}

/* base.weight [out, in] and base.bias [out], as torch.nn.Linear. */
static int load_linear(mg_ckpt *ck, const char *base, int64_t out, int64_t in, double **w, double **b)
{
    char nm[64];
    int64_t sw[2] = { out, in };
    snprintf(nm, sizeof nm, "%s.weight", base);
    if (!(*w = mg_ckpt_f64(ck, nm, 2, sw))) return -1;
    snprintf(nm, sizeof nm, "%s.bias", base);
    return (*b = mg_ckpt_f64(ck, nm, 1, &out)) ? 0 : -1;
}

static int linear_load(mg_ckpt *ck, mg_head *h)
{
    return load_norm(ck, h) < 0 || load_linear(ck, "linear", h->k, h->d, &h->weight, &h->bias) < 0 ? -1 : 0;
}

static int linear_predict(const mg_head *h, const float *x, int64_t n, double *out)
{
    int d = h->d, k = h->k;
    for (int64_t i = 0; i < n; i++) {
        const float *r = x + (size_t)i * (size_t)d;
        double *o = out + (size_t)i * (size_t)h->nout;
        for (int j = 0; j < k; j++) {
            const double *w = h->weight + (size_t)j * (size_t)d;
            double s = 0;
            /* the solver's arithmetic: (x − mean) · (w / scale) */
            for (int c = 0; c < d; c++) s += (r[c] - h->mean[c]) * (w[c] / h->scale[c]);
            o[j] = h->bias[j] + s;
        }
        mg_head_activate(h, o);
    }
    return 0;
}

static int mlp_load(mg_ckpt *ck, mg_head *h)
{
    const char *act;
    int hid;
    const mg_cfg *cfg = mg_ckpt_config(ck);
    if (mg_cfg_int(ck, cfg, "hidden_size", 0, &hid) < 0 || mg_cfg_str(ck, cfg, "hidden_act", "relu", &act) < 0)
        return -1;
    if (hid < 1 || hid > MG_HEAD_MAX_HIDDEN) {
        mg_ckpt_error(ck, "config.json: hidden_size must be 1 to %d", MG_HEAD_MAX_HIDDEN);
        return -1;
    }
    if (strcmp(act, "relu") != 0) {
        mg_ckpt_error(ck, "config.json: unsupported hidden_act '%s' (relu)", act);
        return -1;
    }
    h->hidden = hid;
    if (load_norm(ck, h) < 0 || load_linear(ck, "hidden", hid, h->d, &h->hidden_weight, &h->hidden_bias) < 0 ||
        load_linear(ck, "output", h->k, hid, &h->weight, &h->bias) < 0)
        return -1;
    return 0;
}

static int mlp_predict(const mg_head *h, const float *x, int64_t n, double *out)
{
    int d = h->d, k = h->k, H = h->hidden;
    double *xs = malloc((size_t)d * sizeof *xs), *a = malloc((size_t)H * sizeof *a);
    if (!xs || !a) { free(xs); free(a); return -1; }
    for (int64_t i = 0; i < n; i++) {
        const float *r = x + (size_t)i * (size_t)d;
        double *o = out + (size_t)i * (size_t)h->nout;
        for (int c = 0; c < d; c++) xs[c] = (r[c] - h->mean[c]) / h->scale[c];
        for (int u = 0; u < H; u++) {
            const double *w = h->hidden_weight + (size_t)u * (size_t)d;
            double s = 0;
            for (int c = 0; c < d; c++) s += w[c] * xs[c];
            s += h->hidden_bias[u];
            a[u] = s > 0 ? s : 0;
        }
        for (int j = 0; j < k; j++) {
            const double *w = h->weight + (size_t)j * (size_t)H;
            double s = 0;
            for (int u = 0; u < H; u++) s += w[u] * a[u];
            o[j] = s + h->bias[j];
        }
        mg_head_activate(h, o);
    }
    free(xs); free(a);
    return 0;
}

static const mg_head_ops linear_ops = { .load = linear_load, .predict = linear_predict };
static const mg_head_ops mlp_ops = { .load = mlp_load, .predict = mlp_predict };
static const char *const linear_types[] = { MG_HEAD_MODEL_TYPE, NULL };
static const char *const mlp_types[] = { MG_HEAD_MLP_MODEL_TYPE, NULL };
const mg_family mg_family_head_linear = { "linear-head", MG_ROLE_HEAD, linear_types, &linear_ops };
const mg_family mg_family_head_mlp = { "mlp-head", MG_ROLE_HEAD, mlp_types, &mlp_ops };
