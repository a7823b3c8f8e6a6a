/* siglip_text.c: the siglip-text family, the text tower of a SigLIP / MedSigLIP
 * SiglipModel checkpoint (transformers modeling_siglip.py SiglipTextTransformer):
 *   x = token_embedding[ids] + position_embedding[0..T-1];
 *   the pre-LN SigLIP encoder layers (vit_block.h), no attention mask;
 *   pooled = head(final_layer_norm(x)[T-1])  — the last position ("sticky EOS"),
 *   which is why text is always padded to max_position_embeddings;
 * plus the model's top-level logit_scale and logit_bias (zero-shot logits
 * exp(logit_scale)·cos + logit_bias, SiglipModel.forward).
 * Text is prepared as SiglipTokenizer does (tokenization_siglip.py): lower-cased
 * (do_lower_case; Latin, Greek and Cyrillic capitals), ASCII punctuation removed and whitespace runs folded to one
 * space, trimmed (canonicalize_text), SentencePiece pieces, </s> appended, then
 * truncated and padded with </s> (its pad token) to max_length.
 * The matrix products run on the back end ctx->precision asks for (mg_matmul.h),
 * chosen at the first forward pass: the text-encoder role has no load-time
 * context. */
#include "models.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../mg_tensor.h"
#include "../mg_textenc.h"

typedef struct {
    int dim, heads, layers, ffn, act, vocab, seq, proj;
    float eps;
    const mg_st_tensor *tok_emb;      /* [vocab, D] in file dtype; rows converted on use */
    float *pos;                       /* [seq, D] */
    mg_vit_block *layer;
    float *fin_w, *fin_b;
    mg_nn_weight head;                /* [proj, D] */
    float *head_b;
    double logit_scale, logit_bias;
    mg_mm *mm;                        /* the matmul back end, once chosen */
    int mm_req;                       /* the precision it was chosen for */
} siglip_text;

static void text_free(void *state)
{
    siglip_text *s = state;
    if (!s) return;
    mg_mm_free(s->mm);
    free(s->layer);
    free(s);
}

static void *text_load(mg_ckpt *ck, char *err, size_t errlen)
{
    (void)err; (void)errlen;          /* errors go through the checkpoint */
    siglip_text *s = calloc(1, sizeof *s);
    if (!s) { mg_ckpt_error(ck, "out of memory"); return NULL; }
    const mg_cfg *cfg = mg_ckpt_config(ck);
    const mg_cfg *c = mg_cfg_sub(cfg, "text_config");
    double eps;
    /* SiglipTextConfig defaults (transformers); projection_size defaults to hidden_size */
    if (mg_cfg_int(ck, c, "hidden_size", 768, &s->dim) < 0 ||
        mg_cfg_int(ck, c, "intermediate_size", 3072, &s->ffn) < 0 ||
        mg_cfg_int(ck, c, "num_hidden_layers", 12, &s->layers) < 0 ||
        mg_cfg_int(ck, c, "num_attention_heads", 12, &s->heads) < 0 ||
        mg_cfg_int(ck, c, "max_position_embeddings", 64, &s->seq) < 0 ||
        mg_cfg_int(ck, c, "vocab_size", 32000, &s->vocab) < 0 ||
        mg_cfg_int(ck, c, "projection_size", s->dim, &s->proj) < 0 ||
        mg_cfg_num(ck, c, "layer_norm_eps", 1e-6, &eps) < 0 ||
        mg_cfg_act(ck, c, "hidden_act", "gelu_pytorch_tanh", &s->act) < 0) goto fail;
    if (s->dim < 1 || s->heads < 1 || s->dim % s->heads || s->layers < 1 || s->ffn < 1 ||
        s->seq < 2 || s->vocab < 1 || s->proj < 1) {
        mg_ckpt_error(ck, "text_config: hidden_size %d, num_attention_heads %d, num_hidden_layers "
                      "%d, intermediate_size %d, max_position_embeddings %d, vocab_size %d, "
                      "projection_size %d do not make a text tower", s->dim, s->heads, s->layers,
                      s->ffn, s->seq, s->vocab, s->proj);
        goto fail;
    }
    if (s->act == MG_ACT_SWIGLU) { mg_ckpt_error(ck, "text_config: hidden_act must be a GELU"); goto fail; }
    s->eps = (float)eps;
    int64_t D = s->dim;
    int64_t ed[2] = { s->vocab, D }, pd[2] = { s->seq, D }, one[1] = { 1 };
    mg_ckpt_set_prefix(ck, "text_model.");
    if (!(s->tok_emb = mg_ckpt_tensor(ck, "embeddings.token_embedding.weight", 2, ed)) ||
        !(s->pos = mg_ckpt_f32(ck, "embeddings.position_embedding.weight", 2, pd))) goto fail;
    if (!(s->layer = calloc((size_t)s->layers, sizeof *s->layer))) {
        mg_ckpt_error(ck, "out of memory");
        goto fail;
    }
    if (mg_siglip_layers_load(ck, D, s->ffn, s->layers, s->layer) < 0 ||
        !(s->fin_w = mg_ckpt_vec(ck, "final_layer_norm.weight", D)) ||
        !(s->fin_b = mg_ckpt_vec(ck, "final_layer_norm.bias", D)) ||
        mg_ckpt_linear(ck, "head", s->proj, D, 1, &s->head, &s->head_b) < 0 ||
        mg_ckpt_check_unused(ck, "text_model.", NULL) < 0) goto fail;
    mg_ckpt_set_prefix(ck, "");
    const float *ls, *lb;
    if (!(ls = mg_ckpt_f32(ck, "logit_scale", 1, one)) || !(lb = mg_ckpt_f32(ck, "logit_bias", 1, one)))
        goto fail;
    s->logit_scale = ls[0];
    s->logit_bias = lb[0];
    return s;
fail:
    mg_ckpt_set_prefix(ck, "");
    text_free(s);
    return NULL;
}

