/*
 * import_read.c - reading OTLP files record by record (import.h): the
 * format told from the first byte, JSON lines or length-prefixed
 * protobuf, each record decoded into a batch and handed to the caller.
 *
 * The file is read in 64 KiB blocks; a record is in memory once (as text
 * or bytes) and once decoded, never more, and a record beyond
 * VW_IMPORT_MAX_RECORD is skipped (a line) or ends the reading (a
 * protobuf length: the framing is lost) without being read into memory.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_json.h"
#include "decode_proto.h"
#include "export/otlp.h"
#include "import.h"

#define BLOCK        65536
#define MAX_REPORTED 20 /* problems reported one by one; then only counted */
#define PROTO_HEADER 4

/* ---- Reading the file ---------------------------------------------------------------------------
 */

typedef struct reader {
    FILE *f;
    unsigned char block[BLOCK];
    size_t pos, len;
    uint64_t offset; /* of block[pos] in the file */
    bool error;
} reader;

/* Make block[pos] valid; false at the end of the file (or on a read error). */
static bool fill(reader *r)
{
    if (r->pos < r->len) return true;
    r->pos = 0;
    r->len = fread(r->block, 1, BLOCK, r->f);
    if (r->len == 0 && ferror(r->f)) r->error = true;
    return r->len > 0;
}

static void advance(reader *r, size_t n)
{
    r->pos += n;
    r->offset += n;
}

/*
 * Whether the file holds JSON lines: it starts with '{', white space or a
 * UTF-8 byte order mark. None of those can start a protobuf record here:
 * as the first byte of a length they mean 150 MiB or more, beyond
 * VW_IMPORT_MAX_RECORD. Nothing is consumed.
 */
static bool starts_json(reader *r)
{
    unsigned char c = r->block[r->pos];
    return c == '{' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0xef;
}

/*
 * The next line (without its '\n') into line; false at the end of the
 * file. A line longer than max is not kept: *too_long is set and line is
 * left empty.
 */
static bool read_line(reader *r, otelc_buf *line, size_t max, bool *too_long)
{
    otelc__buf_reset(line);
    *too_long = false;
    bool any = false;
    while (fill(r)) {
        any = true;
        const unsigned char *p = r->block + r->pos;
        size_t avail = r->len - r->pos;
        const unsigned char *nl = memchr(p, '\n', avail);
        size_t n = nl ? (size_t)(nl - p) : avail;
        if (!*too_long && line->len + n > max) {
            *too_long = true;
            otelc__buf_reset(line);
        }
        if (!*too_long) otelc__buf_append(line, p, n);
        advance(r, nl ? n + 1 : n);
        if (nl) return true;
    }
    return any;
}

/* Exactly n bytes into dst; false when the file ends first. */
static bool read_exact(reader *r, void *dst, size_t n)
{
    unsigned char *out = dst;
    while (n > 0 && fill(r)) {
        size_t take = r->len - r->pos < n ? r->len - r->pos : n;
        memcpy(out, r->block + r->pos, take);
        advance(r, take);
        out += take;
        n -= take;
    }
    return n == 0;
}

/* ---- Records
 * ---------------------------------------------------------------------------------------- */

typedef struct import_reader {
    reader r;
    const char *name;
    FILE *report_to;
    vw_import_take_fn take;
    void *ctx;
    vw_import_stats *st;
    uint64_t reported;
} import_reader;

