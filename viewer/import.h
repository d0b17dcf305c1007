/*
 * import.h - `otelc view --import FILE`: load a file of OTLP trace
 * requests into the store, through the ingest queue like any receiver.
 *
 * Two formats, told apart by the file's first byte ('{', white space or a
 * byte order mark: JSON lines; anything else: protobuf):
 *
 * - OTLP JSON lines: one ExportTraceServiceRequest (or TracesData: the
 *   same JSON) per line. What otelc's file exporter (OTELC_FILE_PATH), the
 *   Collector's file exporter (format: json) and `otelc traces export`
 *   write; blank lines are skipped.
 * - Length-delimited protobuf: each ExportTraceServiceRequest after its
 *   length, 4 bytes big-endian. What the Collector's file exporter writes
 *   with format: proto (uncompressed) and `otelc traces export --format
 *   otlp-proto`.
 *
 * A directory given to --import is an otelc spool (OTELC_SPOOL_DIR): each
 * of its *.otlp files, one length-delimited protobuf request each, is
 * imported as such a file (import_thread.c), oldest first.
 *
 * The file is streamed: at most one record is in memory besides what
 * waits in the ingest queue, and a full queue is waited for, never
 * overrun. A record that cannot be decoded is reported with its line
 * (JSON) or record number and byte offset (protobuf) and skipped; spans
 * with invalid ids are left out and counted, as a receiver does. A
 * protobuf length beyond any record the viewer takes loses the framing:
 * reading stops there.
 */
#ifndef OTELC_VIEWER_IMPORT_H
#define OTELC_VIEWER_IMPORT_H

#include <stdint.h>
#include <stdio.h>

#include "ingest.h"

/* The largest record read (a line, or a protobuf message): larger ones are skipped. */
#define VW_IMPORT_MAX_RECORD ((size_t)64 << 20)

typedef struct vw_import_stats {
    uint64_t records;  /* lines (not blank) or protobuf messages read */
    uint64_t bad;      /* of those, skipped: not a request, too large, too deep */
    uint64_t spans;    /* spans committed to the store */
    uint64_t rejected; /* spans left out for invalid ids */
    uint64_t failed;   /* spans the store could not write */
} vw_import_stats;

/*
 * Import the file at path into in, reporting bad records and a summary
 * line on stderr ("otelc view: FILE: ..."). Returns 0 when the whole
 * file was read and every decoded span committed (bad records do not
 * count), -1 otherwise with err saying why: the file cannot be opened or
 * read, the protobuf framing is lost, the store failed to write, the
 * ingest queue stopped.
 */
int vw_import_file(vw_ingest *in, const char *path, char *err, size_t err_size);

/*
 * As vw_import_file() on an open stream (name labels the messages), the
 * counts in *stats (which may be NULL). f is read to its end, not closed.
 */
int vw_import_stream(vw_ingest *in, FILE *f, const char *name, vw_import_stats *stats, char *err,
                     size_t err_size);

/* ---- The reader, for the importer and its fuzz target --------------------------------- */

/*
 * Handed each decoded record with spans (b is the callee's to empty or
 * leave; the reader frees it afterwards). Returns 0, or -1 to stop.
 */
typedef int (*vw_import_take_fn)(void *ctx, vw_batch *b);

/*
 * Read f record by record (name labels the messages), handing each
 * decoded batch to take and reporting bad records on report_to (NULL:
 * silently); fills records, bad and rejected of *stats (zeroed by the
 * caller). Returns 0 at the end of the file, or -1 with err saying why
 * reading stopped early: a read error, the protobuf framing lost, out of
 * memory, take refusing.
 */
int vw_import_read(FILE *f, const char *name, FILE *report_to, vw_import_take_fn take, void *ctx,
                   vw_import_stats *stats, char *err, size_t err_size);

#endif
