/* mg-prs-image: polygenic risk scores from VCF/BCF (plink2 --score arithmetic,
 * plink2 or pgsc_calc matching) and one PRS image record per sample. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <htslib/hts.h>

#include "mg_cli.h"
#include "mg_prs.h"
#include "mg_prs_image.h"
#include "mg_stream.h"
#include "mg_vcf.h"

#define PROG "mg-prs-image"

static const char *USAGE =
    "Usage: mg-prs-image [options] -s SCORE [-s SCORE...] [VCF]\n"
    "Score every sample of a VCF, VCF.gz or BCF (stdin when no VCF or '-') with one or\n"
    "more scoring files, exactly as plink2 --score does, and write one PRS image record\n"
    "per sample: a [C,H,W] f32 tensor 'prs', each trait a BxB block of z-scores, the\n"
    "channels a trait's scores.\n"
    "\n"
    "Scores:\n"
    "  -s, --score FILE        scoring file: plink2-style (header line; ID, allele,\n"
    "                          weight columns named by the header) or PGS Catalog\n"
    "                          format 2.0 (plain or gzip); repeatable\n"
    "  -S, --score-list FILE   a file naming one scoring file per line\n"
    "  -m, --match MODE        id: plink2 --score (variant ID, exact allele) [id]\n"
    "                          pos: pgsc_calc (chr:pos, REF/ALT, swaps, strand flips)\n"
    "      --dosage FIELD      score dosages from FORMAT DS, GP or HDS (as plink2\n"
    "                          --vcf f dosage=FIELD; GT where they are missing)\n"
    "      --no-mean-imputation  missing calls contribute 0 (default: 2*freq*weight)\n"
    "      --read-freq FILE    allele frequencies for imputation from a plink2 .afreq\n"
    "      --dominant          plain files: dosage min(d,1)\n"
    "      --recessive         plain files: dosage max(d-1,0)\n"
    "      --keep-ambiguous    pos: keep strand-ambiguous (A/T, C/G) matches\n"
    "      --keep-multiallelic pos: keep matches to multi-allelic records\n"
    "      --ignore-strand-flips  pos: do not try reverse-complemented alleles\n"
    "      --keep-first-match  pos: keep the first of equally good matches\n"
    "      --min-overlap F     pos: least fraction of each score's variants matched [0.75]\n"
    "      --no-index          pos: read the whole VCF even when it has a .tbi/.csi index\n"
    "\n"
    "Outputs:\n"
    "  -o, --output FILE       image stream [stdout]\n"
    "      --no-image          write no image stream\n"
    "      --sscore FILE       the plink2 .sscore table (cols=+scoresums,+denom)\n"
    "      --match-log FILE    how every scoring row matched, or why not (TSV)\n"
    "  -B, --block N           pixels per trait block side [8]\n"
    "      --layout FILE       lines 'score<TAB>trait': group scores into traits\n"
    "      --per-chrom         blocks per trait and autosome (partial scores)\n"
    "      --ref-stats FILE    standardise with this mean/sd table [the cohort's]\n"
    "      --write-ref-stats FILE  write the cohort's mean/sd table\n"
    "      --write-layout FILE  write the image layout (JSON, as in the metadata)\n"
    "      --u8                u8 pixels: z in [-3,3] mapped to 0..255\n"
    "\n"
    "Common:\n"
    "  -@, --threads N         threads [1]; N > 1: decompression, parsing and\n"
    "                          scoring run side by side (same results for any N)\n"
    "  -z, --compress[=L]      zstd-compress tensor data [level 3]\n"
    "  -v, --verbose  -q, --quiet  -h, --help  --version  --no-version\n";

enum {
    OPT_DOSAGE = MG_OPT_FIRST_OWN, OPT_NO_MEAN, OPT_DOM, OPT_REC, OPT_KEEP_AMB, OPT_KEEP_MULTI,
    OPT_NO_FLIP, OPT_KEEP_FIRST, OPT_MIN_OVERLAP, OPT_NO_IMAGE, OPT_SSCORE, OPT_LOG,
    OPT_LAYOUT, OPT_PER_CHROM, OPT_REF_STATS, OPT_WRITE_STATS, OPT_U8, OPT_WRITE_LAYOUT, OPT_READ_FREQ, OPT_NO_INDEX
};

typedef struct {
    const char **scores;
    int n_scores;
    const char *score_list, *sscore, *match_log, *layout, *ref_stats, *write_stats, *write_layout;
    int no_image, per_chrom, u8, block, effect;
    mg_prs_opts o;
} args_t;

static int add_score(args_t *a, const char *path)
{
    const char **s = realloc(a->scores, sizeof *s * (size_t)(a->n_scores + 1));
    if (!s) return -1;
    a->scores = s;
    a->scores[a->n_scores++] = path;
    return 0;
}

/* Write a text output through mg_ofile (temp-then-rename). */
typedef int (*writer_fn)(void *ctx, FILE *fp);
static int write_text(const mg_cli *cli, const char *path, writer_fn fn, void *ctx)
{
    char err[512];
    mg_ofile *out = mg_ofile_open(path, NULL, err, sizeof err);
    if (!out) { mg_error(cli, path, "%s", err); return -1; }
    int ok = fn(ctx, mg_ofile_fp(out)) == 0;
    if (mg_ofile_close(out, ok, err, sizeof err) < 0 || !ok) {
        mg_error(cli, path, "%s", ok ? err : "write error");
        return -1;
    }
    return 0;
}

