/* mg_prs_image.h: polygenic scores as an image, after Med-Gemini-Polygenic.
 *
 * Each trait is a B x B block of pixels (default 8 x 8) holding the trait's
 * standardised score z = (SUM - mean) / sd (population sd, ddof 0, as
 * pgsc_calc); the channels of a block are the trait's different scores (e.g.
 * p-value thresholds), in the order they were given. Traits fill a grid row by
 * row, cols = ceil(sqrt(traits)). With per_chrom the grid is traits x 22: one
 * row per trait, one block per autosome, holding partial (per-chromosome)
 * scores. Unused blocks and channels are 0.
 *
 * Traits come from a layout file (lines "score<TAB>trait"), else the PGS
 * Catalog #trait_reported of the score's file, else the score's own name.
 */
#ifndef MG_PRS_IMAGE_H
#define MG_PRS_IMAGE_H

#include "mg_prs.h"

typedef struct {
    int block, per_chrom;
    int n_traits, channels, rows, cols;
    char **trait;                /* [n_traits] */
    int *chan;                   /* [n_traits][channels]: score column or -1 */
} mg_prs_layout;

/** Group the score columns of ss into traits. layout_path may be NULL.
 *  0, or -1 with err filled ("path:line: reason") (unknown score name, bad line). */
int mg_prs_layout_build(mg_prs_layout *L, const mg_scoreset *ss, const char *layout_path,
                        int block, int per_chrom, char *err, size_t errlen);
void mg_prs_layout_free(mg_prs_layout *L);
/** Image shape [C, H, W]. */
void mg_prs_layout_shape(const mg_prs_layout *L, int64_t shape[3]);
/** The layout as JSON for the stream metadata (malloc'ed string, NULL on
 *  allocation failure). */
char *mg_prs_layout_json(const mg_prs_layout *L, const mg_scoreset *ss, const char *stats_source);

/** Standardisation statistics: one (mean, sd) per score column, and with
 *  per_chrom one per (column, autosome) after them: n = K or K * 23. */
typedef struct { int n; double *mean, *sd; } mg_prs_stats;

int mg_prs_stats_cohort(mg_prs_stats *st, const mg_prs *p, const mg_scoreset *ss, int per_chrom);
/** Read statistics written by mg_prs_stats_write(); every needed score must be
 *  present. 0, or -1 with err filled ("path:line: reason"). */
int mg_prs_stats_read(mg_prs_stats *st, const char *path, const mg_scoreset *ss, int per_chrom,
                      char *err, size_t errlen);
int mg_prs_stats_write(const mg_prs_stats *st, const mg_scoreset *ss, FILE *fp);
void mg_prs_stats_free(mg_prs_stats *st);

/** Render sample s into img[C*H*W] (z-scores). */
void mg_prs_render(const mg_prs_layout *L, const mg_prs *p, int s, const mg_prs_stats *st,
                   float *img);

#endif
