/*
 * fuzz_otlp_encode.c - the OTLP encoders on spans of every shape the input
 * describes: names, kinds, attributes of every type (empty, long, non-UTF-8,
 * arrays), events, links, status, limits that drop, two resources and three
 * scopes interleaved in one batch.
 *
 * The protobuf encoder sizes every message before writing it, and asserts
 * (this target is built with assertions) that sizes and writes agree. On top
 * of that the output is walked as protobuf: every length-delimited field of
 * a message the encoder nests must fit its parent exactly, and the spans
 * found must be the spans given. The JSON encoder runs on the same batch
 * under the sanitizers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export/otlp.h"
#include "otelc/otelc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SPANS 24

/* ---- Reading the recipe -------------------------------------------------------------- */

typedef struct recipe {
    const uint8_t *p;
    size_t left;
} recipe;

static unsigned take(recipe *r, unsigned mod)
{
    if (r->left == 0) return 0;
    r->left--;
    return *r->p++ % mod;
}

/* A string of up to max bytes from the input, NUL-terminated in out. */
static const char *take_str(recipe *r, char *out, size_t max)
{
    size_t n = take(r, (unsigned)max + 1);
    if (n > r->left) n = r->left;
    memcpy(out, r->p, n);
    out[n] = '\0';
    r->p += n;
    r->left -= n;
    return out;
}

/* ---- Capturing what the providers export ----------------------------------------------- */

static const otelc_span_data *captured[MAX_SPANS];
static size_t ncaptured;

static otelc_export_result capture(void *self, const otelc_span_data *const *spans, size_t n)
{
    (void)self;
    for (size_t i = 0; i < n && ncaptured < MAX_SPANS; i++) {
        otelc_span_data_retain(spans[i]);
        captured[ncaptured++] = spans[i];
    }
    return OTELC_EXPORT_SUCCESS;
}

static const otelc_exporter_ops capture_ops = {.export_spans = capture};

static otelc_provider *provider_with(const char *service, uint32_t attr_limit)
{
    otelc_attr res[] = {OTELC_ATTR_STR("service.name", service)};
    otelc_span_limits lim;
    otelc_span_limits_default(&lim);
    lim.attribute_count = attr_limit;
    lim.attribute_value_length = 40;
    lim.event_count = 3;
    lim.link_count = 2;
    otelc_processor *proc = otelc_simple_processor_new(otelc_exporter_new(&capture_ops, NULL));
    otelc_provider_options o = {
        .no_env = true,
        .resource = otelc_resource_new(res, 1, service[0] == 'a' ? "https://x/1" : NULL),
        .processors = &proc,
        .processor_count = 1,
        .limits = &lim,
    };
    otelc_provider *p = NULL;
    if (otelc_provider_new(&o, &p) != OTELC_OK) abort();
    return p;
}

/* ---- Building spans -------------------------------------------------------------------- */

static otelc_attr take_attr(recipe *r, char *key, char *str, int64_t *ints, const char **strs)
{
    take_str(r, key, 20);
    switch (take(r, 8)) {
    case 0:
        return OTELC_ATTR_STR(key, take_str(r, str, 60));
    case 1:
        return OTELC_ATTR_INT(key, (int64_t)take(r, 256) - 128);
    case 2:
        return OTELC_ATTR_DOUBLE(key, (double)take(r, 256) / 7.0);
    case 3:
        return OTELC_ATTR_BOOL(key, take(r, 2));
    case 4: {
        size_t n = take(r, 4);
        for (size_t i = 0; i < n; i++) ints[i] = (int64_t)take(r, 256) << 40;
        return (otelc_attr){key, {.type = OTELC_VALUE_INT_ARRAY, .u.array = {ints, n}}};
    }
    case 5: {
        size_t n = take(r, 4);
        take_str(r, str, 30);
        for (size_t i = 0; i < n; i++) strs[i] = str + (i < strlen(str) ? i : 0);
        return (otelc_attr){key, {.type = OTELC_VALUE_STRING_ARRAY, .u.array = {strs, n}}};
    }
    case 6:
        return (otelc_attr){key, {.type = OTELC_VALUE_DOUBLE_ARRAY, .u.array = {NULL, 0}}};
    default:
        return OTELC_ATTR_STR(key, "");
    }
}

static void add_attrs(recipe *r, otelc_span *s, unsigned max)
{
    char key[21], str[61];
    int64_t ints[4];
    const char *strs[4];
    for (unsigned n = take(r, max + 1); n > 0; n--) {
        otelc_attr a = take_attr(r, key, str, ints, strs);
        otelc_span_set_attr(s, &a);
    }
}

static void make_span(recipe *r, otelc_tracer *const *tracers, const otelc_span_context *prev)
{
    char name[41], text[41];
    otelc_span_options o = {.kind = (otelc_span_kind)take(r, 6)};
    otelc_attr start[3];
    char keys[3][21], strs[3][61];
    int64_t ints[3][4];
    const char *sarr[3][4];
    o.attr_count = take(r, 4);
    for (size_t i = 0; i < o.attr_count; i++)
        start[i] = take_attr(r, keys[i], strs[i], ints[i], sarr[i]);
    o.attrs = start;
    otelc_span *s = otelc_span_start_with(tracers[take(r, 6)], take_str(r, name, 40), &o);
    add_attrs(r, s, 10);
    for (unsigned e = take(r, 5); e > 0; e--) {
        char key[21], str[61];
        int64_t ia[4];
        const char *sa[4];
        otelc_attr ea = take_attr(r, key, str, ia, sa);
        otelc_span_add_event(s, take_str(r, text, 20), &ea, take(r, 2));
    }
    for (unsigned l = take(r, 4); l > 0 && prev; l--) {
        otelc_span_context sc = *prev;
        sc.trace_flags = (uint8_t)take(r, 256);
        sc.is_remote = take(r, 2);
        otelc_span_add_link(s, &sc, NULL, 0);
    }
    unsigned st = take(r, 3);
    if (st)
        otelc_span_set_status(s, st == 1 ? OTELC_STATUS_OK : OTELC_STATUS_ERROR,
                              take_str(r, text, 40));
    otelc_span_end(s);
}

