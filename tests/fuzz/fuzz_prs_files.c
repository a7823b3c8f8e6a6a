/* libFuzzer harness for the side files of mg-prs-image: input = flags byte,
 * then the --layout, --ref-stats and --score-list files separated by NUL
 * bytes, then the --read-freq (.afreq) file to the end (it may be bgzf, holding
 * NULs); flag bits 4-7 say which of the four options are given. Two scoring
 * files and a VCF are fixed (written once to /dev/shm/mg_fuzz_prs/); the
 * score list is read by the program's own function (its source is included
 * below), and names of files outside that directory are skipped rather than
 * opened (a list could name any file on the machine). Then, as the program
 * does: layout, statistics, scoring with the frequency table, cohort
 * statistics when none were read, the statistics table and every image. */
#define main mg_prs_image_main
#include "../../cmd/mg-prs-image.c"
#undef main

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "fuzz_files.h"

#define FIX "/dev/shm/mg_fuzz_prs"

static char fpath[4][160];
static const char *const part_name[] = { "layout", "stats", "list", "afreq" };

static int h_put(const char *path, const void *d, size_t n)
{
    char tmp[96];
    snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
    FILE *fp = fopen(tmp, "wb");
    if (!fp) return -1;
    int ok = fwrite(d, 1, n, fp) == n;
    if (fclose(fp) != 0 || !ok) return -1;
    return rename(tmp, path);
}

static void h_setup(void)
{
    hts_set_log_level(HTS_LOG_OFF);
    if (system("mkdir -p " FIX) != 0) abort();
    static const char a[] =
        "###PGS CATALOG SCORING FILE\n#format_version=2.0\n#pgs_id=PGS000001\n#trait_reported=Height\n"
        "rsID\tchr_name\tchr_position\teffect_allele\tother_allele\teffect_weight\n"
        "rs1\t1\t100\tG\tA\t0.5\nrs2\t1\t200\tT\tC\t-0.25\nrs3\t2\t300\tC\tA\t1\n";
    static const char b[] =
        "ID\tA1\tp1\tp2\nrs1\tG\t0.1\t0.2\nrs3\tC\t-1\t0\nrs4\tT\t0.3\t0.3\n";
    static const char v[] =
        "##fileformat=VCFv4.2\n##contig=<ID=1>\n##contig=<ID=2>\n"
        "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"g\">\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts1\ts2\ts3\ts4\n"
        "1\t100\trs1\tA\tG\t.\t.\t.\tGT\t0/1\t1|1\t./.\t0/0\n"
        "1\t200\trs2\tC\tT\t.\t.\t.\tGT\t0/0\t0/1\t1/1\t./.\n"
        "2\t300\trs3\tA\tC,G\t.\t.\t.\tGT\t1/2\t0/1\t0/0\t2/2\n"
        "2\t400\trs4\tG\tT\t.\t.\t.\tGT\t0/1\t0/1\t./.\t1/1\n";
    if (h_put(FIX "/a.score", a, sizeof a - 1) < 0 || h_put(FIX "/b.score", b, sizeof b - 1) < 0 ||
        h_put(FIX "/x.vcf", v, sizeof v - 1) < 0) abort();
    for (int i = 0; i < 4; i++) fuzz_path(fpath[i], fuzz_dir("fuzz_prs_files"), part_name[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fpath[0][0]) h_setup();
    if (size < 1) return 0;
    uint8_t flags = data[0];
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    int have[4];
    for (int i = 0; i < 4; i++) {
        const uint8_t *z = i < 3 && d ? memchr(d, 0, n) : NULL;
        size_t l = z ? (size_t)(z - d) : d ? n : 0;
        have[i] = (flags >> (4 + i) & 1) != 0;
        if (have[i] && fuzz_put(fuzz_dir("fuzz_prs_files"), part_name[i], d ? d : (const uint8_t *)"", l) < 0) return 0;
        if (z) { n -= l + 1; d = z + 1; } else d = NULL;
    }
    int per_chrom = (flags & 1) != 0;
    char perr[1700], err[256];
    mg_scoreset *ss = mg_scoreset_init();
    if (!ss) return 0;
    args_t a;
    memset(&a, 0, sizeof a);
    char **store = NULL;
    int n_store = 0, ok = 1;
    if (have[2]) {
        a.score_list = fpath[2];
        char *argv[] = { (char *)PROG, NULL };
        mg_cli cli = mg_cli_default(PROG, 1, argv);
        cli.quiet = 1;
        if (read_score_list(&cli, &a, &store, &n_store) < 0) ok = 0;
        mg_cli_free(&cli);
        for (int i = 0; ok && i < a.n_scores && i < 4; i++)
            if (!strncmp(a.scores[i], FIX "/", sizeof FIX) && !strchr(a.scores[i] + sizeof FIX, '/'))
                ok = mg_scoreset_read(ss, a.scores[i], MG_PRS_ADDITIVE, perr, sizeof perr) == 0;
    }
    if (ok && mg_scoreset_nscores(ss) == 0)
        ok = mg_scoreset_read(ss, FIX "/a.score", MG_PRS_ADDITIVE, perr, sizeof perr) == 0 &&
             mg_scoreset_read(ss, FIX "/b.score", flags & 2 ? MG_PRS_DOMINANT : MG_PRS_ADDITIVE, perr, sizeof perr) == 0;
    mg_prs_layout L;
    memset(&L, 0, sizeof L);
    mg_prs_stats st = {0, NULL, NULL};
    int have_stats = 0;
    mg_vcf *v = NULL;
    mg_prs *p = NULL;
    if (!ok || mg_prs_layout_build(&L, ss, have[0] ? fpath[0] : NULL, 2, per_chrom, perr, sizeof perr) < 0) goto done;
    if (have[1]) {
        if (mg_prs_stats_read(&st, fpath[1], ss, per_chrom, perr, sizeof perr) < 0) goto done;
        have_stats = 1;
    }
    if (!(v = mg_vcf_open(FIX "/x.vcf", 1, err, sizeof err))) abort();
    mg_prs_opts o = mg_prs_default_opts();
    o.match = flags & 4 ? MG_PRS_MATCH_POS : MG_PRS_MATCH_ID;
    o.min_overlap = 0;
    o.per_chrom = per_chrom;
    o.read_freq = have[3] ? fpath[3] : NULL;
    o.keep_multiallelic = (flags & 8) != 0;
    if (!(p = mg_prs_run(ss, v, FIX "/x.vcf", &o, perr, sizeof perr))) goto done;
    if (!have_stats) {
        if (mg_prs_stats_cohort(&st, p, ss, per_chrom) < 0) goto done;
        have_stats = 1;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&buf, &len);
    if (mf) {
        if (mg_prs_stats_write(&st, ss, mf) < 0 || mg_prs_write_sscore(p, v, mf) < 0) abort();
        fclose(mf);
    }
    free(buf);
    free(mg_prs_layout_json(&L, ss, have[1] ? fpath[1] : "cohort"));
    int64_t shape[3];
    mg_prs_layout_shape(&L, shape);
    float *img = malloc(sizeof *img * (size_t)(shape[0] * shape[1] * shape[2]));
    for (int s = 0; img && s < mg_prs_nsamples(p); s++) mg_prs_render(&L, p, s, &st, img);
    free(img);
done:
    mg_prs_destroy(p);
    if (v) mg_vcf_close(v);
    if (have_stats) mg_prs_stats_free(&st);
    mg_prs_layout_free(&L);
    mg_scoreset_destroy(ss);
    for (int i = 0; i < n_store; i++) free(store[i]);
    free(store);
    free(a.scores);
    return 0;
}