static int text_dim(const void *state) { return ((const siglip_text *)state)->proj; }
static int text_seq_len(const void *state) { return ((const siglip_text *)state)->seq; }

static int text_logit(const void *state, double *log_scale, double *bias)
{
    const siglip_text *s = state;
    *log_scale = s->logit_scale;
    *bias = s->logit_bias;
    return 0;
}

/* One UTF-8 character at s[0..n): its code point and length (an invalid byte
 * is taken alone, as code point -1, and left to the tokenizer to reject). */
static int utf8_next(const unsigned char *s, size_t n, int32_t *cp)
{
    int len = s[0] < 0x80 ? 1 : (s[0] >> 5) == 6 ? 2 : (s[0] >> 4) == 14 ? 3 : (s[0] >> 3) == 30 ? 4 : 0;
    if (!len || (size_t)len > n) { *cp = -1; return 1; }
    int32_t c = len == 1 ? s[0] : s[0] & (0x7f >> len);
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) { *cp = -1; return 1; }
        c = (c << 6) | (s[i] & 0x3f);
    }
    *cp = c;
    return len;
}

/* The white space of Python's str.isspace (the \s of canonicalize_text's re.sub). */
static int py_space(int32_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f) || c == 0x85 ||
           c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
           c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Python's str.lower for the capitals of Latin-1, Latin Extended-A, Greek and
 * Cyrillic (one-to-one mappings; U+0130 İ, which lower-cases to two characters,
 * is siglip_canonical's); other characters are kept. */
static int32_t py_lower(int32_t c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 0xc0 && c <= 0xde && c != 0xd7)) return c + 32;
    if ((c >= 0x100 && c <= 0x137 && c != 0x130) || (c >= 0x14a && c <= 0x177)) return c | 1;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) return c & 1 ? c + 1 : c;
    if (c == 0x178) return 0xff;
    if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) return c + 32;
    if (c >= 0x410 && c <= 0x42f) return c + 32;
    if (c >= 0x400 && c <= 0x40f) return c + 80;
    return c;
}

static size_t utf8_put(char *o, int32_t c)
{
    if (c < 0x80) { o[0] = (char)c; return 1; }
    if (c < 0x800) { o[0] = (char)(0xc0 | c >> 6); o[1] = (char)(0x80 | (c & 0x3f)); return 2; }
    if (c < 0x10000) {
        o[0] = (char)(0xe0 | c >> 12); o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        o[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | c >> 18); o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3f)); o[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* canonicalize_text of lower-cased text: lower-cased (py_lower), the ASCII
 * string.punctuation removed, white-space runs folded into one space, ends
 * trimmed. Only İ grows (2 bytes to 3), so out needs at most 3·len/2 + 1 bytes. */
static size_t siglip_canonical(const char *text, size_t len, char *out)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = 0;
    int space = 0;
    for (size_t i = 0; i < len;) {
        int32_t c;
        int k = utf8_next(s + i, len - i, &c);
        if (c >= 0 && c < 0x80 && ispunct(c)) { i += (size_t)k; continue; }
        if (c >= 0 && py_space(c)) { space = 1; i += (size_t)k; continue; }
        if (space && n) out[n++] = ' ';
        space = 0;
        if (c < 0) out[n++] = (char)s[i];               /* invalid: the tokenizer says so */
        else if (c == 0x130) n += utf8_put(out + n, 'i') + utf8_put(out + n + 1, 0x307);
        else n += utf8_put(out + n, py_lower(c));
        i += (size_t)k;
    }
    out[n] = 0;
    return n;
}

