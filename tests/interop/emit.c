/*
 * emit.c - the C side of the interop tests: creates a fixed set of spans
 * through the public API only, exports them with the exporter under test,
 * and writes what it created to a JSON file for the Node comparers.
 *
 *   interop_emit --protocol http/protobuf|http/json|grpc|zipkin --endpoint URL
 *                --expect FILE [--gzip] [--headers "k=v,..."] [--simple]
 *
 * --simple exports each span as it ends (one request per span) instead of
 * batching all five into one request.
 *
 * The expectation is written from this program's own literals (and the ids
 * the SDK generated), never from an encoder's output, so the comparison is
 * between what the program asked for and what an official decoder saw.
 * Values changed by the span limits (truncated strings, dropped entries)
 * are stated explicitly as the specification says they must come out.
 *
 * Every timestamp has a sub-microsecond part below 500 ns, and each end
 * time's part is at least its start's, so Zipkin's whole microseconds are
 * the same whether an implementation truncates or rounds.
 *
 * Exit status 0 when every span was accepted by the exporter.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <otelc/otelc.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Fixed inputs ---------------------------------------------------------- */

#define RESOURCE_SCHEMA "https://opentelemetry.io/schemas/1.24.0"
#define ALPHA_NAME      "interop.alpha"
#define ALPHA_VERSION   "1.2.3"
#define ALPHA_SCHEMA    "https://opentelemetry.io/schemas/1.21.0"
#define BETA_NAME       "interop.beta"
#define BETA_VERSION    "0.9.0-rc.1"
#define BETA_SCHEMA     "https://example.com/schemas/beta/2"

/* The remote caller of the server span (as if extracted from traceparent). */
#define REMOTE_TRACE_ID   "4bf92f3577b34da6a3ce929d0e0e4736"
#define REMOTE_SPAN_ID    "00f067aa0ba902b7"
#define REMOTE_TRACESTATE "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"

/* Link targets in other traces. */
#define LINK1_TRACE_ID   "0af7651916cd43dd8448eb211c80319c"
#define LINK1_SPAN_ID    "b7ad6b7169203331"
#define LINK1_TRACESTATE "vendor=abc,other=x:y"
#define LINK2_TRACE_ID   "5b8efff798038103d269b633813fc60c"
#define LINK2_SPAN_ID    "eee19b7ec3c1b174"
#define LINK3_TRACE_ID   "11111111111111111111111111111111"
#define LINK3_SPAN_ID    "2222222222222222"

/* Limits small enough that the server span exceeds each of them. */
static const otelc_span_limits LIMITS = {
    .attribute_count = 17,
    .attribute_value_length = 24,
    .event_count = 3,
    .link_count = 2,
    .event_attribute_count = 3,
    .link_attribute_count = 2,
};

/* ---- Hex ids --------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static void unhex(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
}

static otelc_span_context make_context(const char *trace_hex, const char *span_hex,
                                       const char *trace_state, bool remote)
{
    otelc_span_context sc = {
        .trace_flags = OTELC_TRACE_FLAG_SAMPLED, .is_remote = remote, .trace_state = trace_state};
    unhex(trace_hex, sc.trace_id, 16);
    unhex(span_hex, sc.span_id, 8);
    return sc;
}

/* ---- JSON output of the expectation --------------------------------------- */

static FILE *out;

static void put_str(const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out); /* UTF-8 passes through: JSON text is UTF-8 */
    }
    fputc('"', out);
}

/*
 * A double that JSON.parse reads back bit for bit (17 significant digits,
 * "-0" for negative zero); JSON has no NaN or infinities, so those take the
 * protobuf JSON mapping's strings, as the comparers' canonical form does.
 */
static void put_double(double d)
{
    if (isnan(d))
        fputs("\"NaN\"", out);
    else if (isinf(d))
        fputs(d > 0 ? "\"Infinity\"" : "\"-Infinity\"", out);
    else
        fprintf(out, "%.17g", d);
}

static void put_attrs(const otelc_attr *attrs, size_t n);

/*
 * A typed value in the comparers' canonical form: {"int":"..."} and so on,
 * {"bytes":"hex"}, {"array":[values]}, {"kvlist":{key: value}} and
 * {"empty":true} for the AnyValue kinds beyond the primitive ones.
 */
