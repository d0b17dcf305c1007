/*
 * body.c - request bodies read with bounds, gzip inflated as it arrives
 * (body.h).
 *
 * The body lives in one buffer that grows by doubling, up to one byte
 * more than the bound (and the NUL): a body that fills that byte is over
 * the bound, which is how a bomb is caught without inflating any further.
 * Each growth is charged to the shared budget before it is allocated.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "body.h"

#define FIRST_CAP ((size_t)64 * 1024)

static unsigned refuse(vw_body *b, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static unsigned refuse(vw_body *b, unsigned status, const char *fmt, ...)
{
    if (b->status) return b->status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->error, sizeof b->error, fmt, ap);
    va_end(ap);
    b->status = status;
    return status;
}

/* Take n bytes of the budget; false when that would pass its limit. */
static bool budget_take(vw_body_budget *bg, size_t n)
{
    if (!bg) return true;
    size_t held = atomic_load(&bg->held);
    do {
        if (bg->limit && (n > bg->limit || held > bg->limit - n)) return false;
    } while (!atomic_compare_exchange_weak(&bg->held, &held, held + n));
    return true;
}

static void budget_give(vw_body_budget *bg, size_t n)
{
    if (bg && n) atomic_fetch_sub(&bg->held, n);
}

/* The buffer bg keeps, taken with its capacity into *cap; NULL when none. */
static char *spare_take(vw_body_budget *bg, size_t *cap)
{
    char *p = bg ? atomic_exchange(&bg->spare, NULL) : NULL;
    if (p) memcpy(cap, p, sizeof *cap);
    return p;
}

/* Keep p (cap bytes) for the next body when bg keeps none yet, else free it. */
static void spare_put(vw_body_budget *bg, char *p, size_t cap)
{
    char *none = NULL;
    if (p && bg && cap >= sizeof cap && cap <= VW_BODY_SPARE_MAX) {
        memcpy(p, &cap, sizeof cap);
        if (atomic_compare_exchange_strong(&bg->spare, &none, p)) return;
    }
    free(p);
}

void vw_body_budget_release(vw_body_budget *bg)
{
    size_t cap;
    free(spare_take(bg, &cap));
}

/*
 * A first buffer for b: the one the budget keeps, when the budget can take
 * it. One too small still serves: realloc() grows it keeping the pages
 * already in memory, and a sender's requests differ in size by a little.
 */
static void adopt_spare(vw_body *b)
{
    size_t cap;
    char *p = spare_take(b->budget, &cap);
    if (!p) return;
    if (cap > b->max_len + 2 || !budget_take(b->budget, cap)) { /* never more than b's bound */
        spare_put(b->budget, p, cap);
        return;
    }
    b->data = p;
    b->cap = cap;
}

/*
 * Room for at least need bytes and the NUL: exactly that when exact (a
 * body of known size), else doubling, never more than the bound allows.
 */
static unsigned reserve(vw_body *b, size_t need, bool exact)
{
    if (need + 1 <= b->cap) return 0;
    if (!b->data) {
        adopt_spare(b);
        if (need + 1 <= b->cap) return 0;
    }
    size_t most = b->max_len + 2; /* the byte that proves a body too large, then the NUL */
    size_t cap = need + 1;
    if (!exact) {
        cap = b->cap ? b->cap : FIRST_CAP;
        while (cap < need + 1) cap *= 2;
    }
    if (cap > most) cap = most;
    if (!budget_take(b->budget, cap - b->cap))
        return refuse(b, 429, "the server holds too many request bodies; retry later");
    char *grown = realloc(b->data, cap);
    if (!grown) {
        budget_give(b->budget, cap - b->cap);
        return refuse(b, 503, "out of memory");
    }
    b->data = grown;
    b->cap = cap;
    return 0;
}

/* The encoding named by a Content-Encoding value: 0 identity, 1 gzip, -1 other. */
static int encoding_of(const char *v)
{
    if (!v) return 0;
    v += strspn(v, " \t");
    size_t n = strcspn(v, " \t");
    if (v[n + strspn(v + n, " \t")] != '\0') return -1; /* a list, or junk after the name */
    if (n == 0 || (n == 8 && strncasecmp(v, "identity", 8) == 0)) return 0;
    if ((n == 4 && strncasecmp(v, "gzip", 4) == 0) || (n == 6 && strncasecmp(v, "x-gzip", 6) == 0))
        return 1;
    return -1;
}

