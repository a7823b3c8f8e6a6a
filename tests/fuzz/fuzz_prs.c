/* libFuzzer harness for the scoring-file and VCF parsers and the matcher:
 * input = flags byte (bits 3 and 7: dosage field), then a scoring file and a VCF separated by a NUL byte.
 * Both are written to temporary files (htslib reads paths), scored with id or
 * pos matching, and the .sscore and match log written to memory. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <htslib/hts.h>

#include "mg_prs.h"
#include "mg_vcf.h"

static int put(const char *path, const uint8_t *d, size_t n)
{
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    int ok = fwrite(d, 1, n, fp) == n;
    return fclose(fp) == 0 && ok ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char sp[64], vp[64];
    if (!sp[0]) {
        hts_set_log_level(HTS_LOG_OFF);
        snprintf(sp, sizeof sp, "/tmp/fuzz_prs_%d.score", (int)getpid());
        snprintf(vp, sizeof vp, "/tmp/fuzz_prs_%d.vcf", (int)getpid());
    }
    if (size < 2) return 0;
    uint8_t flags = data[0];
    const uint8_t *s = data + 1, *z = memchr(s, 0, size - 1);
    if (!z) return 0;
    if (put(sp, s, (size_t)(z - s)) < 0 || put(vp, z + 1, size - 1 - (size_t)(z + 1 - s)) < 0) return 0;
    char perr[1700];
    mg_scoreset *ss = mg_scoreset_init();
    if (mg_scoreset_read(ss, sp, flags & 3 ? (flags & 1 ? MG_PRS_DOMINANT : MG_PRS_RECESSIVE) : MG_PRS_ADDITIVE, perr, sizeof perr) == 0) {
        char err[256];
        mg_vcf *v = mg_vcf_open(vp, 1, err, sizeof err);
        if (v) {
            mg_prs_opts o = mg_prs_default_opts();
            o.match = flags & 4 ? MG_PRS_MATCH_POS : MG_PRS_MATCH_ID;
            o.dosage = (flags & 8 ? MG_VCF_DS : 0) + (flags & 128 ? 2 : 0);   /* 0, DS, GP, HDS */
            o.no_mean_imputation = (flags & 16) != 0;
            o.threads = flags & 32 ? 2 : 1;
            o.keep_multiallelic = (flags & 64) != 0;
            o.min_overlap = 0;
            char *lbuf = NULL;
            size_t llen = 0;
            o.log = open_memstream(&lbuf, &llen);
            mg_prs *p = mg_prs_run(ss, v, vp, &o, perr, sizeof perr);
            if (o.log) fclose(o.log);
            free(lbuf);
            if (p) {
                char *buf = NULL;
                size_t len = 0;
                FILE *fp = open_memstream(&buf, &len);
                if (fp) {
                    mg_prs_write_sscore(p, v, fp);
                    fclose(fp);
                }
                free(buf);
                mg_prs_destroy(p);
            }
            mg_vcf_close(v);
        }
    }
    mg_scoreset_destroy(ss);
    return 0;
}