static void put_value(const otelc_value *v)
{
    size_t n = v->u.array.count;
    switch (v->type) {
    case OTELC_VALUE_STRING:
        fputs("{\"string\":", out);
        put_str(v->u.str.ptr);
        break;
    case OTELC_VALUE_BOOL:
        fprintf(out, "{\"bool\":%s", v->u.b ? "true" : "false");
        break;
    case OTELC_VALUE_INT:
        fprintf(out, "{\"int\":\"%" PRId64 "\"", v->u.i);
        break;
    case OTELC_VALUE_DOUBLE:
        fputs("{\"double\":", out);
        put_double(v->u.d);
        break;
    case OTELC_VALUE_STRING_ARRAY:
        fputs("{\"array\":[", out);
        for (size_t i = 0; i < n; i++) {
            fputs(i ? ",{\"string\":" : "{\"string\":", out);
            put_str(((const char *const *)v->u.array.items)[i]);
            fputc('}', out);
        }
        fputc(']', out);
        break;
    case OTELC_VALUE_BOOL_ARRAY:
        fputs("{\"array\":[", out);
        for (size_t i = 0; i < n; i++)
            fprintf(out, "%s{\"bool\":%s}", i ? "," : "",
                    ((const bool *)v->u.array.items)[i] ? "true" : "false");
        fputc(']', out);
        break;
    case OTELC_VALUE_INT_ARRAY:
        fputs("{\"array\":[", out);
        for (size_t i = 0; i < n; i++)
            fprintf(out, "%s{\"int\":\"%" PRId64 "\"}", i ? "," : "",
                    ((const int64_t *)v->u.array.items)[i]);
        fputc(']', out);
        break;
    case OTELC_VALUE_DOUBLE_ARRAY:
        fputs("{\"array\":[", out);
        for (size_t i = 0; i < n; i++) {
            fputs(i ? ",{\"double\":" : "{\"double\":", out);
            put_double(((const double *)v->u.array.items)[i]);
            fputc('}', out);
        }
        fputc(']', out);
        break;
    case OTELC_VALUE_BYTES:
        fputs("{\"bytes\":\"", out);
        for (size_t i = 0; i < v->u.str.len; i++)
            fprintf(out, "%02x", (unsigned char)v->u.str.ptr[i]);
        fputc('"', out);
        break;
    case OTELC_VALUE_ARRAY:
        fputs("{\"array\":[", out);
        for (size_t i = 0; i < n; i++) {
            if (i) fputc(',', out);
            put_value(&((const otelc_value *)v->u.array.items)[i]);
        }
        fputc(']', out);
        break;
    case OTELC_VALUE_MAP:
        fputs("{\"kvlist\":", out);
        put_attrs(v->u.array.items, n);
        break;
    case OTELC_VALUE_EMPTY:
        fputs("{\"empty\":true", out);
        break;
    }
    fputc('}', out);
}

static void put_attrs(const otelc_attr *attrs, size_t n)
{
    fputc('{', out);
    for (size_t i = 0; i < n; i++) {
        if (i) fputc(',', out);
        put_str(attrs[i].key);
        fputc(':', out);
        put_value(&attrs[i].value);
    }
    fputc('}', out);
}

static void put_hex(const uint8_t *p, size_t n)
{
    fputc('"', out);
    for (size_t i = 0; i < n; i++) fprintf(out, "%02x", p[i]);
    fputc('"', out);
}

/* What one event, link or span must look like after the limits. */
typedef struct want_event {
    const char *name;
    uint64_t time_ns;
    const otelc_attr *attrs;
    size_t attr_count;
    uint32_t dropped;
} want_event;

typedef struct want_link {
    const char *trace_hex, *span_hex, *trace_state;
    const otelc_attr *attrs;
    size_t attr_count;
    uint32_t dropped;
} want_link;

typedef struct want_span {
    const char *scope; /* "alpha" or "beta" */
    otelc_span_context context;
    const char *trace_state; /* literal: what the span must carry */
    const uint8_t *parent;   /* NULL for a root */
    const char *name;
    otelc_span_kind kind;
    uint64_t start_ns, end_ns;
    const otelc_attr *attrs;
    size_t attr_count;
    uint32_t dropped_attrs;
    const want_event *events;
    size_t event_count;
    uint32_t dropped_events;
    const want_link *links;
    size_t link_count;
    uint32_t dropped_links;
    otelc_status_code status;
    const char *status_message;
} want_span;

