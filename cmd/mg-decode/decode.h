/* decode.h: the modes of mg-decode (one file each) and the prediction
 * writers they share (output.c). */
#ifndef MG_DECODE_H
#define MG_DECODE_H

#include "mg_cli.h"
#include "mg_stream.h"

/* Each mode gets argv from its own name on (argv[0] = "classify"). */
int mg_decode_classify(int argc, char **argv);
int mg_decode_generate(int argc, char **argv);
int mg_decode_zeroshot(int argc, char **argv);

/* --tokenize / --detokenize (tokenize.c), options of every mode with -m DIR:
 * main() runs mg_decode_tokenize(argc, argv) on the whole command line when
 * mg_decode_wants_tokenize() finds one of them. */
int mg_decode_wants_tokenize(int argc, char **argv);
int mg_decode_tokenize(int argc, char **argv);

/* ---- prediction output: TSV, JSON Lines or mgt prediction records ---- */
enum { MG_DECODE_TSV = 1, MG_DECODE_JSONL, MG_DECODE_MGT };

/** "tsv", "jsonl", "mgt" → MG_DECODE_*; 0 if unknown. */
int mg_decode_format(const char *s);

typedef struct mg_decode_out mg_decode_out;

/** Open path ("-" stdout; files written under a temporary name) for rows of
 *  ncol named values. TSV: a header "id<TAB>col…" then one row per case,
 *  values with 17 significant digits (the columns mg-score reads as
 *  predictions); JSON Lines: {"id": …, col: value …}; mgt: one record per
 *  case with the input's metadata, tensor "pred" [ncol] (f64) and metadata
 *  "classes" naming the columns (mg-score's prediction records). prov: the
 *  input stream's provenance (mgt output). NULL and err on failure. */
mg_decode_out *mg_decode_out_open(const mg_cli *cli, const char *path, int format, char *const *cols, int ncol,
                                  const mg_prov *prov, char *err, size_t errlen);
/** One case: meta (the input record, for its metadata) and ncol values. 0/-1. */
int mg_decode_out_row(mg_decode_out *o, const mg_record *meta, const char *id, const double *v,
                      char *err, size_t errlen);
/** Finish (ok) or discard (!ok) the output; frees o. 0/-1. */
int mg_decode_out_close(mg_decode_out *o, int ok, char *err, size_t errlen);

#endif
