/* mg_tok_spm.c: SentencePiece .model files. */
#include "mg_tok_impl.h"
#include "mg_err.h"

int mg_tok_spm_load(mg_tokenizer *t, const unsigned char *data, size_t size, char *err, size_t errlen)
{
    (void)t; (void)data; (void)size;
    return mg_fail(err, errlen, "SentencePiece models are not supported yet");
}
