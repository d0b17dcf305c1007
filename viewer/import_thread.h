/*
 * import_thread.h - `otelc view --import FILE...` while the viewer serves:
 * the files are imported one after the other (import.h) on a thread of
 * their own, and a stop ends the import at its next read.
 */
#ifndef OTELC_VIEWER_IMPORT_THREAD_H
#define OTELC_VIEWER_IMPORT_THREAD_H

#include <stdbool.h>
#include <stddef.h>

#include "ingest.h"

typedef struct vw_import_thread vw_import_thread;

/*
 * Start importing paths[0..n) (not copied: they must outlive the thread)
 * into in, each file's summary and problems on stderr as vw_import_file()
 * reports them. NULL when the thread cannot start (out of memory).
 */
vw_import_thread *vw_import_thread_start(vw_ingest *in, const char *const *paths, size_t n);

/*
 * Stop reading (what was read is still stored), wait for the thread and
 * free it. Before vw_ingest_stop(): the import waits on the queue until
 * then. Returns true when every file was imported whole. NULL: true.
 */
bool vw_import_thread_stop(vw_import_thread *t);

#endif