static void put_span(const want_span *w, bool first)
{
    fprintf(out, "%s\n{\"scope\":\"%s\",\"traceId\":", first ? "" : ",", w->scope);
    put_hex(w->context.trace_id, 16);
    fputs(",\"spanId\":", out);
    put_hex(w->context.span_id, 8);
    fputs(",\"traceState\":", out);
    put_str(w->trace_state);
    fputs(",\"parentSpanId\":", out);
    if (w->parent)
        put_hex(w->parent, 8);
    else
        fputs("\"\"", out);
    fputs(",\"name\":", out);
    put_str(w->name);
    fprintf(out,
            ",\"kind\":%d,\"startTimeUnixNano\":\"%" PRIu64 "\",\"endTimeUnixNano\":\"%" PRIu64
            "\",\"attributes\":",
            (int)w->kind, w->start_ns, w->end_ns);
    put_attrs(w->attrs, w->attr_count);
    fprintf(out, ",\"droppedAttributesCount\":%" PRIu32 ",\"events\":[", w->dropped_attrs);
    for (size_t i = 0; i < w->event_count; i++) {
        const want_event *e = &w->events[i];
        fprintf(out, "%s{\"timeUnixNano\":\"%" PRIu64 "\",\"name\":", i ? "," : "", e->time_ns);
        put_str(e->name);
        fputs(",\"attributes\":", out);
        put_attrs(e->attrs, e->attr_count);
        fprintf(out, ",\"droppedAttributesCount\":%" PRIu32 "}", e->dropped);
    }
    fprintf(out, "],\"droppedEventsCount\":%" PRIu32 ",\"links\":[", w->dropped_events);
    for (size_t i = 0; i < w->link_count; i++) {
        const want_link *l = &w->links[i];
        fprintf(out, "%s{\"traceId\":\"%s\",\"spanId\":\"%s\",\"traceState\":", i ? "," : "",
                l->trace_hex, l->span_hex);
        put_str(l->trace_state);
        fputs(",\"attributes\":", out);
        put_attrs(l->attrs, l->attr_count);
        fprintf(out, ",\"droppedAttributesCount\":%" PRIu32 "}", l->dropped);
    }
    fprintf(out, "],\"droppedLinksCount\":%" PRIu32 ",\"status\":{\"code\":%d,\"message\":",
            w->dropped_links, (int)w->status);
    put_str(w->status_message);
    fputs("}}", out);
}

/* ---- Attribute values ---------------------------------------------------------- */

/*
 * Static initialisers (the OTELC_ATTR_* helpers are compound literals that
 * call strlen, which file-scope tables cannot use). STR takes literals only.
 */
#define STR(k, v)                                                                                  \
    {                                                                                              \
        (k),                                                                                       \
        {                                                                                          \
            .type = OTELC_VALUE_STRING, .u.str = {(v), sizeof(v) - 1 }                             \
        }                                                                                          \
    }
#define BOOL(k, v)                                                                                 \
    {                                                                                              \
        (k),                                                                                       \
        {                                                                                          \
            .type = OTELC_VALUE_BOOL, .u.b = (v)                                                   \
        }                                                                                          \
    }
#define INT(k, v)                                                                                  \
    {                                                                                              \
        (k),                                                                                       \
        {                                                                                          \
            .type = OTELC_VALUE_INT, .u.i = (v)                                                    \
        }                                                                                          \
    }
#define DBL(k, v)                                                                                  \
    {                                                                                              \
        (k),                                                                                       \
        {                                                                                          \
            .type = OTELC_VALUE_DOUBLE, .u.d = (v)                                                 \
        }                                                                                          \
    }
#define ARR(k, t, a)                                                                               \
    {                                                                                              \
        (k),                                                                                       \
        {                                                                                          \
            .type = (t), .u.array = {(a), ARRAY_LEN(a) }                                           \
        }                                                                                          \
    }

/* The other AnyValue kinds: items of arrays (V_*) and attributes. */
#define V_STR(v)                                                                                   \
    {                                                                                              \
        .type = OTELC_VALUE_STRING, .u.str = {(v), sizeof(v) - 1 }                                 \
    }
#define V_INT(v)                                                                                   \
    {                                                                                              \
        .type = OTELC_VALUE_INT, .u.i = (v)                                                        \
    }
#define V_DBL(v)                                                                                   \
    {                                                                                              \
        .type = OTELC_VALUE_DOUBLE, .u.d = (v)                                                     \
    }
#define V_EMPTY                                                                                    \
    {                                                                                              \
        .type = OTELC_VALUE_EMPTY                                                                  \
    }
#define V_BYTES(a)                                                                                 \
    {                                                                                              \
        .type = OTELC_VALUE_BYTES, .u.str = {(const char *)(a), sizeof(a) }                        \
    }
#define V_LIST(t, a)                                                                               \
    {                                                                                              \
        .type = (t), .u.array = {(a), ARRAY_LEN(a) }                                               \
    }
#define V_NONE(t)                                                                                  \
    {                                                                                              \
        .type = (t), .u.array = { NULL, 0 }                                                        \
    }
#define ANY(k, v)                                                                                  \
    {                                                                                              \
        (k), v                                                                                     \
    }

static const otelc_attr RES_BUILD[] = {STR("commit", "4f2a9c1"), BOOL("dirty", false)};
static const char *const RES_TAGS[] = {"blue", "green"};
static const otelc_attr RESOURCE_ATTRS[] = {
    STR("service.name", "interop-checkout"),
    STR("service.namespace", "shop"),
    STR("service.version", "1.4.2"),
    INT("interop.resource.int", 4242),
    BOOL("interop.resource.flag", true),
    DBL("interop.resource.ratio", 0.75),
    ARR("interop.resource.tags", OTELC_VALUE_STRING_ARRAY, RES_TAGS),
    ARR("interop.resource.build", OTELC_VALUE_MAP, RES_BUILD),
};