typedef struct { const mg_prs *p; const mg_vcf *v; const mg_prs_stats *st;
                 const mg_scoreset *ss; int per_chrom; } out_ctx;
static int w_sscore(void *c, FILE *fp) { out_ctx *x = c; return mg_prs_write_sscore(x->p, x->v, fp); }
typedef struct { const char *json; } json_ctx;
static int w_json(void *c, FILE *fp)
{
    json_ctx *x = c;
    return fputs(x->json, fp) < 0 || fputc('\n', fp) < 0 ? -1 : 0;
}
static int w_stats(void *c, FILE *fp)
{
    out_ctx *x = c;
    return mg_prs_stats_write(x->st, x->ss, fp);
}

static int read_score_list(const mg_cli *cli, args_t *a, char ***store, int *n_store)
{
    FILE *fp = fopen(a->score_list, "r");
    if (!fp) { mg_error(cli, a->score_list, "cannot open"); return -1; }
    char *line = NULL;
    size_t cap = 0;
    int ret = 0;
    while (getline(&line, &cap, fp) >= 0) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#') continue;
        char **s = realloc(*store, sizeof *s * (size_t)(*n_store + 1));
        if (!s) { ret = -1; break; }
        *store = s;
        if (!(s[*n_store] = strdup(line))) { ret = -1; break; }
        if (add_score(a, s[(*n_store)++]) < 0) { ret = -1; break; }
    }
    if (ret < 0) mg_error(cli, a->score_list, "out of memory");
    free(line);
    fclose(fp);
    return ret;
}

/* Report a genome build that disagrees between a scoring file and the VCF. */
static void check_builds(const mg_cli *cli, const mg_scoreset *ss, const mg_vcf *v, const char *vcf)
{
    const char *vb = mg_vcf_build(v);
    if (!vb) return;
    for (int i = 0; i < mg_scoreset_nfiles(ss); i++) {
        const mg_score_file *f = mg_scoreset_file(ss, i);
        const char *b = f->hm_build ? f->hm_build : f->genome_build;
        if (!b || !strcmp(b, "NR")) continue;
        int same = (strstr(b, "38") != NULL) == (strcmp(vb, "GRCh38") == 0);
        if (!same)
            mg_warn(cli, f->path, "genome build %s differs from %s's %s", b, vcf, vb);
    }
}