/* ---- Walking the protobuf output --------------------------------------------------------- */

enum {
    M_NONE,
    M_REQUEST,
    M_RSPANS,
    M_RESOURCE,
    M_SSPANS,
    M_SCOPE,
    M_SPAN,
    M_KV,
    M_ANY,
    M_ARRAY,
    M_EVENT,
    M_LINK,
    M_STATUS,
    M_COUNT
};

/* Which fields of which message are nested messages the encoder writes. */
static int child(int msg, uint64_t field)
{
    switch (msg) {
    case M_REQUEST:
        return field == 1 ? M_RSPANS : M_NONE;
    case M_RSPANS:
        return field == 1 ? M_RESOURCE : field == 2 ? M_SSPANS : M_NONE;
    case M_RESOURCE:
        return field == 1 ? M_KV : M_NONE;
    case M_SSPANS:
        return field == 1 ? M_SCOPE : field == 2 ? M_SPAN : M_NONE;
    case M_SCOPE:
        return field == 3 ? M_KV : M_NONE;
    case M_SPAN:
        return field == 9    ? M_KV
               : field == 11 ? M_EVENT
               : field == 13 ? M_LINK
               : field == 15 ? M_STATUS
                             : M_NONE;
    case M_KV:
        return field == 2 ? M_ANY : M_NONE;
    case M_ANY:
        return field == 5 ? M_ARRAY : field == 6 ? M_KV : M_NONE;
    case M_ARRAY:
        return field == 1 ? M_ANY : M_NONE;
    case M_EVENT:
        return field == 3 ? M_KV : M_NONE;
    case M_LINK:
        return field == 4 ? M_KV : M_NONE;
    default:
        return M_NONE;
    }
}

static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return true;
    }
    return false;
}

/* Walk msg in [p, end); counts the messages of each kind. Exact fit or abort. */
static void walk(const uint8_t *p, const uint8_t *end, int msg, size_t *count, int depth)
{
    if (depth > 16) abort();
    count[msg]++;
    while (p < end) {
        uint64_t key, len;
        if (!varint(&p, end, &key)) abort();
        switch (key & 7) {
        case 0:
            if (!varint(&p, end, &len)) abort();
            break;
        case 1:
            if (end - p < 8) abort();
            p += 8;
            break;
        case 5:
            if (end - p < 4) abort();
            p += 4;
            break;
        case 2:
            if (!varint(&p, end, &len) || len > (uint64_t)(end - p)) abort();
            if (msg == M_SPAN && (key >> 3) == 1 && len != 16) abort(); /* trace_id */
            if (msg == M_SPAN && (key >> 3) == 2 && len != 8) abort();  /* span_id */
            if (child(msg, key >> 3) != M_NONE)
                walk(p, p + len, child(msg, key >> 3), count, depth + 1);
            p += len;
            break;
        default:
            abort(); /* the encoder writes no groups */
        }
    }
    if (p != end) abort();
}

/* ---- The target ----------------------------------------------------------------------- */

/* The same request streamed room bytes at a time (what the exporter sends). */
static void streams_as(const otelc_buf *whole, size_t room)
{
    otelc_proto_stream s;
    uint8_t chunk[301];
    size_t at = 0, k;
    if (otelc__otlp_proto_open(&s, captured, ncaptured) != OTELC_OK) return;
    if (s.total != whole->len) abort();
    while ((k = otelc__otlp_proto_read(&s, chunk, room)) > 0) {
        if (k > room || k > whole->len - at || memcmp(chunk, whole->data + at, k) != 0) abort();
        at += k;
    }
    if (at != whole->len) abort();
    otelc__otlp_proto_close(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static otelc_provider *providers[2];
    static otelc_tracer *tracers[6];
    if (!providers[0]) {
        otelc_log_set_level(OTELC_LOG_NONE);
        providers[0] = provider_with("a-service", 128);
        providers[1] = provider_with("b", 5);
        for (int i = 0; i < 6; i++)
            tracers[i] =
                otelc_provider_tracer(providers[i % 2], i < 2 ? "lib" : "other",
                                      i < 4 ? "1.0" : NULL, i == 5 ? "https://schema" : NULL);
    }
    recipe r = {data, size};
    unsigned n = 1 + take(&r, MAX_SPANS);
    for (unsigned i = 0; i < n; i++) {
        otelc_span_context prev = {{0}, {0}, 0, false, NULL};
        if (ncaptured) prev = captured[ncaptured - 1]->context;
        make_span(&r, tracers, ncaptured ? &prev : NULL);
    }

    otelc_buf out = {0};
    if (otelc__otlp_encode_proto(&out, captured, ncaptured) == OTELC_OK) {
        size_t count[M_COUNT] = {0};
        walk((const uint8_t *)out.data, (const uint8_t *)out.data + out.len, M_REQUEST, count, 0);
        if (count[M_SPAN] != ncaptured) abort();
        if (ncaptured && (count[M_RSPANS] < 1 || count[M_RSPANS] > 2)) abort();
        streams_as(&out, 1 + take(&r, 300));
    }
    otelc__buf_reset(&out);
    otelc__otlp_encode_json(&out, captured, ncaptured);
    otelc__buf_free(&out);

    for (size_t i = 0; i < ncaptured; i++) otelc_span_data_release(captured[i]);
    ncaptured = 0;
    return 0;
}
