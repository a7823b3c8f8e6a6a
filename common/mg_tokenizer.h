/* mg_tokenizer.h: text tokenizers of the supported checkpoints, read from the files
 * the checkpoints ship:
 *   - Hugging Face tokenizer.json with a BPE model (Gemma 3 / MedGemma: Replace
 *     normalizer, byte fallback, ranked merges, added tokens);
 *   - SentencePiece .model files (tokenizer.model / spiece.model: SigLIP, MedSigLIP),
 *     unigram or BPE, with the nmt_nfkc precompiled character map and byte fallback.
 * A loaded tokenizer is read-only: any number of threads may encode and decode with
 * it at once. */
#ifndef MG_TOKENIZER_H
#define MG_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "mg_err.h"

typedef struct mg_tokenizer mg_tokenizer;

/** path: a checkpoint directory (tokenizer.json preferred, else tokenizer.model, else
 *  spiece.model) or one of those files (a name ending in .json is read as
 *  tokenizer.json, anything else as a SentencePiece model). Beside a tokenizer.json,
 *  tokenizer_config.json (when present) names bos/eos/pad. NULL with err on failure. */
MG_MUST_CHECK mg_tokenizer *mg_tokenizer_load(const char *path, char *err, size_t errlen);

/** Read a tokenizer from memory (for fuzzing and tests): is_json selects tokenizer.json,
 *  else a SentencePiece model. The bytes are copied as needed; data may be freed after. */
MG_MUST_CHECK mg_tokenizer *mg_tokenizer_load_mem(const void *data, size_t size, int is_json,
                                    char *err, size_t errlen);

void mg_tokenizer_free(mg_tokenizer *t);

/** Encode len bytes of UTF-8 text (no BOS/EOS added).
 *  tokenizer.json: added tokens are split out first, as the tokenizers library does
 *  (leftmost-longest, lstrip/rstrip/single_word/normalized honoured); with
 *  parse_special 0 a special added token found in the text stays plain text (the
 *  library's split_special_tokens=True), non-special added tokens still match.
 *  SentencePiece: user-defined pieces always match (as sentencepiece); with
 *  parse_special 1 the control and unknown piece strings (<s>, </s>, <unk>, …) also
 *  become their ids and the text between them is encoded sentence by sentence (as
 *  the Hugging Face slow tokenizers); with 0 the ids equal sentencepiece's encode.
 *  *ids is malloc'ed (caller frees; may be NULL when *n is 0). Returns 0, or -1 with
 *  err (invalid UTF-8, out of memory). */
MG_MUST_CHECK int mg_tokenizer_encode(const mg_tokenizer *t, const char *text, size_t len, int parse_special,
                        int32_t **ids, size_t *n, char *err, size_t errlen);

/** Decode ids to UTF-8 text (malloc'ed, NUL-terminated; caller frees). Byte-fallback
 *  pieces are reassembled into characters (bytes that do not form valid UTF-8 become
 *  U+FFFD, as the reference decoders do). skip_special drops special/control tokens.
 *  NULL with err for an id outside the vocabulary. */
MG_MUST_CHECK char *mg_tokenizer_decode(const mg_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                          char *err, size_t errlen);
/** mg_tokenizer_decode() that also stores the byte length in *len: decoded text may
 *  hold NUL bytes (the piece <0x00>), which end the C string early. */
MG_MUST_CHECK char *mg_tokenizer_decode_n(const mg_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                            size_t *len, char *err, size_t errlen);

/** Id of a piece given as its exact vocabulary string (e.g. "<start_of_turn>", "▁the"),
 *  -1 when absent. */
int32_t mg_tokenizer_id(const mg_tokenizer *t, const char *piece);
/** Vocabulary string of id (owned by t), NULL when out of range or unassigned. */
const char *mg_tokenizer_piece(const mg_tokenizer *t, int32_t id);
/** One more than the largest id (added tokens included). */
int32_t mg_tokenizer_vocab_size(const mg_tokenizer *t);
/** Ids of the beginning/end of sequence and padding tokens, -1 when the tokenizer has none. */
int32_t mg_tokenizer_bos(const mg_tokenizer *t);
int32_t mg_tokenizer_eos(const mg_tokenizer *t);
int32_t mg_tokenizer_pad(const mg_tokenizer *t);

#endif