static void report(import_reader *ir, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One line about a record, the first MAX_REPORTED of them. */
static void report(import_reader *ir, const char *where, const char *fmt, ...)
{
    if (!ir->report_to || ir->reported++ >= MAX_REPORTED) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(ir->report_to, "otelc view: %s%s: ", ir->name, where);
    vfprintf(ir->report_to, fmt, ap);
    fputc('\n', ir->report_to);
    if (ir->reported == MAX_REPORTED)
        fprintf(ir->report_to, "otelc view: %s: more problems are counted, not shown\n", ir->name);
    va_end(ap);
}

static const char *decode_problem(vw_decode_status st, bool json)
{
    switch (st) {
    case VW_DECODE_INVALID:
        return json ? "not an OTLP/JSON trace request" : "not an OTLP protobuf trace request";
    case VW_DECODE_TOO_BIG:
        return "more spans, or values nested deeper, than the viewer takes";
    default:
        return "out of memory";
    }
}

/*
 * A decoded record: counted, its problems reported, handed over. Returns
 * 0, or -1 when reading cannot go on (err says why).
 */
static int take_record(import_reader *ir, const char *where, vw_decode_status st, vw_batch *b,
                       bool json, char *err, size_t err_size)
{
    ir->st->records++;
    int rc = 0;
    if (st == VW_DECODE_NOMEM) {
        snprintf(err, err_size, "%s%s: out of memory", ir->name, where);
        rc = -1;
    } else if (st != VW_DECODE_OK) {
        ir->st->bad++;
        report(ir, where, "%s, skipped", decode_problem(st, json));
    } else {
        if (b->rejected) {
            ir->st->rejected += b->rejected;
            report(ir, where, "%zu spans left out: %s", b->rejected, b->reject_reason);
        }
        if (b->count && ir->take(ir->ctx, b) != 0) {
            snprintf(err, err_size,
                     "%s%s: the spans could not be queued (out of memory, or the "
                     "viewer is stopping)",
                     ir->name, where);
            rc = -1;
        }
    }
    vw_batch_free(b);
    return rc;
}

static bool blank(const otelc_buf *line)
{
    for (size_t i = 0; i < line->len; i++)
        if (!strchr(" \t\r", line->data[i])) return false;
    return true;
}

static int read_json_lines(import_reader *ir, char *err, size_t err_size)
{
    otelc_buf line = {0};
    bool too_long;
    int rc = 0;
    char where[32];
    for (uint64_t n = 1; rc == 0 && read_line(&ir->r, &line, VW_IMPORT_MAX_RECORD, &too_long);
         n++) {
        snprintf(where, sizeof where, ":%" PRIu64, n);
        if (too_long) {
            ir->st->records++;
            ir->st->bad++;
            report(ir, where, "longer than %zu MiB, skipped", VW_IMPORT_MAX_RECORD >> 20);
        } else if (line.failed) {
            snprintf(err, err_size, "%s%s: out of memory", ir->name, where);
            rc = -1;
        } else if (!blank(&line)) {
            vw_batch b;
            vw_batch_init(&b);
            vw_decode_status st = vw_decode_otlp_json(line.data, line.len, &b);
            rc = take_record(ir, where, st, &b, true, err, err_size);
        }
    }
    otelc__buf_free(&line);
    return rc;
}

/*
 * The length of the next protobuf record; SIZE_MAX when the file ends
 * inside it. false at the end of the file, between records.
 */
static bool read_length(reader *r, size_t *len)
{
    uint8_t h[PROTO_HEADER];
    if (!fill(r)) return false;
    *len = read_exact(r, h, sizeof h)
               ? (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3]
               : SIZE_MAX;
    return true;
}

/*
 * The len bytes of a record into msg. The buffer grows with what arrives,
 * so that a length the file does not back up costs no large allocation.
 * Returns 0, or -1 at the file's end (*nomem false) or out of memory.
 */
static int read_record(reader *r, otelc_buf *msg, size_t len, bool *nomem)
{
    otelc__buf_reset(msg);
    while (msg->len < len) {
        size_t take = len - msg->len < BLOCK ? len - msg->len : BLOCK;
        if (!otelc__buf_reserve(msg, take)) {
            *nomem = true;
            return -1;
        }
        if (!read_exact(r, msg->data + msg->len, take)) return -1;
        msg->len += take;
    }
    return 0;
}

static int read_proto(import_reader *ir, char *err, size_t err_size)
{
    otelc_buf msg = {0};
    size_t len;
    int rc = 0;
    char where[64];
    for (uint64_t n = 1; rc == 0; n++) {
        uint64_t at = ir->r.offset;
        if (!read_length(&ir->r, &len)) break;
        snprintf(where, sizeof where, ": record %" PRIu64 " (byte %" PRIu64 ")", n, at);
        bool nomem = false;
        if (len > VW_IMPORT_MAX_RECORD) {
            snprintf(err, err_size, "%s%s: %s; the rest of the file cannot be read", ir->name,
                     where,
                     len == SIZE_MAX ? "the file ends inside a length"
                                     : "a length beyond any record (not OTLP protobuf records?)");
            rc = -1;
        } else if (read_record(&ir->r, &msg, len, &nomem) != 0) {
            snprintf(err, err_size, "%s%s: %s", ir->name, where,
                     nomem ? "out of memory" : "the file ends inside the record");
            rc = -1;
        } else {
            vw_batch b;
            vw_batch_init(&b);
            vw_decode_status st = vw_decode_otlp_proto((const uint8_t *)msg.data, len, &b);
            rc = take_record(ir, where, st, &b, false, err, err_size);
        }
    }
    otelc__buf_free(&msg);
    return rc;
}

int vw_import_read(FILE *f, const char *name, FILE *report_to, vw_import_take_fn take, void *ctx,
                   vw_import_stats *stats, char *err, size_t err_size)
{
    import_reader *ir = calloc(1, sizeof *ir);
    if (!ir) {
        snprintf(err, err_size, "%s: out of memory", name);
        return -1;
    }
    ir->name = name;
    ir->report_to = report_to;
    ir->take = take;
    ir->ctx = ctx;
    ir->st = stats;
    ir->r.f = f;
    int rc = 0;
    if (fill(&ir->r))
        rc = starts_json(&ir->r) ? read_json_lines(ir, err, err_size)
                                 : read_proto(ir, err, err_size);
    if (rc == 0 && ir->r.error) {
        snprintf(err, err_size, "%s: cannot be read", name);
        rc = -1;
    }
    free(ir);
    return rc;
}
