/* mg_cli_encode.h: the run of an encoding command (mg-encode2d, mg-encode3d)
 * once its encoder is loaded: open the input stream, write the output stream
 * with this program's provenance, encode every record (mg_encode_stream), and
 * report failures as "mg-x: error: FILE: what". Part of the CLI layer. */
#ifndef MG_CLI_ENCODE_H
#define MG_CLI_ENCODE_H

#include "mg_cli.h"
#include "mg_encode_stream.h"

/** Encode in ("-" is stdin) to cli->output. Returns the exit status: 0, or 1
 *  after one error line (nothing is left at the output path). */
int mg_cli_encode(mg_cli *cli, const char *in, mg_encoder *e, const mg_encode_opts *o);

#endif
