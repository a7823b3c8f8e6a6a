/* libFuzzer harness for the stream reader: any bytes → read every record →
 * write what was read to /dev/null through the writer, as a round trip. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "mg_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int null_fd = -1;
    if (null_fd < 0) null_fd = open("/dev/null", O_WRONLY);
    mg_reader *r = mg_reader_open_mem(data, size, NULL, 0);
    if (!r) return 0;
    mg_writer_opts o = {0, 1};
    mg_writer *w = mg_writer_open_fd(null_fd, mg_reader_prov(r), &o, NULL, 0);
    mg_record *rec = mg_record_init();
    int k;
    while ((k = mg_reader_next(r, rec)) == 1)
        if (w && mg_writer_write(w, rec) < 0) abort();   /* what was read must write back */
    mg_record_destroy(rec);
    if (w) mg_writer_close(w, k == 0, NULL, 0);
    mg_reader_close(r);
    return 0;
}
