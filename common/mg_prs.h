/* mg_prs.h: polygenic scores with plink2 --score arithmetic.
 *
 * A score set is read from one or more scoring files: plink2-style plain files
 * (header line; variant ID, allele, one or more weight columns named by the
 * header, as `--score f header-read --score-col-nums 3-N`) and PGS Catalog
 * scoring files (format 2.0, gzip or plain; one score named by #pgs_id; hm_*
 * harmonised columns preferred). All score columns are scored together in one
 * pass, exactly as plink2 scores one wide file (pgsc_calc merges its files the
 * same way, with weight 0 where a file lacks a variant).
 *
 * Matching:
 *   MG_PRS_MATCH_ID   plink2: exact ID lookup, exact allele bytes, an error on
 *                     an ID occurring twice among scored records.
 *   MG_PRS_MATCH_POS  pgsc_calc: chr:pos with REF/ALT in priority order refalt >
 *                     altref > refalt_flip > altref_flip (no_oa_* when the row has
 *                     no other allele), strand-ambiguous and multi-allelic sites
 *                     excluded unless asked, ties between best matches dropped;
 *                     VCF records at one position must be adjacent (sorted VCF).
 *
 * Arithmetic (plink2 ScoreReport/CalcScoreThread, verified against plink2
 * 2.00a3.5): dosage d in 1/16384 units; dominant min(d,1), recessive
 * max(d-1,0); a missing call contributes 2*f*w (additive) or f*w (dominant/
 * recessive), f the named allele's frequency among non-missing samples (1/number
 * of alleles if all are missing; or from a plink2 .afreq file, --read-freq),
 * or 0 with no-mean-imputation.
 * ALLELE_CT = 2*scored variants - 2*missing calls; DENOM = 2*scored variants
 * (ALLELE_CT without mean imputation), shared by every score column;
 * AVG = SUM * (1/DENOM).
 *
 * Chromosomes, as plink2 scores a VCF, where no sample's sex is known: X and
 * XY (PAR1/PAR2) count as autosomes (a haploid call is two copies); MT is
 * haploid (a call counts half its diploid-coded dosage, 1 allele in
 * ALLELE_CT/DENOM, a missing call f*w); Y adds nothing to any column (plink2
 * 2.00a3.5 counts chrY for males only). Pos matching scores 1-22, X, Y, XY as
 * pgsc_calc does; id matching also MT and refuses other chromosome names.
 *
 * Errors carry a location ("file:line") and a reason; the library never prints.
 */
#ifndef MG_PRS_H
#define MG_PRS_H

#include "mg_err.h"

#include <stdint.h>
#include <stdio.h>

#include "mg_progress.h"
#include "mg_vcf.h"


enum { MG_PRS_ADDITIVE = 0, MG_PRS_DOMINANT = 1, MG_PRS_RECESSIVE = 2 };
enum { MG_PRS_MATCH_ID = 0, MG_PRS_MATCH_POS = 1 };

typedef struct {
    char *path;
    int is_pgs;
    int first_col, n_cols;            /* this file's columns in the score list */
    /* PGS Catalog header metadata (NULL when absent) */
    char *format_version, *pgs_id, *pgs_name, *trait_reported, *trait_mapped,
         *trait_efo, *genome_build, *hm_build, *weight_type;
    int64_t n_rows;                   /* scoring rows read */
    int64_t n_matched;                /* rows contributing to the score */
} mg_score_file;

typedef struct mg_scoreset mg_scoreset;

MG_MUST_CHECK mg_scoreset *mg_scoreset_init(void);
void mg_scoreset_destroy(mg_scoreset *ss);
/** Read one scoring file (format detected from its first line). effect is the
 *  effect type for plain files (PGS rows carry is_dominant/is_recessive).
 *  0, or -1 with err filled ("path:line: reason"). */
MG_MUST_CHECK int mg_scoreset_read(mg_scoreset *ss, const char *path, int effect, char *err, size_t errlen);
int mg_scoreset_nscores(const mg_scoreset *ss);
const char *mg_scoreset_name(const mg_scoreset *ss, int col);
/** The file a score column came from. */
const mg_score_file *mg_scoreset_file_of(const mg_scoreset *ss, int col);
int mg_scoreset_nfiles(const mg_scoreset *ss);
const mg_score_file *mg_scoreset_file(const mg_scoreset *ss, int i);

typedef struct {
    int match;                 /* MG_PRS_MATCH_ID / _POS */
    int dosage;                /* MG_VCF_DS/_GP/_HDS: --dosage FIELD; 0: GT only */
    int no_mean_imputation;
    int keep_ambiguous, keep_multiallelic, ignore_strand_flips, keep_first_match;
    double min_overlap;        /* pos matching: per score; default 0.75 */
    int per_chrom;             /* keep partial sums per autosome too */
    int threads;               /* > 1: score in a second thread while reading */
    const char *read_freq;     /* plink2 .afreq file for mean imputation, or NULL */
    int no_index;              /* pos matching: read sequentially even with an index */
    FILE *log;                 /* match log (TSV, header first): one line per candidate
                                  match and per unmatched scoring row, written while
                                  reading; NULL for none */
    mg_progress *progress;     /* stepped per VCF record read, or NULL */
} mg_prs_opts;

mg_prs_opts mg_prs_default_opts(void);

typedef struct mg_prs mg_prs;

/** Score every sample of v with ss; reads v to its end. vcf_name is used in
 *  error locations. NULL with err filled ("path:line: reason") on error (including an empty
 *  intersection and, for pos matching, a match rate below min_overlap). */
MG_MUST_CHECK mg_prs *mg_prs_run(mg_scoreset *ss, mg_vcf *v, const char *vcf_name,
                   const mg_prs_opts *o, char *err, size_t errlen);
void mg_prs_destroy(mg_prs *p);

int mg_prs_nsamples(const mg_prs *p);
/** Pos matching: rows whose best match lies outside chromosomes 1-22, X, Y,
 *  XY and were excluded (id matching scores MT too and refuses other names). */
int64_t mg_prs_other_chrom(const mg_prs *p);
/** Non-zero when pos matching read only the scored positions via the index. */
int mg_prs_indexed(const mg_prs *p);
int64_t mg_prs_nvariants(const mg_prs *p);           /* distinct scored records */
/** SUM of score column j for sample s. */
double mg_prs_sum(const mg_prs *p, int s, int j);
/** Partial SUM over autosome c (1..22); needs opts.per_chrom. */
double mg_prs_sum_chrom(const mg_prs *p, int s, int j, int c);
double mg_prs_denom(const mg_prs *p, int s);

/** The .sscore table plink2 writes with `cols=+scoresums,+denom` (#IID). */
MG_MUST_CHECK int mg_prs_write_sscore(const mg_prs *p, const mg_vcf *v, FILE *fp);

/** A number as plink2's dtoa_g prints it (6 significant digits, %.6g layout,
 *  last digit rounded half-to-even within 5e-7 of a tie). buf >= 32 bytes. */
void mg_prs_format_g6(double x, char *buf);
/** NAMED_ALLELE_DOSAGE_SUM formatting: x/32768 (x >= 0) to at most 3
 *  decimals exactly as plink2 prints it (ddosagetoa, quirks included).
 *  buf >= 32 bytes. */
void mg_prs_format_dosage_sum(int64_t x, char *buf);

#endif
