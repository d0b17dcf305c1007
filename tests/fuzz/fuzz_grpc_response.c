/*
 * fuzz_grpc_response.c - what a gRPC server sends back, as the HTTP/2
 * client hands it over (header fields one by one, body bytes, a RST_STREAM
 * code), judged by otelc__grpc_outcome: the header capture (grpc-status
 * digits, percent-decoded grpc-message, grpc-status-details-bin and its
 * RetryInfo, retry-after), the statuses made up from HTTP and RST_STREAM,
 * and the partial success in the response message.
 *
 * Beyond not crashing: the captured strings stay terminated inside their
 * arrays, the body within OTELC_HTTP_BODY_MAX, a delay within a day, only
 * status 0 is delivered, and a status is always left in grpc_status.
 *
 * Input: byte 0 picks the HTTP status, byte 1 a RST_STREAM code (0xff for
 * none); then records, each a kind byte: 0 a header (name length byte,
 * name, value length in two bytes, value), 1 body bytes (length in two
 * bytes, bytes), 2 a new header block (what a :status starts). The input
 * running out ends it.
 */
#include <stdlib.h>
#include <string.h>

#include "export/otlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DELAY_MS (24ULL * 3600 * 1000)

static const long http_statuses[] = {200, 200, 200, 400, 401, 403, 404, 429, 500, 502, 503, 504};

/* Take n bytes, or NULL when fewer are left. */
static const uint8_t *take(const uint8_t **p, const uint8_t *end, size_t n)
{
    if ((size_t)(end - *p) < n) return NULL;
    const uint8_t *at = *p;
    *p += n;
    return at;
}

static bool take_len(const uint8_t **p, const uint8_t *end, size_t bytes, size_t *len)
{
    const uint8_t *b = take(p, end, bytes);
    if (!b) return false;
    *len = bytes == 1 ? b[0] : (size_t)b[0] << 8 | b[1];
    return true;
}

/* One record; false at the end of the input. */
static bool feed(otelc_http_response *r, const uint8_t **p, const uint8_t *end)
{
    const uint8_t *kind = take(p, end, 1);
    size_t nlen, vlen;
    const uint8_t *name, *value;
    if (!kind) return false;
    switch (kind[0] % 3) {
    case 0:
        if (!take_len(p, end, 1, &nlen) || !(name = take(p, end, nlen)) ||
            !take_len(p, end, 2, &vlen) || !(value = take(p, end, vlen)))
            return false;
        otelc__http_capture_header(r, (const char *)name, nlen, (const char *)value, vlen);
        return true;
    case 1:
        if (!take_len(p, end, 2, &vlen) || !(value = take(p, end, vlen))) return false;
        otelc__http_capture_body(r, value, vlen);
        return true;
    default:
        otelc__http_response_restart(r);
        return true;
    }
}

static void check_terminated(const char *s, size_t cap)
{
    if (strnlen(s, cap) == cap) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    otelc_http_response r;
    memset(&r, 0, sizeof r);
    otelc__http_response_reset(&r);
    r.status = http_statuses[data[0] % (sizeof http_statuses / sizeof http_statuses[0])];
    if (data[1] != 0xff) r.h2_reset = data[1];
    const uint8_t *p = data + 2, *end = data + size;
    while (feed(&r, &p, end)) continue;
    if (r.body.len > OTELC_HTTP_BODY_MAX) abort();

    otelc_otlp_response parsed;
    memset(&parsed, 0, sizeof parsed);
    otelc_attempt a = otelc__grpc_outcome(&r, &parsed);
    check_terminated(r.grpc_message, sizeof r.grpc_message);
    check_terminated(r.retry_after, sizeof r.retry_after);
    check_terminated(r.status_details, sizeof r.status_details);
    check_terminated(parsed.error_message, sizeof parsed.error_message);
    if (r.grpc_status < 0) abort();
    if (a.verdict == OTELC_RETRY_DONE && r.grpc_status != 0) abort();
    if (a.has_delay && a.delay_ms > MAX_DELAY_MS) abort();
    otelc__http_response_free(&r);
    return 0;
}
