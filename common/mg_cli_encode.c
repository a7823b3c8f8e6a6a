#include "mg_cli_encode.h"

#include <string.h>

int mg_cli_encode(mg_cli *cli, const char *in, mg_encoder *e, const mg_encode_opts *o)
{
    char err[512];
    mg_reader *r = mg_reader_open(in, err, sizeof err);
    if (!r) { mg_error(cli, in, "%s", err); return 1; }
    mg_prov prov = mg_cli_prov(cli, mg_reader_prov(r));
    mg_writer_opts wo = mg_cli_writer_opts(cli);
    mg_writer *w = mg_writer_open(cli->output, &prov, &wo, err, sizeof err);
    mg_prov_free(&prov);
    int ok = 0;
    if (!w) {
        mg_error(cli, cli->output, "%s", err);
    } else {
        mg_encode_opts oo = *o;
        double fwd = 0;
        mg_cli_progress_begin(cli, "records", 0);
        oo.progress = cli->progress;
        oo.forward_s = &fwd;
        int rc = mg_encode_stream(r, w, e, &oo, err, sizeof err);
        mg_cli_progress_end(cli);
        /* the model alone, without start-up, loading and I/O: what a peer's
         * timed forward call measures */
        if (rc == 0) mg_info(cli, "forward passes %.3f s", fwd);
        if (rc < 0) mg_error(cli, rc == -2 ? cli->output : in, "%s", err);
        ok = rc == 0;
        /* closing with ok 0 removes the temporary output */
        if (mg_writer_close(w, ok, err, sizeof err) < 0 && ok) {
            mg_error(cli, cli->output, "%s", err);
            ok = 0;
        }
    }
    mg_reader_close(r);
    if (ok && strcmp(cli->output, "-") == 0 && mg_close_stdout(cli) < 0) ok = 0;
    return ok ? 0 : 1;
}