static int write_images(const mg_cli *cli, const args_t *a, const mg_prs *p, const mg_vcf *v,
                        const mg_scoreset *ss, const mg_prs_layout *L, const mg_prs_stats *st)
{
    char err[512];
    int ok = 0;
    int64_t shape[3];
    mg_prs_layout_shape(L, shape);
    size_t npix = (size_t)(shape[0] * shape[1] * shape[2]);
    float *img = malloc(sizeof *img * npix);
    char *json = mg_prs_layout_json(L, ss, a->ref_stats ? a->ref_stats : "cohort");
    mg_record *rec = mg_record_init();
    mg_prov prov = mg_cli_prov(cli, NULL);
    mg_writer_opts wo = mg_cli_writer_opts(cli);
    mg_writer *w = NULL;
    if (!img || !json || !rec) { mg_error(cli, NULL, "out of memory"); goto out; }
    w = mg_writer_open(cli->output, &prov, &wo, err, sizeof err);
    if (!w) { mg_error(cli, cli->output, "%s", err); goto out; }
    int K = mg_scoreset_nscores(ss);
    for (int s = 0; s < mg_prs_nsamples(p); s++) {
        mg_record_clear(rec);
        mg_prs_render(L, p, s, st, img);
        mg_tensor *t = mg_record_add_tensor(rec, "prs", a->u8 ? MG_U8 : MG_F32, 3, shape);
        if (!t) { mg_error(cli, NULL, "out of memory"); goto out; }
        if (a->u8) {
            uint8_t *d = t->data;
            for (size_t i = 0; i < npix; i++) {
                double x = (img[i] + 3.0) / 6.0 * 255.0;
                d[i] = (uint8_t)(x <= 0 ? 0 : x >= 255 ? 255 : floor(x + 0.5));
            }
        } else memcpy(t->data, img, sizeof *img * npix);
        if (mg_record_set_meta(rec, "id", mg_vcf_sample(v, s)) < 0
            || mg_record_set_meta(rec, "prs_layout", json) < 0
            || mg_record_set_metaf(rec, "prs_denom", "%.17g", mg_prs_denom(p, s)) < 0) {
            mg_error(cli, NULL, "out of memory");
            goto out;
        }
        for (int j = 0; j < K; j++) {
            char key[600];
            snprintf(key, sizeof key, "prs_sum:%s", mg_scoreset_name(ss, j));
            if (mg_record_set_metaf(rec, key, "%.17g", mg_prs_sum(p, s, j)) < 0) {
                mg_error(cli, NULL, "out of memory");
                goto out;
            }
        }
        if (mg_writer_write(w, rec) < 0) { mg_error(cli, cli->output, "%s", mg_writer_error(w)); goto out; }
    }
    ok = 1;
out:
    if (w && mg_writer_close(w, ok, err, sizeof err) < 0 && ok) {
        mg_error(cli, cli->output, "%s", err);
        ok = 0;
    }
    mg_record_destroy(rec);
    mg_prov_free(&prov);
    free(json);
    free(img);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    mg_cli cli = mg_cli_default(PROG, argc, argv);
    cli.usage = USAGE;
    hts_set_log_level(HTS_LOG_OFF);     /* errors are reported once, by us */
    args_t a;
    memset(&a, 0, sizeof a);
    a.block = 8;
    a.o = mg_prs_default_opts();
    char **list_store = NULL;
    int n_list = 0, ret = 1;
    mg_scoreset *ss = NULL;
    mg_vcf *v = NULL;
    mg_prs *p = NULL;
    mg_prs_layout L;
    mg_prs_stats st;
    mg_ofile *log_out = NULL;
    char err[512];
    memset(&L, 0, sizeof L);
    memset(&st, 0, sizeof st);
    static const struct option own[] = {
        {"score", required_argument, 0, 's'}, {"score-list", required_argument, 0, 'S'},
        {"match", required_argument, 0, 'm'}, {"block", required_argument, 0, 'B'},
        {"dosage", required_argument, 0, OPT_DOSAGE},
        {"no-mean-imputation", no_argument, 0, OPT_NO_MEAN},
        {"dominant", no_argument, 0, OPT_DOM}, {"recessive", no_argument, 0, OPT_REC},
        {"keep-ambiguous", no_argument, 0, OPT_KEEP_AMB},
        {"keep-multiallelic", no_argument, 0, OPT_KEEP_MULTI},
        {"ignore-strand-flips", no_argument, 0, OPT_NO_FLIP},
        {"keep-first-match", no_argument, 0, OPT_KEEP_FIRST},
        {"min-overlap", required_argument, 0, OPT_MIN_OVERLAP},
        {"no-image", no_argument, 0, OPT_NO_IMAGE}, {"sscore", required_argument, 0, OPT_SSCORE},
        {"match-log", required_argument, 0, OPT_LOG}, {"layout", required_argument, 0, OPT_LAYOUT},
        {"per-chrom", no_argument, 0, OPT_PER_CHROM},
        {"ref-stats", required_argument, 0, OPT_REF_STATS},
        {"write-ref-stats", required_argument, 0, OPT_WRITE_STATS},
        {"u8", no_argument, 0, OPT_U8},
        {"write-layout", required_argument, 0, OPT_WRITE_LAYOUT},
        {"read-freq", required_argument, 0, OPT_READ_FREQ},
        {"no-index", no_argument, 0, OPT_NO_INDEX}, {0, 0, 0, 0}
    };
    struct option *lo = mg_cli_long_options(own);
    if (!lo) { mg_error(&cli, NULL, "out of memory"); goto done; }
    int c;
    long lv;
    while ((c = getopt_long(argc, argv, MG_CLI_SHORT "s:S:m:B:", lo, NULL)) >= 0) {
        switch (mg_cli_common(&cli, c, optarg)) {
        case MG_CLI_HANDLED: continue;
        case MG_CLI_EXIT_OK: ret = 0; goto done;
        case MG_CLI_USAGE: ret = 2; goto done;
        default: break;
        }
        switch (c) {
        case 's': if (add_score(&a, optarg) < 0) goto done; break;
        case 'S': a.score_list = optarg; break;
        case 'm':
            if (!strcmp(optarg, "id")) a.o.match = MG_PRS_MATCH_ID;
            else if (!strcmp(optarg, "pos")) a.o.match = MG_PRS_MATCH_POS;
            else { mg_usage_error(&cli, "--match must be 'id' or 'pos'"); ret = 2; goto done; }
            break;
        case 'B':
            if (mg_parse_long(optarg, 1, 256, &lv) < 0) {
                mg_usage_error(&cli, "--block must be 1..256"); ret = 2; goto done;
            }
            a.block = (int)lv;
            break;
        case OPT_DOSAGE:
            if (!strcmp(optarg, "DS")) a.o.dosage = MG_VCF_DS;
            else if (!strcmp(optarg, "GP")) a.o.dosage = MG_VCF_GP;
            else if (!strcmp(optarg, "HDS")) a.o.dosage = MG_VCF_HDS;
            else { mg_usage_error(&cli, "--dosage must be DS, GP or HDS"); ret = 2; goto done; }
            break;
        case OPT_NO_MEAN: a.o.no_mean_imputation = 1; break;
        case OPT_DOM: a.effect = MG_PRS_DOMINANT; break;
        case OPT_REC: a.effect = MG_PRS_RECESSIVE; break;
        case OPT_KEEP_AMB: a.o.keep_ambiguous = 1; break;
        case OPT_KEEP_MULTI: a.o.keep_multiallelic = 1; break;
        case OPT_NO_FLIP: a.o.ignore_strand_flips = 1; break;
        case OPT_KEEP_FIRST: a.o.keep_first_match = 1; break;
        case OPT_MIN_OVERLAP:
            if (mg_parse_double(optarg, &a.o.min_overlap) < 0 || a.o.min_overlap < 0 || a.o.min_overlap > 1) {
                mg_usage_error(&cli, "--min-overlap must be in [0, 1]"); ret = 2; goto done;
            }
            break;
        case OPT_NO_IMAGE: a.no_image = 1; break;
        case OPT_SSCORE: a.sscore = optarg; break;
        case OPT_LOG: a.match_log = optarg; break;
        case OPT_LAYOUT: a.layout = optarg; break;
        case OPT_PER_CHROM: a.per_chrom = 1; break;
        case OPT_REF_STATS: a.ref_stats = optarg; break;
        case OPT_WRITE_STATS: a.write_stats = optarg; break;
        case OPT_U8: a.u8 = 1; break;
        case OPT_WRITE_LAYOUT: a.write_layout = optarg; break;
        case OPT_READ_FREQ: a.o.read_freq = optarg; break;
        case OPT_NO_INDEX: a.o.no_index = 1; break;
        default: mg_usage_error(&cli, "unknown option"); ret = 2; goto done;
        }
    }
    if (optind + 1 < argc) { mg_usage_error(&cli, "one VCF at most"); ret = 2; goto done; }
    const char *vcf = optind < argc ? argv[optind] : "-";
    if (a.score_list && read_score_list(&cli, &a, &list_store, &n_list) < 0) goto done;
    if (a.n_scores == 0) { mg_usage_error(&cli, "no scoring file (-s)"); ret = 2; goto done; }
    if (a.no_image && !a.sscore && !a.match_log && !a.write_stats) {
        mg_usage_error(&cli, "--no-image with nothing else to write"); ret = 2; goto done;
    }
    {
        const char *texts[] = { a.sscore, a.match_log, a.write_stats, a.write_layout };
        int to_stdout = 0;
        for (int i = 0; i < 4; i++) to_stdout += texts[i] && !strcmp(texts[i], "-");
        if (to_stdout + (!a.no_image && !strcmp(cli.output, "-")) > 1) {
            mg_usage_error(&cli, "only one output can go to stdout (add --no-image or -o FILE)");
            ret = 2;
            goto done;
        }
    }
    a.o.per_chrom = a.per_chrom;
    a.o.threads = cli.threads;

    char perr[1700] = "";      /* "path:line: reason" from the PRS modules */
    if (!(ss = mg_scoreset_init())) { mg_error(&cli, NULL, "out of memory"); goto done; }
    for (int i = 0; i < a.n_scores; i++)
        if (mg_scoreset_read(ss, a.scores[i], a.effect, perr, sizeof perr) < 0) {
            mg_error(&cli, NULL, "%s", perr);
            goto done;
        }
    for (int i = 0; i < mg_scoreset_nscores(ss); i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(mg_scoreset_name(ss, i), mg_scoreset_name(ss, j))) {
                mg_error(&cli, mg_scoreset_file_of(ss, i)->path, "score name '%s' used twice",
                         mg_scoreset_name(ss, i));
                goto done;
            }
    if ((!a.no_image || a.write_layout) && mg_prs_layout_build(&L, ss, a.layout, a.block, a.per_chrom, perr, sizeof perr) < 0) {
        mg_error(&cli, NULL, "%s", perr);
        goto done;
    }
    v = mg_vcf_open(vcf, cli.threads, err, sizeof err);
    if (!v) { mg_error(&cli, vcf, "%s", err); goto done; }
    check_builds(&cli, ss, v, vcf);
    if (a.match_log) {
        log_out = mg_ofile_open(a.match_log, NULL, err, sizeof err);
        if (!log_out) { mg_error(&cli, a.match_log, "%s", err); goto done; }
        a.o.log = mg_ofile_fp(log_out);
    }
    mg_cli_progress_begin(&cli, "variants", 0);
    a.o.progress = cli.progress;
    p = mg_prs_run(ss, v, vcf, &a.o, perr, sizeof perr);
    mg_cli_progress_end(&cli);
    if (!p) {
        /* the match log explains an empty or low overlap; it is not written on error */
        mg_error(&cli, NULL, "%s", perr);
        goto done;
    }
    if (mg_prs_nsamples(p) < 50 && !a.o.no_mean_imputation && !a.o.read_freq)
        mg_warn(&cli, vcf, "%d samples: allele frequencies for mean imputation are unreliable "
                "below 50 (plink2 refuses; consider --no-mean-imputation)", mg_prs_nsamples(p));
    if (mg_prs_other_chrom(p))
        mg_warn(&cli, vcf, "%lld matched score rows outside chromosomes 1-22, X, Y, XY excluded "
                "(as pgsc_calc)", (long long)mg_prs_other_chrom(p));
    if (mg_prs_indexed(p)) mg_info(&cli, "read the scored positions through %s's index", vcf);
    mg_info(&cli, "%lld variants scored, %d samples, %d scores", (long long)mg_prs_nvariants(p),
            mg_prs_nsamples(p), mg_scoreset_nscores(ss));
    if (a.ref_stats) {
        if (mg_prs_stats_read(&st, a.ref_stats, ss, a.per_chrom, perr, sizeof perr) < 0) {
            mg_error(&cli, NULL, "%s", perr);
            goto done;
        }
    } else if (mg_prs_stats_cohort(&st, p, ss, a.per_chrom) < 0) {
        mg_error(&cli, NULL, "out of memory");
        goto done;
    }
    if (log_out) {
        int r = mg_ofile_close(log_out, 1, err, sizeof err);
        log_out = NULL;
        if (r < 0) { mg_error(&cli, a.match_log, "%s", err); goto done; }
    }
    out_ctx x = { p, v, &st, ss, a.per_chrom };
    if (a.sscore && write_text(&cli, a.sscore, w_sscore, &x) < 0) goto done;
    if (a.write_stats) {
        mg_prs_stats cs;
        memset(&cs, 0, sizeof cs);
        if (mg_prs_stats_cohort(&cs, p, ss, a.per_chrom) < 0) { mg_error(&cli, NULL, "out of memory"); goto done; }
        x.st = &cs;
        int r = write_text(&cli, a.write_stats, w_stats, &x);
        mg_prs_stats_free(&cs);
        if (r < 0) goto done;
    }
    if (a.write_layout) {
        json_ctx jc = { mg_prs_layout_json(&L, ss, a.ref_stats ? a.ref_stats : "cohort") };
        if (!jc.json) { mg_error(&cli, NULL, "out of memory"); goto done; }
        int r = write_text(&cli, a.write_layout, w_json, &jc);
        free((char *)jc.json);
        if (r < 0) goto done;
    }
    if (!a.no_image && write_images(&cli, &a, p, v, ss, &L, &st) < 0) goto done;
    if (!strcmp(cli.output, "-") && !a.no_image && mg_close_stdout(&cli) < 0) goto done;
    ret = 0;
done:
    mg_ofile_abort(log_out);
    mg_prs_destroy(p);
    if (v && mg_vcf_close(v) < 0 && ret == 0) { mg_error(&cli, vcf, "read error"); ret = 1; }
    mg_scoreset_destroy(ss);
    mg_prs_layout_free(&L);
    mg_prs_stats_free(&st);
    for (int i = 0; i < n_list; i++) free(list_store[i]);
    free(list_store);
    free(a.scores);
    free(lo);
    mg_cli_free(&cli);
    return ret;
}