unsigned vw_body_begin(vw_body *b, const char *content_encoding, uint64_t content_length,
                       size_t max_wire, size_t max_len, vw_body_budget *budget)
{
    memset(b, 0, sizeof *b);
    b->budget = budget;
    b->max_wire = max_wire;
    int enc = encoding_of(content_encoding);
    if (enc < 0)
        return refuse(b, 415, "Content-Encoding \"%.64s\" is not supported: use gzip or none",
                      content_encoding);
    b->gzip = enc == 1;
    b->max_len = (b->gzip || max_wire > max_len) ? max_len : max_wire;
    size_t bound = b->gzip ? max_wire : b->max_len;
    if (content_length != VW_BODY_LENGTH_UNKNOWN && content_length > bound)
        return refuse(b, 413, "the body is larger than %zu bytes", bound);
    if (b->gzip) {
        if (inflateInit2(&b->z, 16 + MAX_WBITS) != Z_OK) return refuse(b, 503, "out of memory");
        b->inflating = true;
    }
    /* A body of known size is held in one allocation of that size. */
    if (!b->gzip && content_length != VW_BODY_LENGTH_UNKNOWN && content_length) {
        unsigned st = reserve(b, (size_t)content_length, true);
        if (st) return st;
    }
    return 0;
}

static unsigned inflate_some(vw_body *b, const void *p, size_t n)
{
    b->z.next_in = (Bytef *)(uintptr_t)p;
    b->z.avail_in = (uInt)n;
    while (b->z.avail_in > 0) {
        if (b->member_done) { /* another gzip member follows (RFC 1952 allows several) */
            inflateReset(&b->z);
            b->member_done = false;
        }
        if (b->len + 1 >= b->cap) {
            if (b->len > b->max_len)
                return refuse(b, 413, "the body inflates to more than %zu bytes", b->max_len);
            unsigned st = reserve(b, b->len + 1, false);
            if (st) return st;
        }
        b->z.next_out = (Bytef *)b->data + b->len;
        b->z.avail_out = (uInt)(b->cap - 1 - b->len);
        uInt out_before = b->z.avail_out, in_before = b->z.avail_in;
        int rc = inflate(&b->z, Z_NO_FLUSH);
        b->len += out_before - b->z.avail_out;
        if (b->len > b->max_len)
            return refuse(b, 413, "the body inflates to more than %zu bytes", b->max_len);
        if (rc == Z_STREAM_END)
            b->member_done = true;
        else if (rc == Z_MEM_ERROR)
            return refuse(b, 503, "out of memory");
        else if (rc != Z_OK && rc != Z_BUF_ERROR)
            return refuse(b, 400, "corrupt gzip data: %s", b->z.msg ? b->z.msg : "inflate failed");
        else if (b->z.avail_in == in_before && b->z.avail_out == out_before)
            return refuse(b, 400, "corrupt gzip data"); /* zlib promises progress; never spin */
    }
    return 0;
}

unsigned vw_body_feed(vw_body *b, const void *p, size_t n)
{
    b->wire += n;
    if (b->status) return b->status;
    if (b->wire > b->max_wire || b->wire < n)
        return refuse(b, 413, "the body is larger than %zu bytes", b->max_wire);
    if (n == 0) return 0;
    if (b->gzip) return inflate_some(b, p, n);
    if (b->len + n > b->max_len)
        return refuse(b, 413, "the body is larger than %zu bytes", b->max_len);
    unsigned st = reserve(b, b->len + n, false);
    if (st) return st;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

unsigned vw_body_end(vw_body *b)
{
    if (b->status) return b->status;
    /* A gzip body must end with a whole member; an empty one is an empty body. */
    if (b->gzip && b->wire > 0 && !b->member_done)
        return refuse(b, 400, "the gzip data is cut short");
    if (reserve(b, b->len, true)) return b->status;
    b->data[b->len] = '\0';
    return 0;
}

void vw_body_free(vw_body *b)
{
    if (b->inflating) inflateEnd(&b->z);
    spare_put(b->budget, b->data, b->cap);
    budget_give(b->budget, b->cap);
    b->data = NULL;
    b->len = b->cap = 0;
    b->inflating = false;
}