static int text_tokenize(const void *state, const mg_tokenizer *tok, const char *text, size_t len,
                         int32_t *ids, char *err, size_t errlen)
{
    const siglip_text *s = state;
    /* SiglipTokenizer's eos_token and pad_token are both "</s>" */
    int32_t eos = mg_tokenizer_id(tok, "</s>");
    if (eos < 0) eos = mg_tokenizer_eos(tok);
    if (eos < 0) { mg_seterr(err, errlen, "tokenizer has no </s> piece"); return -1; }
    char *c = len < SIZE_MAX / 2 ? malloc(len + len / 2 + 2) : NULL;
    if (!c) { mg_seterr(err, errlen, "out of memory"); return -1; }
    size_t cn = siglip_canonical(text, len, c), n = 0;
    int32_t *pieces = NULL;
    int rc = mg_tokenizer_encode(tok, c, cn, 0, &pieces, &n, err, errlen);
    free(c);
    if (rc < 0) return -1;
    /* truncation keeps room for </s>, which the tokenizer appends after truncating */
    size_t keep = n < (size_t)s->seq - 1 ? n : (size_t)s->seq - 1;
    for (size_t i = 0; i < keep; i++) {
        if (pieces[i] < 0 || pieces[i] >= s->vocab) {
            mg_seterr(err, errlen, "token id %d is outside the text tower's vocabulary (%d)",
                      (int)pieces[i], s->vocab);
            free(pieces);
            return -1;
        }
        ids[i] = pieces[i];
    }
    free(pieces);
    for (size_t i = keep; i < (size_t)s->seq; i++) ids[i] = eos;
    return 0;
}

/* Texts per pass: bounds the activations at chunk·seq rows. */
enum { TEXT_CHUNK = 16 };

static int text_forward(void *state, const mg_nn_ctx *ctx, const int32_t *ids, int batch, float *out,
                        char *err, size_t errlen)
{
    siglip_text *s = state;
    /* The layers' six matrices and the head (in the place of a patch
     * embedding: one more matrix to prepare) on one back end; auto picks bf16
     * only when all of them are stored BF16. */
    if (!s->mm || s->mm_req != ctx->precision) {
        if (mg_vit_blocks_set_precision(&s->mm, ctx, &s->head, s->layer, s->layers, ctx->precision,
                                        err, errlen) < 0)
            return -1;
        s->mm_req = ctx->precision;
    }
    int64_t D = s->dim, L = s->seq;
    int chunk = batch < TEXT_CHUNK ? batch : TEXT_CHUNK;
    mg_vit_block_shape sh = { s->dim, s->heads, s->ffn, s->act, s->eps };
    size_t es = mg_dtype_size(s->tok_emb->dtype);
    float *x = malloc((size_t)(chunk * L * D) * sizeof(float));
    float *work = malloc(mg_vit_block_work(&sh, chunk, L) * sizeof(float));
    float *last = malloc((size_t)(chunk * D) * sizeof(float));
    int rc = -1;
    if (!x || !work || !last) { mg_seterr(err, errlen, "out of memory"); goto done; }
    for (int b0 = 0; b0 < batch; b0 += chunk) {
        int nb = batch - b0 < chunk ? batch - b0 : chunk;
        for (int b = 0; b < nb; b++)
            for (int64_t t = 0; t < L; t++) {
                int32_t id = ids[(int64_t)(b0 + b) * L + t];
                if (id < 0 || id >= s->vocab) {
                    mg_seterr(err, errlen, "token id %d is outside the vocabulary (%d)", (int)id, s->vocab);
                    goto done;
                }
                float *row = x + ((int64_t)b * L + t) * D;
                mg_convert_to_f32(row, (const char *)s->tok_emb->data + (size_t)id * (size_t)D * es,
                                  s->tok_emb->dtype, (size_t)D);
                for (int64_t k = 0; k < D; k++) row[k] += s->pos[t * D + k];
            }
        for (int i = 0; i < s->layers; i++)
            if (mg_vit_block_forward(ctx, s->mm, &s->layer[i], &sh, x, nb, L, work) < 0) {
                mg_seterr(err, errlen, "out of memory");
                goto done;
            }
        /* only the last position is pooled, so only it needs the final norm */
        for (int b = 0; b < nb; b++)
            memcpy(last + b * D, x + ((int64_t)b * L + L - 1) * D, (size_t)D * sizeof(float));
        mg_nn_layer_norm(ctx, last, last, nb, D, s->fin_w, s->fin_b, s->eps);
        if (mg_mm_linear(s->mm, ctx, last, nb, &s->head, s->head_b, 0, out + (int64_t)b0 * s->proj,
                         s->proj) < 0) {
            mg_seterr(err, errlen, "out of memory");
            goto done;
        }
    }
    rc = 0;
done:
    free(x); free(work); free(last);
    return rc;
}

static const mg_text_encoder_ops siglip_text_ops = {
    .load = text_load, .free = text_free, .dim = text_dim, .seq_len = text_seq_len,
    .tokenize = text_tokenize, .forward = text_forward, .logit = text_logit,
};
static const char *const siglip_text_types[] = { "siglip", NULL };
const mg_family mg_family_siglip_text = { "siglip-text", MG_ROLE_TEXT_ENCODER, siglip_text_types,
                                          &siglip_text_ops };
