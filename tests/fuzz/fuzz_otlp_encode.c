/*
 * fuzz_otlp_encode.c - the OTLP encoders on spans of every shape the input
 * describes: names, kinds, attributes of every type (empty, long, non-UTF-8,
 * arrays, bytes, the empty value, arrays of any values and maps nested to
 * past OTELC_MAX_VALUE_DEPTH, with repeated, missing keys and unknown
 * types inside), events, links, status, limits that drop, two resources and
 * three scopes interleaved in one batch, and one span built by hand (as the
 * viewer's decoders build them) whose values were never copied and whose
 * scope has attributes.
 *
 * The protobuf encoder sizes every message before writing it, and asserts
 * (this target is built with assertions) that sizes and writes agree. On top
 * of that the output is walked as protobuf: every length-delimited field of
 * a message the encoder nests must fit its parent exactly, the spans found
 * must be the spans given, and each span, resource and scope the
 * single-message encoders write must be one found in the request. The JSON,
 * Zipkin and plain JSON encoders run on the same batch under the
 * sanitizers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export/otlp.h"
#include "export/zipkin.h"
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

/* ---- Values of any kind ------------------------------------------------------------------ */

/* Storage for the nested values one input builds; when it runs out, leaves are empty. */
static struct pool {
    otelc_value values[512];
    otelc_attr attrs[512];
    char text[8192];
    size_t nvalues, nattrs, ntext;
} pool;

/* Up to max bytes of the input (any bytes: NUL, invalid UTF-8), kept in the pool. */
static const char *pool_bytes(recipe *r, size_t max, size_t *len)
{
    size_t n = take(r, (unsigned)max + 1);
    if (n > r->left) n = r->left;
    if (n + 1 > sizeof(pool.text) - pool.ntext) n = 0;
    char *out = pool.text + pool.ntext;
    if (n) memcpy(out, r->p, n);
    out[n] = '\0';
    pool.ntext += n + 1;
    r->p += n;
    r->left -= n;
    *len = n;
    return out;
}

/* A short key, so that keys repeat; sometimes none at all. */
static const char *pool_key(recipe *r)
{
    size_t len;
    if (take(r, 16) == 0) return NULL;
    const char *k = pool_bytes(r, 3, &len);
    return strlen(k) == len ? k : "";
}

static otelc_value take_value(recipe *r, int depth);

/* A one-item array or map around another, levels deep: past the nesting bound cheaply. */
static otelc_value take_chain(recipe *r, int depth)
{
    otelc_value_type kind = take(r, 2) ? OTELC_VALUE_MAP : OTELC_VALUE_ARRAY;
    unsigned levels = take(r, OTELC_MAX_VALUE_DEPTH + 8);
    otelc_value v = take_value(r, depth + 1);
    for (; levels > 0 && pool.nvalues < 512 && pool.nattrs < 512; levels--) {
        if (kind == OTELC_VALUE_MAP) {
            pool.attrs[pool.nattrs] = (otelc_attr){"m", v};
            v = (otelc_value){.type = kind, .u.array = {&pool.attrs[pool.nattrs++], 1}};
        } else {
            pool.values[pool.nvalues] = v;
            v = (otelc_value){.type = kind, .u.array = {&pool.values[pool.nvalues++], 1}};
        }
    }
    return v;
}

/* count values (an array) or entries (a map) from the pool. */
static otelc_value take_list(recipe *r, otelc_value_type kind, int depth)
{
    size_t n = take(r, 5);
    otelc_value v = {.type = kind};
    if (kind == OTELC_VALUE_MAP) {
        if (n > 512 - pool.nattrs) n = 0;
        otelc_attr *items = &pool.attrs[pool.nattrs];
        pool.nattrs += n;
        for (size_t i = 0; i < n; i++) {
            items[i].key = pool_key(r);
            items[i].value = take_value(r, depth + 1);
        }
        v.u.array.items = items;
    } else {
        if (n > 512 - pool.nvalues) n = 0;
        otelc_value *items = &pool.values[pool.nvalues];
        pool.nvalues += n;
        for (size_t i = 0; i < n; i++) items[i] = take_value(r, depth + 1);
        v.u.array.items = items;
    }
    v.u.array.count = n;
    return v;
}

