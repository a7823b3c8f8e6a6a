/* libFuzzer harness for the tokenizer readers: any bytes → a tokenizer.json (first
 * byte '{') or a SentencePiece model (anything else) → encode a few fixed texts with
 * and without special-token parsing → decode the ids back, and decode every id. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mg_tokenizer.h"

static const char *const texts[] = {
    "", " ", "Hello world", "  two  spaces\tand\ttabs\n\nnewlines ", "<bos><start_of_turn>user\n",
    "é ü ß Ω Ж 中文 العربية हिन्दी 😀 👩‍⚕️ \xf0\x9f\x87\xa9\xf0\x9f\x87\xaa", "\xee\x80\x80 \xf4\x8f\xbf\xbd",
    "1234567890 3.14 ▁▁x", "</s><unk><pad>",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int is_json = size > 0 && data[0] == '{';
    mg_tokenizer *t = mg_tokenizer_load_mem(data, size, is_json, NULL, 0);
    if (!t) return 0;
    int32_t nv = mg_tokenizer_vocab_size(t);
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++)
        for (int ps = 0; ps < 2; ps++) {
            int32_t *ids; size_t n;
            if (mg_tokenizer_encode(t, texts[k], strlen(texts[k]), ps, &ids, &n, NULL, 0) < 0) continue;
            for (size_t i = 0; i < n; i++)
                if (ids[i] < 0 || ids[i] >= nv || !mg_tokenizer_piece(t, ids[i])) abort();
            char *s = mg_tokenizer_decode(t, ids, n, ps, NULL, 0);
            if (!s) abort();                        /* ids from encode always decode */
            free(s);
            free(ids);
        }
    int32_t all[64];
    int32_t m = nv < 64 ? nv : 64;
    for (int32_t i = 0; i < m; i++) all[i] = i;
    char *s = mg_tokenizer_decode(t, all, (size_t)m, 0, NULL, 0);
    free(s);
    for (int32_t i = 0; i < m; i++) {
        const char *p = mg_tokenizer_piece(t, i);
        if (p) (void)mg_tokenizer_id(t, p);
    }
    mg_tokenizer_free(t);
    return 0;
}
