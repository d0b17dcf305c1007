/*
 * buf.c - the growable byte buffer shared by the console exporter, the OTLP
 * encoders and the HTTP transport.
 *
 * The bytes are always followed by a NUL (when anything was allocated), so
 * text built here can be used as a C string without another copy. An
 * allocation failure is sticky: later appends do nothing, and the caller
 * checks failed once when it is done.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/otlp.h"

#define BUF_MIN_CAP 256

bool otelc__buf_reserve(otelc_buf *b, size_t extra)
{
    if (b->failed) return false;
    if (extra < b->cap - b->len) return true; /* room for extra and the NUL */
    if (extra > SIZE_MAX / 2 - b->len) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    size_t cap = b->cap ? b->cap : BUF_MIN_CAP;
    while (cap < need) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void otelc__buf_append(otelc_buf *b, const void *p, size_t n)
{
    if (!otelc__buf_reserve(b, n)) return;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void otelc__buf_puts(otelc_buf *b, const char *s)
{
    otelc__buf_append(b, s, strlen(s));
}

void otelc__buf_printf(otelc_buf *b, const char *fmt, ...)
{
    va_list ap;
    /* Most output is short: try the free space first, grow only when it did not fit. */
    size_t room = b->cap > b->len ? b->cap - b->len : 0;
    va_start(ap, fmt);
    int n = b->failed || !room ? -1 : vsnprintf(b->data + b->len, room, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < room) {
        b->len += (size_t)n;
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !otelc__buf_reserve(b, (size_t)n)) {
        if (room) b->data[b->len] = '\0'; /* undo the partial first attempt */
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void otelc__buf_hex(otelc_buf *b, const uint8_t *p, size_t n)
{
    if (!otelc__buf_reserve(b, 2 * n)) return;
    otelc__hex_encode(p, n, b->data + b->len);
    b->len += 2 * n;
    b->data[b->len] = '\0';
}

/* ---- JSON strings ------------------------------------------------------------------ */

/* Bytes that may be copied as they are: printable ASCII except '"' and '\\'. */
static bool json_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* The escape of an ASCII byte that is not plain, into out; returns its length. */
static size_t json_escape(unsigned char c, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const char *short_form = NULL;
    switch (c) {
    case '"':
        short_form = "\\\"";
        break;
    case '\\':
        short_form = "\\\\";
        break;
    case '\n':
        short_form = "\\n";
        break;
    case '\r':
        short_form = "\\r";
        break;
    case '\t':
        short_form = "\\t";
        break;
    case '\b':
        short_form = "\\b";
        break;
    case '\f':
        short_form = "\\f";
        break;
    default:
        break;
    }
    if (short_form) {
        memcpy(out, short_form, 2);
        return 2;
    }
    memcpy(out, "\\u00", 4);
    out[4] = hex[c >> 4];
    out[5] = hex[c & 15];
    return 6;
}

/*
 * Copy runs of plain bytes in one go: attribute keys and values are almost
 * always plain ASCII, and this loop is on the JSON encoder's hot path. The
 * worst case output is 6 bytes per input byte ("\u00XX"), reserved up front
 * so the loop itself never checks for room.
 */
void otelc__buf_json_str(otelc_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    if (!s) n = 0;
    if (n > (SIZE_MAX - 2) / 6 || !otelc__buf_reserve(b, 6 * n + 2)) {
        b->failed = true;
        return;
    }
    char *o = b->data + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n;) {
        size_t run = i;
        while (run < n && json_plain(u[run])) run++;
        memcpy(o, s + i, run - i);
        o += run - i;
        i = run;
        if (i == n) break;
        if (u[i] < 0x80) {
            o += json_escape(u[i++], o);
            continue;
        }
        size_t len = otelc__utf8_seq_len(u + i, n - i);
        if (len) {
            memcpy(o, s + i, len);
            o += len;
            i += len;
        } else {
            memcpy(o, "\\ufffd", 6); /* one replacement per bad byte */
            o += 6;
            i++;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
}

void otelc__buf_json_double(otelc_buf *b, double d)
{
    char tmp[32];
    if (!isfinite(d)) {
        otelc__buf_puts(b, isnan(d) ? "\"NaN\"" : d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    /* %.15g is exact for most values people write; %.17g always round-trips. */
    snprintf(tmp, sizeof(tmp), "%.15g", d);
    if (strtod(tmp, NULL) != d) snprintf(tmp, sizeof(tmp), "%.17g", d);
    /* printf follows the host program's LC_NUMERIC; JSON wants a point. */
    for (char *c = tmp; *c; c++)
        if (*c == ',') *c = '.';
    otelc__buf_puts(b, tmp);
}

void otelc__buf_reset(otelc_buf *b)
{
    b->len = 0;
    b->failed = false;
    if (b->data) b->data[0] = '\0';
}

void otelc__buf_free(otelc_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

void otelc__buf_base64(otelc_buf *b, const void *p, size_t n)
{
    static const char digit[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *in = p;
    if (n / 3 >= SIZE_MAX / 8 || !otelc__buf_reserve(b, (n + 2) / 3 * 4)) {
        b->failed = true;
        return;
    }
    char *o = b->data + b->len;
    size_t i = 0;
    for (; n - i >= 3; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = digit[v >> 18], *o++ = digit[v >> 12 & 63];
        *o++ = digit[v >> 6 & 63], *o++ = digit[v & 63];
    }
    if (i < n) { /* one or two bytes left: two or three digits and padding */
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        *o++ = digit[v >> 18], *o++ = digit[v >> 12 & 63];
        *o++ = i + 1 < n ? digit[v >> 6 & 63] : '=';
        *o++ = '=';
    }
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
}

static void json_item(otelc_buf *b, otelc_value_type t, const void *items, size_t i)
{
    switch (t) {
    case OTELC_VALUE_STRING_ARRAY: {
        const char *s = ((const char *const *)items)[i];
        otelc__buf_json_str(b, s, s ? strlen(s) : 0);
        break;
    }
    case OTELC_VALUE_BOOL_ARRAY:
        otelc__buf_puts(b, ((const bool *)items)[i] ? "true" : "false");
        break;
    case OTELC_VALUE_INT_ARRAY:
        otelc__buf_printf(b, "%" PRId64, ((const int64_t *)items)[i]);
        break;
    default:
        otelc__buf_json_double(b, ((const double *)items)[i]);
        break;
    }
}

static void json_value_at(otelc_buf *b, const otelc_value *v, unsigned level);

/* An array of any values, or a map as an object; level: how many hold it. */
static void json_nested(otelc_buf *b, const otelc_value *v, unsigned level)
{
    bool map = v->type == OTELC_VALUE_MAP;
    otelc__buf_append(b, map ? "{" : "[", 1);
    for (size_t i = 0; i < v->u.array.count; i++) {
        if (i) otelc__buf_append(b, ",", 1);
        if (map) {
            const otelc_attr *a = &((const otelc_attr *)v->u.array.items)[i];
            otelc__buf_json_str(b, a->key, a->key ? strlen(a->key) : 0);
            otelc__buf_append(b, ":", 1);
            json_value_at(b, &a->value, level + 1);
        } else {
            json_value_at(b, &((const otelc_value *)v->u.array.items)[i], level + 1);
        }
    }
    otelc__buf_append(b, map ? "}" : "]", 1);
}

/* The kinds instrumentation does not set: bytes, arrays of any values, maps, empty. */
static void json_other(otelc_buf *b, const otelc_value *v, unsigned level)
{
    switch (v->type) {
    case OTELC_VALUE_BYTES:
        otelc__buf_append(b, "\"", 1);
        otelc__buf_base64(b, v->u.str.ptr, v->u.str.ptr ? v->u.str.len : 0);
        otelc__buf_append(b, "\"", 1);
        return;
    case OTELC_VALUE_ARRAY:
    case OTELC_VALUE_MAP:
        if (level < OTELC_MAX_VALUE_DEPTH) {
            json_nested(b, v, level);
            return;
        }
        break;
    default:
        break;
    }
    otelc__buf_puts(b, "null"); /* the empty value, and what cannot be written */
}

static void json_value_at(otelc_buf *b, const otelc_value *v, unsigned level)
{
    switch (v->type) {
    case OTELC_VALUE_STRING:
        otelc__buf_json_str(b, v->u.str.ptr, v->u.str.len);
        return;
    case OTELC_VALUE_BOOL:
        otelc__buf_puts(b, v->u.b ? "true" : "false");
        return;
    case OTELC_VALUE_INT:
        otelc__buf_printf(b, "%" PRId64, v->u.i);
        return;
    case OTELC_VALUE_DOUBLE:
        otelc__buf_json_double(b, v->u.d);
        return;
    case OTELC_VALUE_STRING_ARRAY:
    case OTELC_VALUE_BOOL_ARRAY:
    case OTELC_VALUE_INT_ARRAY:
    case OTELC_VALUE_DOUBLE_ARRAY:
        if (level < OTELC_MAX_VALUE_DEPTH) break;
        otelc__buf_puts(b, "null"); /* too deep */
        return;
    default:
        json_other(b, v, level);
        return;
    }
    otelc__buf_append(b, "[", 1);
    for (size_t i = 0; i < v->u.array.count; i++) {
        if (i) otelc__buf_append(b, ",", 1);
        json_item(b, v->type, v->u.array.items, i);
    }
    otelc__buf_append(b, "]", 1);
}

void otelc__buf_json_value(otelc_buf *b, const otelc_value *v)
{
    json_value_at(b, v, 0);
}
