/* mg_metrics_text.h: report-generation and VQA metrics.
 *
 * Report text (pycocoevalcap 1.2 formulas, tylin/coco-caption):
 *  - BLEU-1..4, corpus level: P_k = (sum correct_k + 1e-15)/(sum guess_k + 1e-9),
 *    BLEU-n = (prod_{k<=n} P_k)^(1/n), times exp(1 - 1/ratio) when
 *    ratio = (C + 1e-15)/(R + 1e-9) < 1, R from the closest reference length
 *    (ties to the shorter). Tokens: whitespace split.
 *  - ROUGE-L: LCS over split(" ") tokens, P = max_i lcs/|c|, R = max_i lcs/|r_i|
 *    taken separately, F = (1+b^2)PR/(R+b^2 P), b = 1.2; mean over segments.
 *  - CIDEr-D (pycocoevalcap "Cider"): n = 1..4, sigma = 6, document frequency
 *    over the references of the evaluated corpus, tf-idf with raw counts,
 *    clipped similarity min(v_h, v_r) v_r / (|v_h||v_r|), length penalty
 *    exp(-d^2/(2 sigma^2)) with d from bigram counts, 10 * mean over orders of
 *    the sum over references / number of references; mean over segments.
 *    Under case weights (bootstrap) the document frequency and the corpus size
 *    are recomputed for each replicate.
 *
 * Tokenisation modes (applied to hypotheses and references before scoring):
 *  none    the text as given;
 *  simple  lowercase, every character other than a-z 0-9 becomes a space
 *          (as radiology report code such as R2Gen does);
 *  ptb     an approximation of the Stanford PTBTokenizer -lowerCase step of
 *          pycocoevalcap: lowercase, leading and trailing punctuation split
 *          off each word, and the punctuation tokens pycocoevalcap removes
 *          dropped. The Java tokenizer itself is not reproduced;
 *  13a     sacrebleu's default tokenizer (tokenizer_13a.py): <skipped> and
 *          "-\n" removed, line breaks to spaces, &quot; &amp; &lt; &gt;
 *          unescaped, then: the ASCII symbols { | } ~ [ \ ] ^ _ ` ! " # $ % &
 *          ( ) * + : ; < = > ? @ / split off; '.' and ',' split off unless
 *          preceded by a digit, then unless followed by a digit; '-' split off
 *          after a digit; whitespace collapsed. Case is kept. */
#ifndef MG_METRICS_TEXT_H
#define MG_METRICS_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "mg_metrics_tsv.h"

enum { MG_TOK_NONE = 0, MG_TOK_SIMPLE, MG_TOK_PTB, MG_TOK_13A };

/** Tokenised copy of s (tokens joined by single spaces for simple/ptb; s
 *  itself for none). Caller frees; NULL when out of memory. */
char *mg_text_tokenize(const char *s, int mode);

typedef struct mg_report mg_report;
#define MG_REPORT_NMETRICS 6
extern const char *const mg_report_names[MG_REPORT_NMETRICS];

/** Build the corpus: n segments, hyp[i] and nref[i] references starting at
 *  refs[refstart[i]]; texts already tokenised. NULL when out of memory. */
mg_report *mg_report_init(size_t n, const char *const *hyp, const char *const *refs,
                          const size_t *refstart, const size_t *nref);
void mg_report_free(mg_report *r);
/** bleu1..4, rouge_l, cider_d under case weights (NULL = 1). 0 or -1. */
int mg_report_compute(const mg_report *r, const double *w, double *out);
/** sacrebleu corpus BLEU (0-100) from the BLEU statistics of r (built on
 *  13a-tokenised text): precisions 100 correct_k/total_k, "exp" smoothing (the
 *  j-th order without a match gets 100/(2^j total_k)), 0 when no unigram
 *  matches or an order has no n-gram, brevity penalty exp(1 - R/C) when C < R
 *  (0 when C = 0), geometric mean over 4 orders. */
double mg_report_sacrebleu(const mg_report *r, const double *w);

/** Per-segment ROUGE-L and CIDEr-D on the full corpus (arrays of n). */
int mg_report_segments(const mg_report *r, double *rouge, double *cider);

/** Label-set F1 (CheXpert 14 labels, or any): h and g are n x L 0/1 matrices
 *  (row-major). out: micro, macro and weighted F1 (sklearn f1_score, support
 *  weights, zero_division 0), over the labels with use[l] != 0. */
void mg_labels_f1(const uint8_t *h, const uint8_t *g, size_t n, int L, const uint8_t *use,
                  const double *w, double out[3]);

/** F1 of two sets of strings (sorted, unique): 2|A&B|/(|A|+|B|); 1 when both
 *  are empty. */
double mg_set_f1(const char *const *a, size_t na, const char *const *b, size_t nb);

/** A CheXpert-coded cell as 0/1: labeller codes 1 (positive), 0, -1
 *  (uncertain), blank; or CheXbert codes 1 (positive), 2, 3 (uncertain), 0.
 *  Uncertain counts as positive when uncertain_positive. 0, or -1 (bad code). */
int mg_chexpert_label(const char *v, int chexbert_codes, int uncertain_positive, uint8_t *out);

/** RadGraph-style annotation sets of one report, sorted and unique: entities
 *  "tokens\tlabel" (tokens lowercased), the same with a flag for taking part
 *  in a relation, relations "tokens\tlabel\trelation\ttokens2\tlabel2". */
typedef struct { char **ent, **entr, **rel; size_t ne, ner, nr; } mg_radgraph_sets;
/** Build from the cnt rows g of table t; col[] = columns id, kind, tokens,
 *  label, relation, tokens2, label2. 0, or -1 (memory, or a kind other than
 *  entity/relation, pointed to by *bad). Free with mg_radgraph_free(). */
int mg_radgraph_build(const mg_tsv *t, const mg_idgroup *g, size_t cnt, const int col[7],
                      mg_radgraph_sets *s, const char **bad);
void mg_radgraph_free(mg_radgraph_sets *s);
/** Entity, entity-with-relation-flag and relation F1 (mg_set_f1). */
void mg_radgraph_f1(const mg_radgraph_sets *h, const mg_radgraph_sets *r, double out[3]);

/* ---- VQA ---- */
/** Answer normalisation (documented in mg-score(1)): lowercase; punctuation
 *  other than in numbers removed; number words zero..twenty to digits;
 *  articles a/an/the dropped; whitespace collapsed. Caller frees. */
char *mg_vqa_normalize(const char *s);
/** SQuAD v1.1 answer normalisation (lowercase, punctuation removed, articles
 *  removed, whitespace collapsed). Caller frees. */
char *mg_squad_normalize(const char *s);
/** SQuAD token F1 of normalised strings (Counter intersection). */
double mg_token_f1(const char *pred, const char *gold);
/** Share of the gold tokens (with multiplicity) present in the prediction. */
double mg_token_recall(const char *pred, const char *gold);
/** One answer against its gold answers, the best gold counting for each value:
 *  out[0] closed-question hit (exact rule: normalised answer equal to the gold,
 *  or a yes/no gold equal to the answer's first word; llava_med: substring
 *  rule, NaN when the question is left out), out[1] open recall, out[2] SQuAD
 *  token F1, out[3] SQuAD exact match. closed < 0: closed when the first gold
 *  is yes/no; the decision in *is_closed. 0, or -1 (memory). */
int mg_vqa_score(const char *pred, const char *const *gold, size_t ngold, int closed,
                 int llava_med, double out[4], int *is_closed);

#endif