/* Characters JSON must escape, multi-byte UTF-8, and a C0 control. */
#define ESCAPES "q\"b\\s/n\nt\t\x01 \xc3\xa9\xe2\x82\xac"

/* Span 1's arrays as set, and the string array as it must come out (truncated to 24 chars). */
static const char *const ARR_STR_IN[] = {"alpha", "", "\xc3\xbcn\xc3\xaf",
                                         "a-string-longer-than-24-characters-here"};
static const char *const ARR_STR_OUT[] = {"alpha", "", "\xc3\xbcn\xc3\xaf",
                                          "a-string-longer-than-24-"};
static const bool ARR_BOOL[] = {true, false, true};
static const int64_t ARR_INT[] = {INT64_MIN, 0, -1, INT64_MAX};
static const double ARR_DOUBLE[] = {1.5, -0.25, 1e-300, 123456789.125};

/* Set at start through the options, so samplers would see them. */
static const otelc_attr START_ATTRS[] = {
    STR("http.request.method", "GET"),
    STR("http.route", "/checkout"),
};

/*
 * Span 1's attributes after the limits: 17 distinct keys fit, int.neg is
 * replaced in place (not a drop), the two keys after the 17th are dropped,
 * and strings longer than 24 characters keep 24 characters (not bytes).
 */
static const otelc_attr SPAN1_WANT[] = {
    STR("http.request.method", "GET"),
    STR("http.route", "/checkout"),
    STR("text.escapes", ESCAPES),
    STR("text.truncated", "\xc3\x85\xc3\x84\xc3\x96-truncate-me-after-24"),
    STR("text.empty", ""),
    BOOL("flag.true", true),
    BOOL("flag.false", false),
    INT("int.max", INT64_MAX),
    INT("int.min", INT64_MIN),
    INT("int.neg", -7),
    DBL("double.pi", 3.141592653589793),
    DBL("double.tiny", -2.5e-10),
    DBL("double.big", 1e300),
    ARR("arr.str", OTELC_VALUE_STRING_ARRAY, ARR_STR_OUT),
    ARR("arr.bool", OTELC_VALUE_BOOL_ARRAY, ARR_BOOL),
    ARR("arr.int", OTELC_VALUE_INT_ARRAY, ARR_INT),
    ARR("arr.double", OTELC_VALUE_DOUBLE_ARRAY, ARR_DOUBLE),
};

static const int64_t RETRY_CODES[] = {503, 504};
static const otelc_attr EV1_ATTRS[] = {STR("cache.key", "cart:42"), DBL("cache.hit_ratio", 0.5)};
/* Four attributes against a limit of three: the last is dropped. */
static const otelc_attr EV2_ATTRS[] = {
    INT("retry.attempt", 2),
    BOOL("retry.ok", false),
    ARR("retry.codes", OTELC_VALUE_INT_ARRAY, RETRY_CODES),
    STR("retry.extra", "dropped"),
};
static const want_event SPAN1_EVENTS[] = {
    {"cache.miss", 1700000000130000100u, EV1_ATTRS, 2, 0},
    {"retry", 1700000000140000200u, EV2_ATTRS, 3, 1},
    {"checkpoint", 1700000000150000000u, NULL, 0, 0},
};

/* Three attributes against a link limit of two. */
static const otelc_attr LINK1_ATTRS[] = {
    STR("link.kind", "follows"),
    INT("link.n", 1),
    BOOL("link.extra", true),
};
static const otelc_attr LINK2_ATTRS[] = {STR("link.reason", "batch")};
static const want_link SPAN1_LINKS[] = {
    {LINK1_TRACE_ID, LINK1_SPAN_ID, LINK1_TRACESTATE, LINK1_ATTRS, 2, 1},
    {LINK2_TRACE_ID, LINK2_SPAN_ID, "", LINK2_ATTRS, 1, 0},
};

static const otelc_attr SPAN2_ATTRS[] = {
    STR("peer.service", "orders-db"),
    STR("db.system", "postgresql"),
};
static const otelc_attr SPAN3_ATTRS[] = {
    STR("network.peer.address", "10.1.2.3"),
    INT("network.peer.port", 5672),
    STR("messaging.system", "rabbitmq"),
};
static const otelc_attr SPAN4_ATTRS[] = {STR("messaging.operation", "process")};
static const want_event SPAN4_EVENTS[] = {{"received", 1700000001000000300u, NULL, 0, 0}};
static const otelc_attr SPAN4_LINK_ATTRS[] = {STR("link.reason", "triggered-by")};
/*
 * A false "error" attribute: kept in OTLP, removed by Zipkin's rules. The
 * doubles JSON cannot write as numbers, negative zero, and an empty array.
 */
static const int64_t NO_INTS[1];

