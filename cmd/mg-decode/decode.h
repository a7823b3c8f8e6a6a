/* decode.h: the modes of mg-decode, one file each. */
#ifndef MG_DECODE_H
#define MG_DECODE_H

/* Each takes the arguments after the mode name (argv[0] is the mode, or the
 * program when the mode was implied) and returns the exit status. */
int mg_decode_generate(int argc, char **argv);

#endif