static otelc_value take_value(recipe *r, int depth)
{
    static const int64_t ints[] = {0, -1, INT64_MIN, INT64_MAX};
    static const char *const strs[] = {"a", "", "\xff\xfe"};
    otelc_value v = {.type = OTELC_VALUE_EMPTY};
    if (depth > 2 * OTELC_MAX_VALUE_DEPTH) return v;
    switch (take(r, 12)) {
    case 0:
        v.type = OTELC_VALUE_STRING;
        v.u.str.ptr = pool_bytes(r, 50, &v.u.str.len);
        return v;
    case 1:
        v.type = OTELC_VALUE_BYTES;
        v.u.str.ptr = pool_bytes(r, 50, &v.u.str.len);
        return v;
    case 2:
        return (otelc_value){.type = OTELC_VALUE_INT, .u.i = (int64_t)take(r, 256) << 55};
    case 3:
        return (otelc_value){.type = OTELC_VALUE_DOUBLE, .u.d = (double)take(r, 256) / 3.0};
    case 4:
        return (otelc_value){.type = OTELC_VALUE_BOOL, .u.b = take(r, 2)};
    case 5:
    case 6:
        return take_list(r, OTELC_VALUE_ARRAY, depth);
    case 7:
    case 8:
        return take_list(r, OTELC_VALUE_MAP, depth);
    case 9:
        return take_chain(r, depth);
    case 10:
        if (take(r, 2))
            return (otelc_value){.type = OTELC_VALUE_INT_ARRAY, .u.array = {ints, take(r, 5)}};
        return (otelc_value){.type = OTELC_VALUE_STRING_ARRAY, .u.array = {strs, take(r, 4)}};
    case 11:
        return (otelc_value){.type = (otelc_value_type)(13 + take(r, 3))}; /* unknown */
    default:
        return v;
    }
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
    switch (take(r, 9)) {
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
    case 7:
        return (otelc_attr){key, take_value(r, 0)};
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

/* Where the request's spans, resources and scopes are: the single-message encoders' reference. */
#define MAX_FOUND (MAX_SPANS + 1)
static struct found {
    const uint8_t *p;
    size_t n;
} found[M_COUNT][MAX_FOUND];

/* Walk msg in [p, end); counts the messages of each kind. Exact fit or abort. */
static void walk(const uint8_t *p, const uint8_t *end, int msg, size_t *count, int depth)
{
    if (count[msg] < MAX_FOUND) found[msg][count[msg]] = (struct found){p, (size_t)(end - p)};
    if (depth > 16 + 3 * OTELC_MAX_VALUE_DEPTH) abort(); /* nesting is bounded */
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

/* A span built by hand, its values as the input gives them (never copied), with scope attributes.
 */
static otelc_span_data raw_span;
static otelc_scope_info raw_scope;

static void make_raw_span(recipe *r, const otelc_resource *res)
{
    static otelc_attr attrs[6], scope_attrs[3];
    /* Keys of a collection are strings (only keys inside maps may be missing). */
    for (size_t i = 0; i < 6; i++) attrs[i] = (otelc_attr){"k", take_value(r, 0)};
    for (size_t i = 0; i < 3; i++) scope_attrs[i] = (otelc_attr){"s", take_value(r, 0)};
    attrs[take(r, 6)].key = "other";
    raw_scope = (otelc_scope_info){.name = "raw",
                                   .attrs = scope_attrs,
                                   .attr_count = take(r, 4),
                                   .dropped_attr_count = take(r, 3)};
    raw_span = (otelc_span_data){.kind = OTELC_SPAN_SERVER,
                                 .name = "raw",
                                 .attrs = attrs,
                                 .attr_count = take(r, 7),
                                 .scope = &raw_scope,
                                 .resource = res};
    memset(raw_span.context.trace_id, 1, 16);
    memset(raw_span.context.span_id, 2, 8);
}

/* Bytes the single-message encoder wrote must be one of the messages of that kind found. */
static void assert_found(const otelc_buf *one, int kind, size_t count)
{
    if (count > MAX_FOUND) count = MAX_FOUND;
    for (size_t i = 0; i < count; i++)
        if (found[kind][i].n == one->len &&
            (one->len == 0 || memcmp(found[kind][i].p, one->data, one->len) == 0))
            return;
    abort();
}

/* Each span, resource and scope encoded alone is what the request holds for it. */
static void check_single_messages(const otelc_span_data *const *spans, size_t n,
                                  const size_t *count)
{
    otelc_buf one = {0};
    for (size_t i = 0; i < n; i++) {
        otelc__buf_reset(&one);
        if (otelc__otlp_encode_span(&one, spans[i]) == OTELC_OK)
            assert_found(&one, M_SPAN, count[M_SPAN]);
        otelc__buf_reset(&one);
        if (spans[i]->resource && otelc__otlp_encode_resource(&one, spans[i]->resource) == OTELC_OK)
            assert_found(&one, M_RESOURCE, count[M_RESOURCE]);
        otelc__buf_reset(&one);
        if (spans[i]->scope && otelc__otlp_encode_scope(&one, spans[i]->scope) == OTELC_OK)
            assert_found(&one, M_SCOPE, count[M_SCOPE]);
    }
    otelc__buf_free(&one);
}

/* The other writers of values, under the sanitizers: OTLP JSON, Zipkin, plain JSON. */
static void other_encoders(const otelc_span_data *const *spans, size_t n)
{
    otelc_buf out = {0};
    otelc__otlp_encode_json(&out, spans, n);
    otelc__buf_reset(&out);
    otelc__zipkin_encode(&out, spans, n, "fuzz");
    for (size_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < spans[i]->attr_count; k++) {
            otelc__buf_reset(&out);
            otelc__buf_json_value(&out, &spans[i]->attrs[k].value);
        }
    otelc__buf_free(&out);
}

/* ---- The target ----------------------------------------------------------------------- */

/* True when the request streamed room bytes at a time (what the exporter sends) differs. */
static bool stream_differs(const otelc_buf *whole, const otelc_span_data *const *spans, size_t n,
                           size_t room)
{
    otelc_proto_stream s;
    uint8_t chunk[301];
    size_t at = 0, k;
    if (otelc__otlp_proto_open(&s, spans, n) != OTELC_OK) return false;
    if (s.total != whole->len) return true;
    while ((k = otelc__otlp_proto_read(&s, chunk, room)) > 0) {
        if (k > room || k > whole->len - at || memcmp(chunk, whole->data + at, k) != 0) return true;
        at += k;
    }
    otelc__otlp_proto_close(&s);
    return at != whole->len;
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
    memset(&pool, 0, sizeof(pool));
    unsigned n = 1 + take(&r, MAX_SPANS);
    for (unsigned i = 0; i < n; i++) {
        otelc_span_context prev = {{0}, {0}, 0, false, NULL};
        if (ncaptured) prev = captured[ncaptured - 1]->context;
        make_span(&r, tracers, ncaptured ? &prev : NULL);
    }
    const otelc_span_data *batch[MAX_SPANS + 1];
    size_t nbatch = ncaptured;
    memcpy(batch, captured, ncaptured * sizeof(batch[0]));
    if (take(&r, 2)) {
        make_raw_span(&r, ncaptured ? captured[0]->resource : NULL);
        batch[nbatch++] = &raw_span;
    }

    otelc_buf out = {0};
    if (otelc__otlp_encode_proto(&out, batch, nbatch) == OTELC_OK) {
        size_t count[M_COUNT] = {0};
        walk((const uint8_t *)out.data, (const uint8_t *)out.data + out.len, M_REQUEST, count, 0);
        if (count[M_SPAN] != nbatch) abort();
        if (ncaptured && (count[M_RSPANS] < 1 || count[M_RSPANS] > 2)) abort();
        check_single_messages(batch, nbatch, count);
        if (stream_differs(&out, batch, nbatch, 1 + take(&r, 300))) abort();
    }
    otelc__buf_free(&out);
    other_encoders(batch, nbatch);

    for (size_t i = 0; i < ncaptured; i++) otelc_span_data_release(captured[i]);
    ncaptured = 0;
    return 0;
}
