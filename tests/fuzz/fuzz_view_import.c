/*
 * fuzz_view_import.c - the reader of `otelc view --import` (import_read.c)
 * on arbitrary files: JSON lines or length-prefixed protobuf records, the
 * format told from the first byte. Beyond not crashing or reading out of
 * bounds: every record is either handed over or counted bad, what is
 * handed over holds spans, and the counts add up.
 */
#include <stdio.h>
#include <stdlib.h>

#include "import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int take(void *ctx, vw_batch *b)
{
    size_t *spans = ctx;
    if (b->count == 0) abort(); /* records without spans are not handed over */
    *spans += b->count;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0; /* fmemopen refuses an empty buffer */
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f) return 0;
    vw_import_stats st = {0};
    size_t spans = 0;
    char err[256];
    vw_import_read(f, "fuzz", NULL, take, &spans, &st, err, sizeof err);
    fclose(f);
    if (st.bad > st.records) abort();
    if (spans > 0 && st.records == st.bad) abort();
    return 0;
}
