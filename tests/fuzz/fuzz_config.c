/* libFuzzer harness for the JSON configs of a checkpoint directory: input =
 * config.json, NUL, preprocessor_config.json, NUL, tokenizer_config.json (a
 * missing part is a missing file). The directory in /dev/shm also holds an
 * empty model.safetensors and a small tokenizer.json, so every family's
 * loader (encoders, the Gemma 3 decoder, text encoders) parses its config up
 * to the first tensor it looks up; the image processor config is then applied
 * to a small image, and tokenizer_config.json read beside tokenizer.json. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_files.h"
#include "mg_decoder.h"
#include "mg_matmul.h"
#include "mg_encoder.h"
#include "mg_image.h"
#include "mg_image_prep.h"
#include "mg_textenc.h"
#include "mg_tokenizer.h"

/* Split off the next NUL-terminated part of *d (NULL when none is left). */
static const uint8_t *part(const uint8_t **d, size_t *n, size_t *len)
{
    if (!*d) return NULL;
    const uint8_t *p = *d, *z = memchr(p, 0, *n);
    *len = z ? (size_t)(z - p) : *n;
    if (z) { *n -= *len + 1; *d = z + 1; } else *d = NULL;
    return p;
}

static const char *setup(void)
{
    const char *dir = fuzz_dir("fuzz_config");
    static const uint8_t empty_st[] = { 2, 0, 0, 0, 0, 0, 0, 0, '{', '}' };
    static const char tok[] =
        "{\"added_tokens\": [{\"id\": 0, \"content\": \"<pad>\", \"special\": true},"
        " {\"id\": 1, \"content\": \"<eos>\", \"special\": true}, {\"id\": 2, \"content\": \"<bos>\", \"special\": true}],"
        " \"normalizer\": {\"type\": \"Replace\", \"pattern\": {\"String\": \" \"}, \"content\": \"\\u2581\"},"
        " \"model\": {\"type\": \"BPE\", \"byte_fallback\": false, \"vocab\": {\"<pad>\": 0, \"<eos>\": 1,"
        " \"<bos>\": 2, \"<unk>\": 3, \"a\": 4, \"b\": 5, \"ab\": 6, \"\\u2581\": 7}, \"merges\": [\"a b\"],"
        " \"unk_token\": \"<unk>\"}}";
    if (fuzz_put(dir, "model.safetensors", empty_st, sizeof empty_st) < 0 ||
        fuzz_put(dir, "tokenizer.json", (const uint8_t *)tok, sizeof tok - 1) < 0) abort();
    return dir;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *dir;
    if (!dir) dir = setup();
    const uint8_t *rest = data;
    size_t n = size, lc = 0, lp = 0, lt = 0;
    const uint8_t *cfg = part(&rest, &n, &lc), *pre = part(&rest, &n, &lp), *tcfg = part(&rest, &n, &lt);
    if (fuzz_put(dir, "config.json", cfg, lc) < 0 || fuzz_put(dir, "preprocessor_config.json", pre, lp) < 0 ||
        fuzz_put(dir, "tokenizer_config.json", tcfg, lt) < 0) return 0;
    char err[512];
    mg_encoder_free(mg_encoder_load(dir, NULL, err, sizeof err));
    mg_decoder_free(mg_decoder_load(dir, size & 2 ? 64 : 0, MG_PREC_F32, err, sizeof err));   /* -c 64, or the default */
    mg_textenc_free(mg_textenc_load(dir, err, sizeof err));
    mg_image_prep p;
    /* The config's sizes are capped at 65536 by the reader; an output image of
     * that size is what such a config asks for, so only small ones are run. */
    if (pre && mg_image_prep_from_hf(dir, &p, err, sizeof err) == 0 && p.size_w <= 256 && p.size_h <= 256 &&
        p.shortest_edge <= 256 && p.crop_w <= 256 && p.crop_h <= 256) {
        mg_image *im = mg_image_new(7, 5, 1 + 2 * (size & 1), MG_PIX_U8);
        if (im) {
            for (size_t i = 0; i < (size_t)im->w * im->h * im->c; i++) ((uint8_t *)im->data)[i] = (uint8_t)(i * 37);
            float *out = NULL;
            int c, h, w;
            if (mg_image_prep_run(&p, im, &out, &c, &h, &w, err, sizeof err) == 0 && (c < 1 || h < 1 || w < 1))
                abort();                            /* a prepared image is never empty */
            free(out);
            mg_image_free(im);
        }
    }
    if (tcfg) {
        mg_tokenizer *t = mg_tokenizer_load(dir, err, sizeof err);
        if (t) {
            int32_t *ids;
            size_t k;
            int32_t nv = mg_tokenizer_vocab_size(t);
            if (mg_tokenizer_bos(t) >= nv || mg_tokenizer_eos(t) >= nv || mg_tokenizer_pad(t) >= nv) abort();
            if (mg_tokenizer_encode(t, "ab a", 4, 1, &ids, &k, err, sizeof err) == 0) free(ids);
            mg_tokenizer_free(t);
        }
    }
    return 0;
}
