/* output.c: prediction writers shared by the modes of mg-decode (decode.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "mg_err.h"
#include "mg_output.h"

struct mg_decode_out {
    int format, ncol;
    char *const *cols;
    char *classes;         /* mgt: the column names joined by commas */
    mg_ofile *f;         /* TSV, JSON Lines */
    mg_writer *w;          /* mgt */
    mg_record *rec;
    mg_progress *progress; /* the program's progress line, stepped per row */
    uint64_t rows;
};

int mg_decode_format(const char *s)
{
    return !strcmp(s, "tsv") ? MG_DECODE_TSV : !strcmp(s, "jsonl") ? MG_DECODE_JSONL
         : !strcmp(s, "mgt") ? MG_DECODE_MGT : 0;
}

mg_decode_out *mg_decode_out_open(const mg_cli *cli, const char *path, int format, char *const *cols, int ncol,
                                  const mg_prov *prov, char *err, size_t errlen)
{
    mg_decode_out *o = calloc(1, sizeof *o);
    if (!o) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    o->format = format; o->cols = cols; o->ncol = ncol;
    o->progress = cli->progress;
    if (format == MG_DECODE_MGT) {
        size_t len = 1;
        for (int j = 0; j < ncol; j++) len += strlen(cols[j]) + 1;
        if (!(o->classes = malloc(len)) || !(o->rec = mg_record_init())) { mg_seterr(err, errlen, "out of memory"); goto fail; }
        char *p = o->classes;
        for (int j = 0; j < ncol; j++) p += sprintf(p, "%s%s", j ? "," : "", cols[j]);
        mg_prov pv = mg_cli_prov(cli, prov);
        mg_writer_opts wo = mg_cli_writer_opts(cli);
        o->w = mg_writer_open(path, &pv, &wo, err, errlen);
        mg_prov_free(&pv);
        if (!o->w) goto fail;
        return o;
    }
    if (!(o->f = mg_ofile_open(path, NULL, err, errlen))) goto fail;
    if (format == MG_DECODE_TSV) {
        FILE *fp = mg_ofile_fp(o->f);
        fputs("id", fp);
        for (int j = 0; j < ncol; j++) fprintf(fp, "\t%s", cols[j]);
        fputc('\n', fp);
    }
    return o;
fail:
    free(o->classes);
    mg_record_destroy(o->rec);
    free(o);
    return NULL;
}

int mg_decode_out_row(mg_decode_out *o, const mg_record *meta, const char *id, const double *v,
                      char *err, size_t errlen)
{
    mg_progress_step(o->progress, ++o->rows);
    if (o->format == MG_DECODE_TSV) {
        FILE *fp = mg_ofile_fp(o->f);
        fputs(id, fp);
        for (int j = 0; j < o->ncol; j++) fprintf(fp, "\t%.17g", v[j]);
        return fputc('\n', fp) == EOF ? mg_fail(err, errlen, "write failed") : 0;
    }
    if (o->format == MG_DECODE_JSONL) {
        json_t *j = json_object();
        int ok = j && json_object_set_new(j, "id", json_string(id)) == 0;
        for (int k = 0; ok && k < o->ncol; k++) ok = json_object_set_new(j, o->cols[k], json_real(v[k])) == 0;
        FILE *fp = mg_ofile_fp(o->f);
        ok = ok && json_dumpf(j, fp, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) == 0 &&
             fputc('\n', fp) != EOF;
        json_decref(j);
        return ok ? 0 : mg_fail(err, errlen, "write failed");
    }
    mg_record_clear(o->rec);
    int64_t shape[1] = { o->ncol };
    mg_tensor *t;
    if ((meta && mg_record_copy_meta(o->rec, meta) < 0) || mg_record_set_meta(o->rec, "id", id) < 0 ||
        mg_record_set_meta(o->rec, "classes", o->classes) < 0 ||
        !(t = mg_record_add_tensor(o->rec, "pred", MG_F64, 1, shape)))
        return mg_fail(err, errlen, "out of memory");
    memcpy(t->data, v, (size_t)o->ncol * sizeof *v);
    if (mg_writer_write(o->w, o->rec) < 0) { mg_seterr(err, errlen, "%s", mg_writer_error(o->w)); return -1; }
    return 0;
}

int mg_decode_out_close(mg_decode_out *o, int ok, char *err, size_t errlen)
{
    int rc;
    if (o->w) rc = mg_writer_close(o->w, ok, err, errlen);
    else rc = mg_ofile_close(o->f, ok, err, errlen);
    free(o->classes);
    mg_record_destroy(o->rec);
    free(o);
    return ok ? rc : -1;
}
