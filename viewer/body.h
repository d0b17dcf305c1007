/*
 * body.h - a request body read as it arrives over HTTP: kept up to a
 * bound, and inflated while it arrives when it is gzip-encoded, so that
 * neither a large body nor a decompression bomb costs more memory than the
 * bounds say. A bomb is refused as soon as its output passes the bound,
 * never inflated whole.
 *
 * The bodies of all requests in flight also share one budget (the
 * server's), so that many large requests at once are refused (429) rather
 * than held: the receivers' memory stays bounded whatever the senders do.
 *
 * Outcomes are HTTP statuses, 0 meaning "go on", so that the front end
 * answers with them as they are. Pure apart from malloc: no I/O, no
 * threads of its own (the budget is atomic and may be shared by threads).
 */
#ifndef OTELC_VIEWER_BODY_H
#define OTELC_VIEWER_BODY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

/*
 * Bytes held by the bodies of all requests in flight, against a limit (0:
 * none), and the buffer of one body freed, kept for the next request (up
 * to VW_BODY_SPARE_MAX bytes; not charged while kept): a sender's request
 * after request then lands in memory already faulted in, where a fresh
 * buffer of a few MiB costs the receiving thread a page fault every 4 KiB.
 * Zero-initialised; vw_body_budget_release() frees the buffer kept.
 */
typedef struct vw_body_budget {
    _Atomic size_t held;
    size_t limit;
    _Atomic(char *) spare; /* its capacity in its first bytes while kept */
} vw_body_budget;

#define VW_BODY_SPARE_MAX ((size_t)8 * 1024 * 1024)

/* Free the buffer bg keeps, if any (the budget is no longer used). */
void vw_body_budget_release(vw_body_budget *bg);

/* What Content-Length said when it said nothing (chunked transfer). */
#define VW_BODY_LENGTH_UNKNOWN UINT64_MAX

typedef struct vw_body {
    /* The body, once vw_body_end() returned 0: len bytes at data, then a NUL. */
    char *data;
    size_t len;

    /* Why the body was refused ("" before). */
    char error[128];

    /* Reading state. */
    size_t cap;      /* bytes allocated at data, charged to budget */
    size_t wire;     /* bytes received */
    size_t max_wire; /* bound on the bytes received */
    size_t max_len;  /* bound on the body once inflated */
    vw_body_budget *budget;
    unsigned status;  /* the refusal once decided, else 0 */
    bool gzip;        /* Content-Encoding: gzip */
    bool inflating;   /* z holds an inflate stream */
    bool member_done; /* the last gzip member ended: more input starts another */
    z_stream z;
} vw_body;

/*
 * Start reading a body: content_encoding is the Content-Encoding header
 * (NULL, "identity" or "gzip", any case; "x-gzip" too), content_length
 * what Content-Length announced (VW_BODY_LENGTH_UNKNOWN when absent),
 * max_wire the bound on the bytes received and max_len on the body once
 * inflated (for an identity body, the smaller of the two applies), budget
 * the shared budget (NULL: none). Returns 0, or the status to answer with:
 * 415 for another encoding (a list of encodings included), 413 when
 * content_length is over the bound, 429 when the budget cannot take it.
 * Either way vw_body_free() must follow.
 */
unsigned vw_body_begin(vw_body *b, const char *content_encoding, uint64_t content_length,
                       size_t max_wire, size_t max_len, vw_body_budget *budget);

/*
 * Take the next n bytes received. Returns 0, or the status the request is
 * refused with (b->error says why): 413 when the bytes received or the
 * inflated body pass their bound, 400 for corrupt gzip data, 429 when the
 * budget is spent, 503 when out of memory. Once refused every call returns
 * the same status and keeps nothing (b->wire still counts what arrives).
 */
unsigned vw_body_feed(vw_body *b, const void *p, size_t n);

/*
 * The body is complete. Returns 0 (data and len hold it), 400 when a gzip
 * body was cut short, or the earlier refusal.
 */
unsigned vw_body_end(vw_body *b);

/* Free what b holds and give its bytes back to the budget; b is then empty. */
void vw_body_free(vw_body *b);

#endif
