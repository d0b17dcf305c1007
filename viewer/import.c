/*
 * import.c - loading OTLP files into the store through the ingest queue
 * (import.h); import_read.c reads the records.
 *
 * Each decoded record is one batch submitted to the ingest queue without
 * waiting for its commit, so that the ingest thread groups them into large
 * transactions. When the queue is full the reader waits for a commit to
 * free room: memory stays within the queue's bound plus one record. At
 * the end it waits until every batch it submitted is decided.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/otlp.h"
#include "import.h"

#define FULL_WAIT_MS 50 /* a full queue is looked at again this often */

typedef struct importer {
    vw_ingest *in;
    pthread_mutex_t lock;
    pthread_cond_t decided;
    size_t pending;         /* submitted, not decided yet */
    uint64_t spans, failed; /* the ingest thread's outcomes */
} importer;

typedef struct submission {
    importer *imp;
    size_t spans;
} submission;

/* On the ingest thread, once a batch is committed or failed. */
static void on_decided(void *ctx, vw_ingest_result r)
{
    submission *s = ctx;
    importer *imp = s->imp;
    pthread_mutex_lock(&imp->lock);
    if (r == VW_INGEST_COMMITTED)
        imp->spans += s->spans;
    else
        imp->failed += s->spans;
    imp->pending--;
    pthread_cond_broadcast(&imp->decided);
    pthread_mutex_unlock(&imp->lock);
    free(s);
}

/* Wait (lock held) for a decision, at most ms. */
static void wait_decided(importer *imp, uint32_t ms)
{
    struct timespec until = otelc__deadline_in(ms);
    pthread_cond_timedwait(&imp->decided, &imp->lock, &until);
}

/*
 * Queue b (taken: it is left empty), waiting while the queue is full.
 * Returns 0, or -1 when the ingest stopped or memory ran out.
 */
static int submit(void *ctx, vw_batch *b)
{
    importer *imp = ctx;
    submission *s = malloc(sizeof *s);
    if (!s) return -1;
    *s = (submission){imp, b->count};
    for (;;) {
        pthread_mutex_lock(&imp->lock);
        imp->pending++; /* before: the decision may come before submit returns */
        pthread_mutex_unlock(&imp->lock);
        vw_ingest_result r = vw_ingest_submit(imp->in, b, on_decided, s);
        if (r == VW_INGEST_QUEUED) return 0;
        pthread_mutex_lock(&imp->lock);
        imp->pending--;
        if (r == VW_INGEST_FULL) wait_decided(imp, FULL_WAIT_MS);
        pthread_mutex_unlock(&imp->lock);
        if (r != VW_INGEST_FULL) break;
    }
    free(s);
    return -1;
}

int vw_import_stream(vw_ingest *in, FILE *f, const char *name, vw_import_stats *stats, char *err,
                     size_t err_size)
{
    importer imp = {.in = in};
    vw_import_stats st = {0};
    pthread_mutex_init(&imp.lock, NULL);
    otelc__cond_init_monotonic(&imp.decided);
    int rc = vw_import_read(f, name, stderr, submit, &imp, &st, err, err_size);
    pthread_mutex_lock(&imp.lock);
    while (imp.pending > 0) wait_decided(&imp, 1000);
    st.spans = imp.spans;
    st.failed = imp.failed;
    pthread_mutex_unlock(&imp.lock);
    if (rc == 0 && st.failed) {
        snprintf(err, err_size, "%s: the store could not write %" PRIu64 " spans", name, st.failed);
        rc = -1;
    }
    if (stats) *stats = st;
    pthread_mutex_destroy(&imp.lock);
    pthread_cond_destroy(&imp.decided);
    return rc;
}

int vw_import_file(vw_ingest *in, const char *path, char *err, size_t err_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_size, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    vw_import_stats st;
    int rc = vw_import_stream(in, f, path, &st, err, err_size);
    fclose(f);
    fprintf(stderr,
            "otelc view: %s: %" PRIu64 " spans imported from %" PRIu64 " records (%" PRIu64
            " bad records, %" PRIu64 " spans left out)\n",
            path, st.spans, st.records, st.bad, st.rejected);
    return rc;
}