/*
 * The other AnyValue kinds: bytes holding zero bytes and 0xff, the empty
 * value, an empty map and an empty array, an array (holding a homogeneous
 * one) inside a map, a map inside an array, and a string and bytes nested
 * past the length limit of 24: cut to 24 characters and 24 bytes.
 */
static const unsigned char RAW[] = {0x00, 0xff, 'o', 't', 0x00, 0x80, 0x7f};
static const otelc_value IN_MAP_LIST[] = {
    V_INT(1),   V_STR("two"), V_EMPTY,
    V_DBL(2.5), V_BYTES(RAW), V_LIST(OTELC_VALUE_INT_ARRAY, RETRY_CODES),
};
static const otelc_attr MAP_ITEMS[] = {
    ANY("list", V_LIST(OTELC_VALUE_ARRAY, IN_MAP_LIST)),
    BOOL("flag", true),
    ANY("none", V_EMPTY),
    ANY("no.items", V_NONE(OTELC_VALUE_ARRAY)),
    ANY("no.entries", V_NONE(OTELC_VALUE_MAP)),
};
static const otelc_attr IN_ARRAY_MAP[] = {STR("deep", "yes"), INT("n", -3)};
static const otelc_value ARRAY_ITEMS[] = {
    V_LIST(OTELC_VALUE_MAP, IN_ARRAY_MAP),
    V_STR("x"),
    V_NONE(OTELC_VALUE_MAP),
    V_LIST(OTELC_VALUE_STRING_ARRAY, RES_TAGS),
};
#define E_ACUTE_10                                                                                 \
    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
static const unsigned char LONG_RAW[30] = {0xff, 1,  2,  3,  4,  5,  6,  7,  8,  9,
                                           10,   11, 12, 13, 14, 15, 16, 17, 18, 19,
                                           20,   21, 22, 23, 24, 25, 26, 27, 28, 0};
static const unsigned char LONG_RAW_OUT[24] = {0xff, 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                               12,   13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};
static const otelc_attr LONG_IN[] = {STR("text", E_ACUTE_10 E_ACUTE_10 E_ACUTE_10),
                                     ANY("raw", V_BYTES(LONG_RAW))};
