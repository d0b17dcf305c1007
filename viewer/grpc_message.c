/*
 * grpc_message.c - the request message of a unary gRPC call, reassembled
 * (and inflated) from DATA bytes as they arrive; see grpc_message.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc_message.h"

#define FIRST_CHUNK (16 * 1024) /* the first allocation; doubled from there */

vw_grpc_encoding vw_grpc_encoding_of(const char *v, size_t n)
{
    if (!v || (n == 8 && memcmp(v, "identity", 8) == 0)) return VW_GRPC_IDENTITY;
    if (n == 4 && memcmp(v, "gzip", 4) == 0) return VW_GRPC_GZIP;
    return VW_GRPC_UNSUPPORTED;
}

void vw_grpc_message_init(vw_grpc_message *m, size_t max_message, vw_grpc_encoding encoding)
{
    memset(m, 0, sizeof *m);
    /* A prefix cannot announce more than 4 GiB; the cap keeps max_message + 1 from overflowing. */
    m->max_message = max_message < UINT32_MAX ? max_message : UINT32_MAX - 1;
    m->encoding = encoding;
}

static void end_inflate(vw_grpc_message *m)
{
    if (m->inflating) inflateEnd(&m->z);
    m->inflating = false;
}

void vw_grpc_message_free(vw_grpc_message *m)
{
    end_inflate(m);
    free(m->data);
    m->data = NULL;
    m->len = m->cap = 0;
}

/* Fail the call with status; what was read is dropped at once (its memory is the server's budget).
 */
static int fail(vw_grpc_message *m, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(vw_grpc_message *m, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->error, sizeof m->error, fmt, ap);
    va_end(ap);
    m->failed = status;
    vw_grpc_message_free(m);
    return status;
}

/* Room for at least one more byte, never beyond limit bytes in all. */
static bool grow(vw_grpc_message *m, size_t limit)
{
    size_t cap = m->cap ? m->cap * 2 : FIRST_CHUNK;
    if (cap < m->cap || cap > limit) cap = limit;
    if (cap <= m->len) return false;
    uint8_t *d = realloc(m->data, cap);
    if (!d) return false;
    m->data = d;
    m->cap = cap;
    return true;
}

/* The prefix is complete: check it and get ready for the message bytes. */
static int start_message(vw_grpc_message *m)
{
    const uint8_t *h = m->prefix;
    uint32_t n = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 | h[4];
    if (++m->messages > 1)
        return fail(m, VW_GRPC_INTERNAL, "more than one request message for a unary method");
    if (h[0] > 1) return fail(m, VW_GRPC_INTERNAL, "invalid compressed flag %u", h[0]);
    if (h[0] == 1 && m->encoding == VW_GRPC_IDENTITY)
        return fail(m, VW_GRPC_INTERNAL, "compressed message without grpc-encoding");
    if (h[0] == 1 && m->encoding == VW_GRPC_UNSUPPORTED)
        return fail(m, VW_GRPC_UNIMPLEMENTED,
                    "unsupported grpc-encoding (accepted: " VW_GRPC_ACCEPT_ENCODING ")");
    if (n > m->max_message)
        return fail(m, VW_GRPC_RESOURCE_EXHAUSTED,
                    "request message of %u bytes is larger than the limit of %zu", n,
                    m->max_message);
    m->compressed = h[0] == 1;
    m->wire_left = n;
    if (m->compressed) {
        /* windowBits 15 + 16: the gzip wrapper, which "gzip" in grpc-encoding means. */
        if (inflateInit2(&m->z, 15 + 16) != Z_OK)
            return fail(m, VW_GRPC_UNAVAILABLE, "out of memory for decompression");
        m->inflating = true;
    }
    return VW_GRPC_OK;
}

static int append_plain(vw_grpc_message *m, const uint8_t *p, size_t n)
{
    /* The prefix gave the size: grow towards it, never past it. */
    size_t total = m->len + m->wire_left;
    while (m->cap - m->len < n)
        if (!grow(m, total)) return fail(m, VW_GRPC_UNAVAILABLE, "out of memory");
    memcpy(m->data + m->len, p, n);
    m->len += n;
    return VW_GRPC_OK;
}

/*
 * Inflate n compressed bytes. The output may grow to max_message + 1
 * bytes: one byte beyond the limit proves the message too large, at
 * whatever point of the compressed stream that happens.
 */
static int append_inflated(vw_grpc_message *m, const uint8_t *p, size_t n)
{
    size_t limit = m->max_message + 1;
    m->z.next_in = (Bytef *)(uintptr_t)p; /* zlib's API is not const-correct */
    m->z.avail_in = (uInt)n;
    while (m->z.avail_in > 0) {
        if (m->inflate_ended)
            return fail(m, VW_GRPC_INTERNAL, "data after the end of the compressed message");
        if (m->len == m->cap && !grow(m, limit)) {
            if (m->cap == limit)
                return fail(m, VW_GRPC_RESOURCE_EXHAUSTED,
                            "request message is larger than the limit of %zu bytes once "
                            "decompressed",
                            m->max_message);
            return fail(m, VW_GRPC_UNAVAILABLE, "out of memory");
        }
        m->z.next_out = m->data + m->len;
        m->z.avail_out = (uInt)(m->cap - m->len);
        int rc = inflate(&m->z, Z_NO_FLUSH);
        m->len = m->cap - m->z.avail_out;
        if (m->len > m->max_message)
            return fail(m, VW_GRPC_RESOURCE_EXHAUSTED,
                        "request message is larger than the limit of %zu bytes once decompressed",
                        m->max_message);
        if (rc == Z_STREAM_END)
            m->inflate_ended = true;
        else if (rc != Z_OK)
            return fail(m, VW_GRPC_INTERNAL, "corrupt gzip message (%s)",
                        m->z.msg ? m->z.msg : "zlib error");
    }
    return VW_GRPC_OK;
}

/* The last wire byte of the message arrived. */
static int end_message(vw_grpc_message *m)
{
    if (m->compressed && !m->inflate_ended)
        return fail(m, VW_GRPC_INTERNAL, "compressed message cut off");
    end_inflate(m);
    m->prefix_len = 0;
    return VW_GRPC_OK;
}

int vw_grpc_message_feed(vw_grpc_message *m, const uint8_t *p, size_t n)
{
    while (n > 0 && !m->failed) {
        if (m->prefix_len < VW_GRPC_PREFIX) {
            size_t take = VW_GRPC_PREFIX - m->prefix_len;
            if (take > n) take = n;
            memcpy(m->prefix + m->prefix_len, p, take);
            m->prefix_len += take;
            p += take, n -= take;
            if (m->prefix_len == VW_GRPC_PREFIX && start_message(m) == VW_GRPC_OK &&
                m->wire_left == 0)
                end_message(m);
            continue;
        }
        size_t take = m->wire_left < n ? m->wire_left : n;
        if (m->compressed ? append_inflated(m, p, take) : append_plain(m, p, take)) break;
        m->wire_left -= take;
        p += take, n -= take;
        if (m->wire_left == 0) end_message(m);
    }
    return m->failed;
}

int vw_grpc_message_end(vw_grpc_message *m)
{
    if (m->failed) return m->failed;
    if (m->messages == 0) return fail(m, VW_GRPC_INTERNAL, "no request message");
    if (m->prefix_len > 0) return fail(m, VW_GRPC_INTERNAL, "request message cut off");
    return VW_GRPC_OK;
}
