/*
 * otlp_reply.c - ExportTraceServiceResponse and google.rpc.Status
 * (otlp_reply.h). Each message's size is worked out before it is written,
 * as protobuf puts a message's length before its body; the messages are
 * small and fixed in shape, so the sizes are a few sums.
 *
 * Field numbers: opentelemetry-proto collector/trace/v1 (response),
 * googleapis google/rpc/status.proto (Status: code 1, message 2, details
 * 3), error_details.proto (BadRequest: field_violations 1; FieldViolation:
 * field 1, description 2; RetryInfo: retry_delay 1), and
 * google/protobuf any.proto (type_url 1, value 2) and duration.proto
 * (seconds 1, nanos 2).
 */
#include <string.h>

#include "export/protobuf.h"
#include "otlp_reply.h"

#define TYPE_BAD_REQUEST "type.googleapis.com/google.rpc.BadRequest"
#define TYPE_RETRY_INFO  "type.googleapis.com/google.rpc.RetryInfo"

/* Every field here has a number below 16: its key is one byte. */
static uint8_t key(uint32_t field, otelc_pb_wire wt)
{
    return (uint8_t)(field << 3 | wt);
}

static size_t str_len(const char *s)
{
    return s ? strlen(s) : 0;
}

/* The size of a length-delimited field holding n bytes. */
static size_t len_size(size_t n)
{
    return 1 + otelc__pb_varint_size(n) + n;
}

/* The size of a varint field, absent (0) when it holds its default, 0. */
static size_t varint_size(uint64_t v)
{
    return v ? 1 + otelc__pb_varint_size(v) : 0;
}

/* The size of a string field, absent when empty. */
static size_t str_size(const char *s)
{
    size_t n = str_len(s);
    return n ? len_size(n) : 0;
}

static void put_varint(otelc_buf *out, uint64_t v)
{
    uint8_t tmp[10];
    otelc__buf_append(out, tmp, (size_t)(otelc__pb_put_varint(tmp, v) - tmp));
}

static void put_varint_field(otelc_buf *out, uint32_t field, uint64_t v)
{
    if (!v) return;
    uint8_t k = key(field, OTELC_PB_VARINT);
    otelc__buf_append(out, &k, 1);
    put_varint(out, v);
}

/* The key and length of a length-delimited field whose n bytes follow. */
static void put_len(otelc_buf *out, uint32_t field, size_t n)
{
    uint8_t k = key(field, OTELC_PB_LEN);
    otelc__buf_append(out, &k, 1);
    put_varint(out, n);
}

static void put_str(otelc_buf *out, uint32_t field, const char *s)
{
    size_t n = str_len(s);
    if (!n) return;
    put_len(out, field, n);
    otelc__buf_append(out, s, n);
}

static int outcome(const otelc_buf *out)
{
    return out->failed ? OTELC_ERR_NOMEM : OTELC_OK;
}

int vw_reply_export(otelc_buf *out, uint64_t rejected, const char *message)
{
    /* ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; } */
    size_t partial = varint_size(rejected) + str_size(message);
    if (partial) {
        put_len(out, 1, partial); /* ExportTraceServiceResponse.partial_success */
        put_varint_field(out, 1, rejected);
        put_str(out, 2, message);
    }
    return outcome(out);
}

/* ---- google.rpc.Status -------------------------------------------------------------------- */

/* A google.protobuf.Any holding a message of body bytes. */
static size_t any_size(const char *type_url, size_t body)
{
    return str_size(type_url) + len_size(body);
}

static void put_any_head(otelc_buf *out, const char *type_url, size_t body)
{
    put_len(out, 3, any_size(type_url, body)); /* Status.details */
    put_str(out, 1, type_url);
    put_len(out, 2, body);
}

/* BadRequest { FieldViolation field_violations = 1 { field = 1; description = 2; } } */
static size_t violation_size(const vw_rpc_status *st)
{
    return str_size(st->bad_field) + str_size(st->bad_description);
}

static void put_bad_request(otelc_buf *out, const vw_rpc_status *st)
{
    size_t violation = violation_size(st);
    put_any_head(out, TYPE_BAD_REQUEST, len_size(violation));
    put_len(out, 1, violation);
    put_str(out, 1, st->bad_field);
    put_str(out, 2, st->bad_description);
}

/* RetryInfo { Duration retry_delay = 1 { int64 seconds = 1; int32 nanos = 2; } } */
static void put_retry_info(otelc_buf *out, uint64_t delay_ms)
{
    uint64_t seconds = delay_ms / 1000, nanos = delay_ms % 1000 * 1000000;
    size_t duration = varint_size(seconds) + varint_size(nanos);
    put_any_head(out, TYPE_RETRY_INFO, len_size(duration));
    put_len(out, 1, duration);
    put_varint_field(out, 1, seconds);
    put_varint_field(out, 2, nanos);
}

int vw_reply_status(otelc_buf *out, const vw_rpc_status *st)
{
    /* An int32 is written as a 64-bit varint: a negative code takes ten bytes. */
    put_varint_field(out, 1, (uint64_t)(int64_t)st->code);
    put_str(out, 2, st->message);
    if (st->bad_field || st->bad_description) put_bad_request(out, st);
    if (st->retry) put_retry_info(out, st->retry_delay_ms);
    return outcome(out);
}

/* ---- google.rpc.Status as JSON ------------------------------------------------------------ */

static void json_member(otelc_buf *out, bool *first, const char *name)
{
    otelc__buf_puts(out, *first ? "{\"" : ",\"");
    otelc__buf_puts(out, name);
    otelc__buf_puts(out, "\":");
    *first = false;
}

static void json_str_member(otelc_buf *out, bool *first, const char *name, const char *s)
{
    if (!s || !*s) return;
    json_member(out, first, name);
    otelc__buf_json_str(out, s, strlen(s));
}

static void json_bad_request(otelc_buf *out, const vw_rpc_status *st)
{
    otelc__buf_puts(out, "{\"@type\":\"" TYPE_BAD_REQUEST "\",\"fieldViolations\":[");
    bool first = true;
    json_str_member(out, &first, "field", st->bad_field);
    json_str_member(out, &first, "description", st->bad_description);
    otelc__buf_puts(out, first ? "{}]}" : "}]}");
}

/* A google.protobuf.Duration in JSON: seconds with 0, 3, 6 or 9 fractional digits, then "s". */
static void json_retry_info(otelc_buf *out, uint64_t delay_ms)
{
    otelc__buf_printf(out, "{\"@type\":\"" TYPE_RETRY_INFO "\",\"retryDelay\":\"%llu",
                      (unsigned long long)(delay_ms / 1000));
    if (delay_ms % 1000) otelc__buf_printf(out, ".%03u", (unsigned)(delay_ms % 1000));
    otelc__buf_puts(out, "s\"}");
}

int vw_reply_status_json(otelc_buf *out, const vw_rpc_status *st)
{
    bool first = true;
    if (st->code) {
        json_member(out, &first, "code");
        otelc__buf_printf(out, "%d", (int)st->code);
    }
    json_str_member(out, &first, "message", st->message);
    bool bad = st->bad_field || st->bad_description;
    if (bad || st->retry) {
        json_member(out, &first, "details");
        otelc__buf_puts(out, "[");
        if (bad) json_bad_request(out, st);
        if (bad && st->retry) otelc__buf_puts(out, ",");
        if (st->retry) json_retry_info(out, st->retry_delay_ms);
        otelc__buf_puts(out, "]");
    }
    otelc__buf_puts(out, first ? "{}" : "}");
    return outcome(out);
}
