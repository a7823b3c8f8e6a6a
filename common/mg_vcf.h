/* mg_vcf.h: streaming genotype reader for VCF, VCF.gz and BCF (htslib).
 *
 * Built for scoring: each record's site fields (CHROM, POS, ID, REF, ALT) are
 * available first, cheaply; genotypes are decoded only when the caller asks for
 * them with mg_vcf_load_genotypes(). For text VCF the site fields are cut out of
 * the raw line and GT and the dosage fields (DS, GP, HDS) are parsed straight
 * from the text, so records that are not scored cost one line scan and never
 * reach htslib's full record parser.
 *
 * Dosages are returned in plink2's fixed-point units, 1/16384 of an allele
 * (2 copies = 32768), because plink2 stores every dosage that way and scores
 * computed from unquantised dosages differ from its output.
 *
 * The library never exits or prints; errors are returned as -1/NULL with a
 * reason from mg_vcf_error() and the record position from mg_vcf_line().
 */
#ifndef MG_VCF_H
#define MG_VCF_H

#include "mg_err.h"

#include <stdint.h>
#include <stddef.h>

#define MG_DOSAGE_ONE 16384         /* one allele copy, plink2 kDosageMid */
#define MG_DOSAGE_MISSING (-1)

/* The FORMAT field dosages are read from (plink2 `--vcf f dosage=FIELD`). */
enum { MG_VCF_GT_ONLY = 0, MG_VCF_DS = 1, MG_VCF_GP = 2, MG_VCF_HDS = 3 };

typedef struct mg_vcf mg_vcf;

typedef struct {
    const char *chrom;           /* NUL-terminated, owned by the reader */
    const char *id;              /* "." when absent */
    int64_t pos;                 /* 1-based */
    int n_allele;                /* REF + ALTs (ALT "." is not counted) */
    const char *const *allele;   /* [0] = REF */
} mg_vcf_site;

/** Open path ("-" is stdin); format (VCF, bgzip/gzip VCF, BCF) is detected.
 *  threads > 1 adds BGZF decompression threads. NULL and err on failure. */
MG_MUST_CHECK mg_vcf *mg_vcf_open(const char *path, int threads, char *err, size_t errlen);
/** Close and free; 0, or -1 if htslib reported an error on close. */
int mg_vcf_close(mg_vcf *v);

int mg_vcf_nsamples(const mg_vcf *v);
const char *mg_vcf_sample(const mg_vcf *v, int i);
/** "GRCh37"/"GRCh38" when the header names a build (##reference, ##contig
 *  assembly=, ##assembly), else NULL. */
const char *mg_vcf_build(const mg_vcf *v);

/** Read only the records at the given chromosome/position pairs (1-based;
 *  a chromosome named with or without "chr"), through the file's .tbi/.csi
 *  index, in index order (chromosomes as the header lists them, positions
 *  ascending). Returns 1 when an index is used, 0 when there is none (stdin,
 *  not BGZF; reading stays sequential), -1 on error. Record line numbers are
 *  then unknown (mg_vcf_line() gives 0). */
MG_MUST_CHECK int mg_vcf_use_index(mg_vcf *v, const char *path, int n, const char *const *chrom,
                     const int64_t *pos);

/** Advance to the next record and fill site (valid until the next call).
 *  Returns 1 for a record, 0 at end of file, -1 on error. */
MG_MUST_CHECK int mg_vcf_next(mg_vcf *v, mg_vcf_site *site);
/** Line number of the current record in a text VCF (1-based, header lines
 *  counted), or the record number in a BCF. */
int64_t mg_vcf_line(const mg_vcf *v);
/** Non-zero for BCF input (mg_vcf_line() is then a record number). */
int mg_vcf_is_bcf(const mg_vcf *v);

/** Decode the current record's genotypes: GT, and with field (MG_VCF_DS, _GP,
 *  _HDS) dosages read as plink2 2.00a3.5 `dosage=FIELD` import does with its
 *  defaults: the dosage wins where present, GT fills in where it is missing
 *  ('.', '?', absent); DS is the ALT dosage (a haploid call's 0..1, doubled);
 *  GP is (P01 + 2*P11) / (P00 + P01 + P11), haploid 2*P1 / (P0 + P1), and
 *  all-zero probabilities make the call missing; HDS is h1 + h2, a single
 *  (haploid) value counts double, and DS is read where HDS is missing.
 *  "Haploid" is a GT with one allele, missing or not. Each dosage is
 *  quantised to 1/16384 as plink2 stores it. Dosages on multi-allelic
 *  records are refused. Returns 0, or -1 on malformed or missing fields. */
MG_MUST_CHECK int mg_vcf_load_genotypes(mg_vcf *v, int field);
/** Dosage of allele a (0 = REF) for every sample of the loaded record, in
 *  1/16384 units, MG_DOSAGE_MISSING for a missing call. q has nsamples slots. */
void mg_vcf_allele_dosage(const mg_vcf *v, int a, int32_t *q);

/** Non-zero when the loaded record has at least one dosage in use; when
 *  zero, every call is a hard call and mg_vcf_allele_counts() says it all. */
int mg_vcf_has_dosage(const mg_vcf *v);
/** Copies of allele a (0, 1, 2) per sample of the loaded record, 3 for a
 *  missing call. Only for records without dosages. */
void mg_vcf_allele_counts(const mg_vcf *v, int a, uint8_t *c);

const char *mg_vcf_error(const mg_vcf *v);

#endif