static const otelc_attr LONG_OUT[] = {
    STR("text", E_ACUTE_10 E_ACUTE_10 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"),
    ANY("raw", V_BYTES(LONG_RAW_OUT))};

#define SPAN5_COMMON                                                                               \
    BOOL("error", false), DBL("compute.units", 0.1), DBL("double.nan", NAN),                       \
        DBL("double.neginf", -INFINITY), DBL("double.negzero", -0.0),                              \
        {"arr.empty", {.type = OTELC_VALUE_INT_ARRAY, .u.array = {NO_INTS, 0}}},                   \
        ANY("any.bytes", V_BYTES(RAW)), ANY("any.empty", V_EMPTY),                                 \
        ARR("any.map", OTELC_VALUE_MAP, MAP_ITEMS),                                                \
        ARR("any.array", OTELC_VALUE_ARRAY, ARRAY_ITEMS),                                          \
        ANY("any.empty_map", V_NONE(OTELC_VALUE_MAP)),                                             \
        ANY("any.empty_array", V_NONE(OTELC_VALUE_ARRAY))
static const otelc_attr SPAN5_ATTRS[] = {SPAN5_COMMON, ARR("any.long", OTELC_VALUE_MAP, LONG_IN)};
static const otelc_attr SPAN5_WANT[] = {SPAN5_COMMON, ARR("any.long", OTELC_VALUE_MAP, LONG_OUT)};
/* An event with the new kinds (three: the event attribute limit). */
static const otelc_attr SPAN5_EV_ATTRS[] = {
    ARR("ev.array", OTELC_VALUE_ARRAY, ARRAY_ITEMS),
    ANY("ev.bytes", V_BYTES(RAW)),
    ANY("ev.empty", V_EMPTY),
};
static const want_event SPAN5_EVENTS[] = {
    {"anyvalue", 1700000001150000000u, SPAN5_EV_ATTRS, ARRAY_LEN(SPAN5_EV_ATTRS), 0},
};

/* ---- The spans ------------------------------------------------------------------ */

static void set_all(otelc_span *s, const otelc_attr *attrs, size_t n)
{
    for (size_t i = 0; i < n; i++) otelc_span_set_attr(s, &attrs[i]);
}

/* Writes the expectation; returns the number of spans created. */
static size_t make_spans(otelc_tracer *alpha, otelc_tracer *beta)
{
    /* Span 1: SERVER, child of a remote parent, over every limit. */
    otelc_span_context remote =
        make_context(REMOTE_TRACE_ID, REMOTE_SPAN_ID, REMOTE_TRACESTATE, true);
    otelc_context *remote_ctx = otelc_context_new(&remote, NULL);
    otelc_span_context l1 = make_context(LINK1_TRACE_ID, LINK1_SPAN_ID, LINK1_TRACESTATE, true);
    otelc_link start_links[] = {{l1, LINK1_ATTRS, ARRAY_LEN(LINK1_ATTRS)}};
    otelc_span_options o1 = {
        .kind = OTELC_SPAN_SERVER,
        .parent = remote_ctx,
        .start_ns = 1700000000123456321u,
        .attrs = START_ATTRS,
        .attr_count = ARRAY_LEN(START_ATTRS),
        .links = start_links,
        .link_count = ARRAY_LEN(start_links),
    };
    otelc_span *s1 = otelc_span_start_with(alpha, "GET /checkout", &o1);
    otelc_context_release(remote_ctx);
    otelc_span_set_str(s1, "text.escapes", ESCAPES);
    otelc_span_set_str(s1, "text.truncated",
                       "\xc3\x85\xc3\x84\xc3\x96-truncate-me-after-24-characters-please");
    otelc_span_set_str(s1, "text.empty", "");
    otelc_span_set_bool(s1, "flag.true", true);
    otelc_span_set_bool(s1, "flag.false", false);
    otelc_span_set_int(s1, "int.max", INT64_MAX);
    otelc_span_set_int(s1, "int.min", INT64_MIN);
    otelc_span_set_int(s1, "int.neg", -42);
    otelc_span_set_double(s1, "double.pi", 3.141592653589793);
    otelc_span_set_double(s1, "double.tiny", -2.5e-10);
    otelc_span_set_double(s1, "double.big", 1e300);
    otelc_span_set_str_array(s1, "arr.str", ARR_STR_IN, ARRAY_LEN(ARR_STR_IN));
    otelc_span_set_bool_array(s1, "arr.bool", ARR_BOOL, ARRAY_LEN(ARR_BOOL));
    otelc_span_set_int_array(s1, "arr.int", ARR_INT, ARRAY_LEN(ARR_INT));
    otelc_span_set_double_array(s1, "arr.double", ARR_DOUBLE, ARRAY_LEN(ARR_DOUBLE));
    otelc_span_set_int(s1, "int.neg", -7); /* replaces: at the limit, but not a new key */
    otelc_span_set_str(s1, "over.limit.1", "dropped");
    otelc_span_set_int(s1, "over.limit.2", 1);
    for (size_t i = 0; i < ARRAY_LEN(SPAN1_EVENTS); i++) {
        const want_event *e = &SPAN1_EVENTS[i];
        /* The second event is given all four attributes; the limit keeps three. */
        otelc_span_add_event_at(s1, e->name, e->time_ns, e->attrs,
                                e->attrs == EV2_ATTRS ? ARRAY_LEN(EV2_ATTRS) : e->attr_count);
    }
    otelc_span_add_event_at(s1, "over.event.limit", 1700000000160000000u, NULL, 0);
    otelc_span_context l2 = make_context(LINK2_TRACE_ID, LINK2_SPAN_ID, NULL, false);
    otelc_span_add_link(s1, &l2, LINK2_ATTRS, ARRAY_LEN(LINK2_ATTRS));
    otelc_span_context l3 = make_context(LINK3_TRACE_ID, LINK3_SPAN_ID, NULL, false);
    otelc_span_add_link(s1, &l3, NULL, 0); /* over the link limit */
    otelc_span_set_status(s1, OTELC_STATUS_ERROR, "payment declined: card \"4242\"");
    otelc_span_context c1 = otelc_span_get_context(s1);

    /* Span 2: CLIENT child through the current context; OK drops its description. */
    otelc_scope scope1 = otelc_span_activate(s1);
    otelc_span_options o2 = {.kind = OTELC_SPAN_CLIENT, .start_ns = 1700000000200000050u};
    otelc_span *s2 = otelc_span_start_with(beta, "SELECT orders", &o2);
    set_all(s2, SPAN2_ATTRS, ARRAY_LEN(SPAN2_ATTRS));
    otelc_span_set_status(s2, OTELC_STATUS_OK, "ignored for OK");
    otelc_span_context c2 = otelc_span_get_context(s2);
    otelc_span_end_at(s2, 1700000000260000450u);

    /* Span 3: PRODUCER child, peer given as an address and port. */
    otelc_span_options o3 = {.kind = OTELC_SPAN_PRODUCER, .start_ns = 1700000000300000000u};
    otelc_span *s3 = otelc_span_start_with(alpha, "publish order", &o3);
    set_all(s3, SPAN3_ATTRS, ARRAY_LEN(SPAN3_ATTRS));
    otelc_span_context c3 = otelc_span_get_context(s3);
    /* The tracestate lives in the span, which may be recycled once it ends. */
    char c3_state[256];
    snprintf(c3_state, sizeof c3_state, "%s", c3.trace_state ? c3.trace_state : "");
    c3.trace_state = c3_state;
    otelc_span_end_at(s3, 1700000000310000001u);
    otelc_scope_exit(scope1);
    otelc_span_end_at(s1, 1700000000373456400u);

    /* Span 4: CONSUMER root of a new trace, linked to span 3; ERROR without a description. */
    otelc_link l4[] = {{c3, SPAN4_LINK_ATTRS, ARRAY_LEN(SPAN4_LINK_ATTRS)}};
    otelc_span_options o4 = {.kind = OTELC_SPAN_CONSUMER,
                             .root = true,
                             .start_ns = 1700000001000000000u,
                             .links = l4,
                             .link_count = 1};
    otelc_span *s4 = otelc_span_start_with(beta, "process order", &o4);
    set_all(s4, SPAN4_ATTRS, ARRAY_LEN(SPAN4_ATTRS));
    otelc_span_add_event_at(s4, "received", SPAN4_EVENTS[0].time_ns, NULL, 0);
    otelc_span_set_status(s4, OTELC_STATUS_ERROR, NULL);
    otelc_span_context c4 = otelc_span_get_context(s4);

    /*
     * Span 5: INTERNAL child given as an explicit parent context; status left
     * UNSET; every other AnyValue kind, in attributes and in an event.
     */
    otelc_context *ctx4 = otelc_context_new(&c4, NULL);
    otelc_span_options o5 = {
        .kind = OTELC_SPAN_INTERNAL, .parent = ctx4, .start_ns = 1700000001100000000u};
    otelc_span *s5 = otelc_span_start_with(alpha, "compute", &o5);
    otelc_context_release(ctx4);
    set_all(s5, SPAN5_ATTRS, ARRAY_LEN(SPAN5_ATTRS));
    otelc_span_add_event_at(s5, SPAN5_EVENTS[0].name, SPAN5_EVENTS[0].time_ns, SPAN5_EV_ATTRS,
                            ARRAY_LEN(SPAN5_EV_ATTRS));
    otelc_span_context c5 = otelc_span_get_context(s5);
    otelc_span_end_at(s5, 1700000001200000000u);
    otelc_span_end_at(s4, 1700000001500000000u);

    char c3_trace[33], c3_span[17];
    otelc_trace_id_hex(&c3, c3_trace);
    otelc_span_id_hex(&c3, c3_span);
    const want_link span4_links[] = {
        {c3_trace, c3_span, REMOTE_TRACESTATE, SPAN4_LINK_ATTRS, 1, 0},
    };
    const want_span spans[] = {
        {"alpha", c1, REMOTE_TRACESTATE, remote.span_id, "GET /checkout", OTELC_SPAN_SERVER,
         1700000000123456321u, 1700000000373456400u, SPAN1_WANT, ARRAY_LEN(SPAN1_WANT), 2,
         SPAN1_EVENTS, ARRAY_LEN(SPAN1_EVENTS), 1, SPAN1_LINKS, ARRAY_LEN(SPAN1_LINKS), 1,
         OTELC_STATUS_ERROR, "payment declined: card \"4242\""},
        {"beta", c2, REMOTE_TRACESTATE, c1.span_id, "SELECT orders", OTELC_SPAN_CLIENT,
         1700000000200000050u, 1700000000260000450u, SPAN2_ATTRS, ARRAY_LEN(SPAN2_ATTRS), 0, NULL,
         0, 0, NULL, 0, 0, OTELC_STATUS_OK, ""},
        {"alpha", c3, REMOTE_TRACESTATE, c1.span_id, "publish order", OTELC_SPAN_PRODUCER,
         1700000000300000000u, 1700000000310000001u, SPAN3_ATTRS, ARRAY_LEN(SPAN3_ATTRS), 0, NULL,
         0, 0, NULL, 0, 0, OTELC_STATUS_UNSET, ""},
        {"beta", c4, "", NULL, "process order", OTELC_SPAN_CONSUMER, 1700000001000000000u,
         1700000001500000000u, SPAN4_ATTRS, ARRAY_LEN(SPAN4_ATTRS), 0, SPAN4_EVENTS, 1, 0,
         span4_links, 1, 0, OTELC_STATUS_ERROR, ""},
        {"alpha", c5, "", c4.span_id, "compute", OTELC_SPAN_INTERNAL, 1700000001100000000u,
         1700000001200000000u, SPAN5_WANT, ARRAY_LEN(SPAN5_WANT), 0, SPAN5_EVENTS, 1, 0, NULL, 0, 0,
         OTELC_STATUS_UNSET, ""},
    };

    fputs("{\"resource\":{\"schemaUrl\":\"" RESOURCE_SCHEMA "\",\"attributes\":", out);
    put_attrs(RESOURCE_ATTRS, ARRAY_LEN(RESOURCE_ATTRS));
    fputs(",\"droppedAttributesCount\":0},\n\"scopes\":{"
          "\"alpha\":{\"name\":\"" ALPHA_NAME "\",\"version\":\"" ALPHA_VERSION
          "\",\"schemaUrl\":\"" ALPHA_SCHEMA "\",\"attributes\":{},\"droppedAttributesCount\":0},"
          "\"beta\":{\"name\":\"" BETA_NAME "\",\"version\":\"" BETA_VERSION
          "\",\"schemaUrl\":\"" BETA_SCHEMA "\",\"attributes\":{},\"droppedAttributesCount\":0}},\n"
          "\"spans\":[",
          out);
    for (size_t i = 0; i < ARRAY_LEN(spans); i++) put_span(&spans[i], i == 0);
    fputs("]}\n", out);
    return ARRAY_LEN(spans);
}

/* ---- Main --------------------------------------------------------------------------- */

static int usage(void)
{
    fputs("usage: interop_emit --protocol http/protobuf|http/json|grpc|zipkin --endpoint URL "
          "--expect FILE [--gzip] [--headers k=v,...] [--simple]\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    const char *protocol = NULL, *endpoint = NULL, *expect = NULL, *headers = NULL;
    bool gzip = false, simple = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--gzip") == 0)
            gzip = true;
        else if (strcmp(argv[i], "--simple") == 0)
            simple = true;
        else if (i + 1 < argc && strcmp(argv[i], "--protocol") == 0)
            protocol = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--endpoint") == 0)
            endpoint = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--expect") == 0)
            expect = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--headers") == 0)
            headers = argv[++i];
        else
            return usage();
    }
    if (!protocol || !endpoint || !expect) return usage();

    otelc_exporter *exp;
    if (strcmp(protocol, "zipkin") == 0) {
        exp = otelc_zipkin_exporter_new(endpoint, 10000);
    } else {
        /* One attempt and no breaker: a rejected request must fail this run, not be retried away.
         */
        otelc_otlp_exporter_options o = {.endpoint = endpoint,
                                         .headers = headers,
                                         .timeout_ms = 10000,
                                         .gzip = gzip,
                                         .insecure = true,
                                         .max_attempts = 1};
        if (strcmp(protocol, "http/protobuf") == 0)
            o.protocol = OTELC_OTLP_HTTP_PROTOBUF;
        else if (strcmp(protocol, "http/json") == 0)
            o.protocol = OTELC_OTLP_HTTP_JSON;
        else if (strcmp(protocol, "grpc") == 0)
            o.protocol = OTELC_OTLP_GRPC;
        else
            return usage();
        exp = otelc_otlp_exporter_new(&o);
    }
    if (!exp) {
        fprintf(stderr, "interop_emit: no %s exporter\n", protocol);
        return 1;
    }

    /* Batch: a long schedule delay, so everything goes out in the one flush below, as one request.
     */
    otelc_batch_options bo = {.max_queue_size = 64,
                              .schedule_delay_ms = 60000,
                              .max_export_batch_size = 64,
                              .export_timeout_ms = 15000};
    otelc_processor *proc =
        simple ? otelc_simple_processor_new(exp) : otelc_batch_processor_new(exp, &bo);
    otelc_processor *procs[] = {proc};
    otelc_provider_options po = {
        .no_env = true,
        .resource = otelc_resource_new(RESOURCE_ATTRS, ARRAY_LEN(RESOURCE_ATTRS), RESOURCE_SCHEMA),
        .sampler = otelc_sampler_always_on(),
        .processors = procs,
        .processor_count = 1,
        .limits = &LIMITS,
    };
    otelc_provider *p = NULL;
    if (otelc_provider_new(&po, &p) != OTELC_OK) {
        fputs("interop_emit: provider creation failed\n", stderr);
        return 1;
    }
    otelc_tracer *alpha = otelc_provider_tracer(p, ALPHA_NAME, ALPHA_VERSION, ALPHA_SCHEMA);
    otelc_tracer *beta = otelc_provider_tracer(p, BETA_NAME, BETA_VERSION, BETA_SCHEMA);

    out = fopen(expect, "w");
    if (!out) {
        perror(expect);
        otelc_provider_free(p);
        return 1;
    }
    size_t n = make_spans(alpha, beta);
    int wrote = ferror(out) | fclose(out);

    int flushed = otelc_provider_force_flush(p, 15000);
    otelc_stats st;
    otelc_provider_stats(p, &st);
    otelc_provider_free(p);

    int rc = 0;
    if (wrote) {
        fprintf(stderr, "interop_emit: could not write %s\n", expect);
        rc = 1;
    }
    if (flushed != OTELC_OK || st.spans_exported != n || st.export_failures != 0) {
        fprintf(stderr,
                "interop_emit: flush %d, %" PRIu64 " of %zu spans exported, %" PRIu64
                " failed exports\n",
                flushed, st.spans_exported, n, st.export_failures);
        rc = 1;
    }
    return rc;
}
