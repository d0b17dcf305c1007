/*
 * zipkin.c - the Zipkin exporter: spans as a Zipkin v2 JSON list, POSTed to
 * a Zipkin collector (/api/v2/spans) over the shared HTTP transport.
 *
 * The mapping follows the OpenTelemetry specification's "OpenTelemetry to
 * Zipkin Transformation" (trace/sdk_exporters/zipkin.md) and, where it is
 * silent, the generic rules of common/mapping-to-non-otlp.md:
 *
 *   - localEndpoint.serviceName is the resource's service.name, else the
 *     default resource's; service.namespace is sent as a tag.
 *   - INTERNAL spans carry no kind; the other four kinds keep their names.
 *   - CLIENT and PRODUCER spans get a remoteEndpoint from the first
 *     attribute of the specification's rank table that is present.
 *   - Attributes become string tags: booleans as "true"/"false", numbers in
 *     the C locale, arrays as a JSON list, maps as a JSON object, bytes as
 *     base64, the empty value as "" (common/README.md, "AnyValue
 *     representation for non-OTLP protocols"). The scope's attributes
 *     are tags too, where the span has no attribute of that name.
 *   - Status: otel.status_code OK/ERROR, plus an "error" tag holding the
 *     description (empty when none) for ERROR only.
 *   - Scope: otel.scope.name/version and their deprecated otel.library.*
 *     aliases; non-zero dropped counts as otel.dropped_*_count.
 *   - Events become annotations: the name alone, or "name":{attributes}.
 *   - Times are whole microseconds; empty fields are left out.
 *
 * OpenTelemetry never shares a span id between client and server and the
 * span context has no debug bit (B3's debug flag arrives as "sampled"), so
 * the "shared" and "debug" fields are never written.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "export/zipkin.h"

/* ---- Values --------------------------------------------------------------------- */

/*
 * A value as a JSON string: Zipkin tags are strings only. Anything that is
 * not already a string is rendered as JSON in scratch and quoted from
 * there, which gives arrays the JSON-list form the specification asks for
 * (and maps the JSON-object form). The specification's representation of
 * an AnyValue for non-OTLP formats makes bytes their base64 text and the
 * empty value the empty string.
 */
static void put_tag_value(otelc_buf *b, otelc_buf *scratch, const otelc_value *v)
{
    if (v->type == OTELC_VALUE_STRING) {
        otelc__buf_json_str(b, v->u.str.ptr, v->u.str.len);
        return;
    }
    if (v->type == OTELC_VALUE_EMPTY) {
        otelc__buf_puts(b, "\"\"");
        return;
    }
    otelc__buf_reset(scratch);
    otelc__buf_json_value(scratch, v);
    if (scratch->failed) {
        b->failed = true;
        return;
    }
    /* Non-finite doubles and bytes already come out as JSON strings ("NaN", base64). */
    if (scratch->len && scratch->data[0] == '"')
        otelc__buf_append(b, scratch->data, scratch->len);
    else
        otelc__buf_json_str(b, scratch->data, scratch->len);
}

static bool is_str(const otelc_value *v)
{
    return v && v->type == OTELC_VALUE_STRING && v->u.str.len > 0;
}

/* ---- Tags ------------------------------------------------------------------------- */

/* The "tags" object, opened by the first tag written. */
typedef struct tags {
    otelc_buf *b;
    otelc_buf *scratch;
    bool open;
} tags;

static void tag_key(tags *t, const char *key)
{
    otelc__buf_puts(t->b, t->open ? "," : ",\"tags\":{");
    t->open = true;
    otelc__buf_json_str(t->b, key, strlen(key));
    otelc__buf_puts(t->b, ":");
}

static void tag_str(tags *t, const char *key, const char *value)
{
    tag_key(t, key);
    otelc__buf_json_str(t->b, value, strlen(value));
}

static void tag_count(tags *t, const char *key, uint32_t n)
{
    if (!n) return; /* the generic mapping records non-zero counts only */
    tag_key(t, key);
    otelc__buf_printf(t->b, "\"%" PRIu32 "\"", n);
}

static bool has_scope_name(const otelc_span_data *sd)
{
    return sd->scope && sd->scope->name && *sd->scope->name;
}

static bool has_scope_version(const otelc_span_data *sd)
{
    return sd->scope && sd->scope->version && *sd->scope->version;
}

/*
 * True when a span attribute must not become a tag: the exporter writes a
 * tag of that name itself (JSON objects must not repeat keys, and the
 * span's own data is the authority), or it is a false "error" (boolean or
 * "false"), which the specification says to remove because Zipkin flags
 * a span as failed for any "error" tag at all.
 */
static bool attr_hidden(const otelc_span_data *sd, const otelc_attr *a)
{
    const char *k = a->key;
    if (strcmp(k, "error") == 0) {
        if (sd->status == OTELC_STATUS_ERROR) return true;
        const otelc_value *v = &a->value;
        if (v->type == OTELC_VALUE_BOOL) return !v->u.b;
        return v->type == OTELC_VALUE_STRING && v->u.str.len == 5 &&
               strncmp(v->u.str.ptr, "false", 5) == 0;
    }
    if (strncmp(k, "otel.", 5) != 0) return false;
    k += 5;
    if (strcmp(k, "status_code") == 0) return sd->status != OTELC_STATUS_UNSET;
    if (strcmp(k, "scope.name") == 0 || strcmp(k, "library.name") == 0) return has_scope_name(sd);
    if (strcmp(k, "scope.version") == 0 || strcmp(k, "library.version") == 0)
        return has_scope_version(sd);
    if (strcmp(k, "dropped_attributes_count") == 0) return sd->dropped_attr_count != 0;
    if (strcmp(k, "dropped_events_count") == 0) return sd->dropped_event_count != 0;
    if (strcmp(k, "dropped_links_count") == 0) return sd->dropped_link_count != 0;
    return false;
}

static void put_attr_tags(tags *t, const otelc_span_data *sd)
{
    for (uint32_t i = 0; i < sd->attr_count; i++) {
        const otelc_attr *a = &sd->attrs[i];
        if (attr_hidden(sd, a)) continue;
        tag_key(t, a->key);
        put_tag_value(t->b, t->scratch, &a->value);
    }
}

/* The resource's service.namespace, which must not be folded into the service name. */
static const otelc_value *namespace_of(const otelc_span_data *sd)
{
    return sd->resource ? otelc_resource_get(sd->resource, "service.namespace") : NULL;
}

/* service.namespace is a tag, unless the span has an attribute of that name. */
static void put_namespace_tag(tags *t, const otelc_span_data *sd)
{
    const otelc_value *ns = namespace_of(sd);
    if (!ns || otelc_span_data_attr(sd, "service.namespace")) return;
    tag_key(t, "service.namespace");
    put_tag_value(t->b, t->scratch, ns);
}

/*
 * The scope's attributes: Zipkin has no scope, so the generic mapping
 * records them on the span, where the span's own attributes and the tags
 * the exporter writes itself win.
 */
static void put_scope_attr_tags(tags *t, const otelc_span_data *sd)
{
    const otelc_scope_info *scope = sd->scope;
    for (uint32_t i = 0; scope && i < scope->attr_count; i++) {
        const otelc_attr *a = &scope->attrs[i];
        if (!a->key || attr_hidden(sd, a) || otelc_span_data_attr(sd, a->key)) continue;
        if (strcmp(a->key, "service.namespace") == 0 && namespace_of(sd)) continue;
        tag_key(t, a->key);
        put_tag_value(t->b, t->scratch, &a->value);
    }
}

static void put_scope_tags(tags *t, const otelc_span_data *sd)
{
    if (has_scope_name(sd)) {
        tag_str(t, "otel.scope.name", sd->scope->name);
        tag_str(t, "otel.library.name", sd->scope->name);
    }
    if (has_scope_version(sd)) {
        tag_str(t, "otel.scope.version", sd->scope->version);
        tag_str(t, "otel.library.version", sd->scope->version);
    }
}

static void put_status_tags(tags *t, const otelc_span_data *sd)
{
    if (sd->status == OTELC_STATUS_OK) tag_str(t, "otel.status_code", "OK");
    if (sd->status != OTELC_STATUS_ERROR) return;
    tag_str(t, "otel.status_code", "ERROR");
    tag_str(t, "error", sd->status_message ? sd->status_message : "");
}

static void put_tags(otelc_buf *b, otelc_buf *scratch, const otelc_span_data *sd)
{
    tags t = {b, scratch, false};
    put_attr_tags(&t, sd);
    put_scope_attr_tags(&t, sd);
    put_namespace_tag(&t, sd);
    put_scope_tags(&t, sd);
    tag_count(&t, "otel.dropped_attributes_count", sd->dropped_attr_count);
    tag_count(&t, "otel.dropped_events_count", sd->dropped_event_count);
    tag_count(&t, "otel.dropped_links_count", sd->dropped_link_count);
    put_status_tags(&t, sd);
    if (t.open) otelc__buf_puts(b, "}");
}

/* ---- Endpoints --------------------------------------------------------------------- */

/* The specification's rank table; port names the companion port attribute. */
static const struct {
    const char *key;
    const char *port;
} remote_rank[] = {
    {"peer.service", NULL},
    {"server.address", NULL},
    {"net.peer.name", NULL},
    {"network.peer.address", "network.peer.port"},
    {"server.socket.domain", NULL},
    {"server.socket.address", "server.socket.port"},
    {"net.sock.peer.name", NULL},
    {"net.sock.peer.addr", "net.sock.peer.port"},
    {"peer.hostname", NULL},
    {"peer.address", NULL},
    {"db.name", NULL},
};

/* A port attribute (integer, or a decimal string) in 1..65535, else 0. */
static unsigned port_of(const otelc_value *v)
{
    int64_t p = -1;
    if (v && v->type == OTELC_VALUE_INT) p = v->u.i;
    if (v && v->type == OTELC_VALUE_STRING && v->u.str.len > 0 && v->u.str.len <= 5) {
        p = 0;
        for (size_t i = 0; i < v->u.str.len && p >= 0; i++) {
            char c = v->u.str.ptr[i];
            p = c >= '0' && c <= '9' ? p * 10 + (c - '0') : -1;
        }
    }
    return p > 0 && p <= 65535 ? (unsigned)p : 0;
}

/*
 * An address that is an IP literal goes into ipv4/ipv6, where Zipkin looks
 * for it; anything else (host names, service names) is the serviceName.
 */
static void put_host(otelc_buf *b, const otelc_value *v)
{
    char text[INET6_ADDRSTRLEN + 1];
    unsigned char addr[sizeof(struct in6_addr)];
    const char *field = "serviceName";
    size_t n = v->u.str.len;
    if (n < sizeof text && !memchr(v->u.str.ptr, '\0', n)) {
        memcpy(text, v->u.str.ptr, n);
        text[n] = '\0';
        if (inet_pton(AF_INET, text, addr) == 1)
            field = "ipv4";
        else if (inet_pton(AF_INET6, text, addr) == 1)
            field = "ipv6";
    }
    otelc__buf_printf(b, "\"%s\":", field);
    otelc__buf_json_str(b, v->u.str.ptr, n);
}

/* CLIENT and PRODUCER spans name their peer, or Zipkin draws no dependency. */
static void put_remote_endpoint(otelc_buf *b, const otelc_span_data *sd)
{
    if (sd->kind != OTELC_SPAN_CLIENT && sd->kind != OTELC_SPAN_PRODUCER) return;
    for (size_t i = 0; i < sizeof remote_rank / sizeof *remote_rank; i++) {
        const otelc_value *v = otelc_span_data_attr(sd, remote_rank[i].key);
        if (!is_str(v)) continue;
        otelc__buf_puts(b, ",\"remoteEndpoint\":{");
        if (i == 0) {
            otelc__buf_puts(b, "\"serviceName\":");
            otelc__buf_json_str(b, v->u.str.ptr, v->u.str.len);
        } else {
            put_host(b, v);
        }
        unsigned port =
            remote_rank[i].port ? port_of(otelc_span_data_attr(sd, remote_rank[i].port)) : 0;
        if (port) otelc__buf_printf(b, ",\"port\":%u", port);
        otelc__buf_puts(b, "}");
        return;
    }
}

static void put_local_endpoint(otelc_buf *b, const otelc_span_data *sd, const char *def)
{
    const otelc_value *v = sd->resource ? otelc_resource_get(sd->resource, "service.name") : NULL;
    otelc__buf_puts(b, ",\"localEndpoint\":{\"serviceName\":");
    if (is_str(v))
        otelc__buf_json_str(b, v->u.str.ptr, v->u.str.len);
    else
        otelc__buf_json_str(b, def, strlen(def));
    otelc__buf_puts(b, "}");
}

/* ---- Annotations -------------------------------------------------------------------- */

/*
 * The annotation value: the event name, followed by its attributes as a
 * JSON object when it has any ("name":{"k":"v"}), as the specification
 * shows. Built in scratch because Zipkin wants it as one string.
 */
static void event_text(otelc_buf *s, const otelc_event_data *e)
{
    const char *name = e->name ? e->name : "";
    otelc__buf_reset(s);
    if (!e->attr_count && !e->dropped_attr_count) {
        otelc__buf_puts(s, name);
        return;
    }
    static const char dropped_key[] = "otel.dropped_attributes_count";
    bool first = true;
    otelc__buf_json_str(s, name, strlen(name));
    otelc__buf_puts(s, ":{");
    for (uint32_t i = 0; i < e->attr_count; i++) {
        const otelc_attr *a = &e->attrs[i];
        if (e->dropped_attr_count && strcmp(a->key, dropped_key) == 0) continue; /* ours wins */
        otelc__buf_puts(s, first ? "" : ",");
        first = false;
        otelc__buf_json_str(s, a->key, strlen(a->key));
        otelc__buf_puts(s, ":");
        otelc__buf_json_value(s, &a->value);
    }
    if (e->dropped_attr_count)
        otelc__buf_printf(s, "%s\"%s\":%" PRIu32, first ? "" : ",", dropped_key,
                          e->dropped_attr_count);
    otelc__buf_puts(s, "}");
}

static void put_annotations(otelc_buf *b, otelc_buf *scratch, const otelc_span_data *sd)
{
    if (!sd->event_count) return;
    otelc__buf_puts(b, ",\"annotations\":[");
    for (uint32_t i = 0; i < sd->event_count; i++) {
        const otelc_event_data *e = &sd->events[i];
        event_text(scratch, e);
        if (scratch->failed) {
            b->failed = true;
            return;
        }
        otelc__buf_printf(b, "%s{\"timestamp\":%" PRIu64 ",\"value\":", i ? "," : "",
                          e->time_ns / 1000);
        otelc__buf_json_str(b, scratch->data, scratch->len);
        otelc__buf_puts(b, "}");
    }
    otelc__buf_puts(b, "]");
}

/* ---- Spans ---------------------------------------------------------------------------- */

/* INTERNAL (and anything unknown) has no Zipkin kind and is left out. */
static const char *kind_name(otelc_span_kind k)
{
    return k >= OTELC_SPAN_SERVER && k <= OTELC_SPAN_CONSUMER ? otelc__span_kind_name(k) : NULL;
}

/*
 * Zipkin reads a zero duration as "unknown" and its API rounds sub-microsecond
 * durations up, so a span that ended within its first microsecond says 1.
 */
static uint64_t duration_us(const otelc_span_data *sd)
{
    uint64_t d = sd->end_ns > sd->start_ns ? (sd->end_ns - sd->start_ns) / 1000 : 0;
    return d ? d : 1;
}

static void put_span_head(otelc_buf *b, const otelc_span_data *sd)
{
    const char *kind = kind_name(sd->kind);
    otelc__buf_puts(b, "{\"traceId\":\"");
    otelc__buf_hex(b, sd->context.trace_id, 16);
    if (sd->has_parent) {
        otelc__buf_puts(b, "\",\"parentId\":\"");
        otelc__buf_hex(b, sd->parent_span_id, 8);
    }
    otelc__buf_puts(b, "\",\"id\":\"");
    otelc__buf_hex(b, sd->context.span_id, 8);
    otelc__buf_puts(b, "\"");
    if (kind) otelc__buf_printf(b, ",\"kind\":\"%s\"", kind);
    otelc__buf_puts(b, ",\"name\":");
    otelc__buf_json_str(b, sd->name ? sd->name : "", sd->name ? strlen(sd->name) : 0);
    otelc__buf_printf(b, ",\"timestamp\":%" PRIu64 ",\"duration\":%" PRIu64, sd->start_ns / 1000,
                      duration_us(sd));
}

static void put_span(otelc_buf *b, otelc_buf *scratch, const otelc_span_data *sd, const char *def)
{
    put_span_head(b, sd);
    put_local_endpoint(b, sd, def);
    put_remote_endpoint(b, sd);
    put_annotations(b, scratch, sd);
    put_tags(b, scratch, sd);
    otelc__buf_puts(b, "}");
}

int otelc__zipkin_encode(otelc_buf *out, const otelc_span_data *const *spans, size_t n,
                         const char *default_service)
{
    otelc_buf scratch = {0};
    const char *def = default_service ? default_service : "unknown_service";
    otelc__buf_puts(out, "[");
    for (size_t i = 0; i < n; i++) {
        if (i) otelc__buf_puts(out, ",");
        put_span(out, &scratch, spans[i], def);
    }
    otelc__buf_puts(out, "]");
    bool failed = out->failed || scratch.failed;
    otelc__buf_free(&scratch);
    return failed ? OTELC_ERR_NOMEM : OTELC_OK;
}

/* ---- Exporter ---------------------------------------------------------------------------- */

/* Retry tuning shared in spirit with OTLP's defaults (see otelc_otlp_exporter_options). */
#define ZIPKIN_MAX_ATTEMPTS       5
#define ZIPKIN_BACKOFF_INITIAL_MS 1000
#define ZIPKIN_BACKOFF_MAX_MS     5000

typedef struct zipkin {
    otelc_http *http;
    uint32_t timeout_ms; /* one batch, retries included */
    otelc_retry_policy policy;
    uint64_t rng;
    char *service; /* the default resource's service.name */
    otelc_buf body;
    otelc_http_response resp;
    otelc_stopper stopper; /* shutdown cuts retry waits and transfers short */
    _Atomic uint64_t requests, retries, exports_ok, exports_failed;
} zipkin;

static const otelc_exporter_ops zipkin_ops;

bool otelc__zipkin_exporter_stats(const otelc_exporter *e, otelc_zipkin_stats *out)
{
    if (!e || e->ops != &zipkin_ops) return false;
    zipkin *z = e->self;
    out->requests = atomic_load(&z->requests);
    out->retries = atomic_load(&z->retries);
    out->exports_ok = atomic_load(&z->exports_ok);
    out->exports_failed = atomic_load(&z->exports_failed);
    return true;
}

#ifdef OTELC_HAVE_CURL

static void log_failure(const zipkin *z, const char *why)
{
    if (z->resp.cancelled)
        otelc__log(OTELC_LOG_WARN, "Zipkin exporter: export cut short by shutdown");
    else if (z->resp.transport_error)
        otelc__log(OTELC_LOG_WARN, "Zipkin exporter: %s (%s)", why, z->resp.error);
    else
        otelc__log(OTELC_LOG_WARN, "Zipkin exporter: %s (HTTP %ld)", why, z->resp.status);
}

static otelc_attempt zipkin_attempt(void *ctx, uint32_t timeout_ms)
{
    zipkin *z = ctx;
    atomic_fetch_add(&z->requests, 1);
    otelc_body body = otelc__body_of(&z->body);
    return otelc__http_attempt(z->http, &body, timeout_ms, &z->stopper, &z->resp);
}

/* The same retry loop and policy rules as the OTLP exporter. */
static bool send_with_retry(zipkin *z)
{
    otelc_attempt a = otelc__retry_run(&z->policy, z->timeout_ms, z->policy.max_attempts, &z->rng,
                                       &z->stopper, zipkin_attempt, z, &z->retries);
    if (a.verdict == OTELC_RETRY_DONE) return true;
    log_failure(z, a.verdict == OTELC_RETRY_FAIL ? "spans rejected" : "gave up retrying");
    return false;
}

static otelc_export_result zipkin_export(void *self, const otelc_span_data *const *spans, size_t n)
{
    zipkin *z = self;
    if (n == 0) return OTELC_EXPORT_SUCCESS;
    otelc__buf_reset(&z->body);
    bool ok = otelc__zipkin_encode(&z->body, spans, n, z->service) == OTELC_OK;
    if (!ok) otelc__log(OTELC_LOG_ERROR, "Zipkin exporter: out of memory encoding %zu spans", n);
    ok = ok && send_with_retry(z);
    atomic_fetch_add(ok ? &z->exports_ok : &z->exports_failed, 1);
    /* A large batch must not pin its buffer for the exporter's whole life. */
    if (z->body.cap > (4u << 20)) otelc__buf_free(&z->body);
    return ok ? OTELC_EXPORT_SUCCESS : OTELC_EXPORT_FAILURE;
}

static void zipkin_shutdown(void *self)
{
    otelc__stopper_stop(&((zipkin *)self)->stopper);
}

static void zipkin_destroy(void *self)
{
    zipkin *z = self;
    otelc__http_free(z->http);
    otelc__http_response_free(&z->resp);
    otelc__buf_free(&z->body);
    otelc__stopper_destroy(&z->stopper);
    free(z->service);
    free(z);
}

/* In a fork child: as the OTLP exporter does (otlp_exporter.c). */
static void zipkin_after_fork_child(void *self)
{
    zipkin *z = self;
    otelc__http_after_fork_child(z->http);
    otelc__buf_abandon(&z->body);
    otelc__buf_abandon(&z->resp.body);
    otelc__stopper_after_fork_child(&z->stopper);
}

static const otelc_exporter_ops zipkin_ops = {
    .export_spans = zipkin_export,
    .shutdown = zipkin_shutdown,
    .destroy = zipkin_destroy,
    .after_fork_child = zipkin_after_fork_child,
};

/* The name spans without service.name get: the default resource's, as the spec asks. */
static char *default_service(void)
{
    otelc_resource *r = otelc_resource_default(false);
    const otelc_value *v = r ? otelc_resource_get(r, "service.name") : NULL;
    char *s = is_str(v) ? strndup(v->u.str.ptr, v->u.str.len) : strdup("unknown_service");
    otelc_resource_free(r);
    return s;
}

static bool is_http_url(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

static zipkin *zipkin_alloc(const char *url, uint32_t timeout_ms)
{
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    otelc_http_config cfg = {.url = url, .fixed_headers = headers};
    zipkin *z = calloc(1, sizeof(*z));
    if (!z) return NULL;
    otelc__stopper_init(&z->stopper);
    z->timeout_ms = timeout_ms;
    z->policy = (otelc_retry_policy){ZIPKIN_MAX_ATTEMPTS, ZIPKIN_BACKOFF_INITIAL_MS,
                                     ZIPKIN_BACKOFF_MAX_MS, timeout_ms};
    z->rng = otelc__now_ns() ^ (uint64_t)(uintptr_t)z;
    z->service = default_service();
    z->http = otelc__http_new(&cfg);
    if (!z->service || !z->http) {
        zipkin_destroy(z);
        return NULL;
    }
    return z;
}

otelc_exporter *otelc_zipkin_exporter_new(const char *endpoint, uint32_t timeout_ms)
{
    if (!endpoint) endpoint = otelc__zipkin_endpoint_from_env();
    if (!endpoint) endpoint = OTELC_ZIPKIN_DEFAULT_ENDPOINT;
    if (!timeout_ms) timeout_ms = otelc__zipkin_timeout_from_env();
    if (!timeout_ms) timeout_ms = OTELC_ZIPKIN_DEFAULT_TIMEOUT_MS;
    if (!is_http_url(endpoint)) {
        otelc__log(OTELC_LOG_ERROR, "Zipkin exporter: endpoint \"%.200s\" is not an http(s) URL",
                   endpoint);
        return NULL;
    }
    zipkin *z = zipkin_alloc(endpoint, timeout_ms);
    if (!z) {
        otelc__log(OTELC_LOG_ERROR, "Zipkin exporter: cannot be created");
        return NULL;
    }
    otelc_exporter *e = otelc_exporter_new(&zipkin_ops, z);
    if (!e) zipkin_destroy(z);
    return e;
}

#else /* !OTELC_HAVE_CURL */

static const otelc_exporter_ops zipkin_ops = {.export_spans = NULL};

otelc_exporter *otelc_zipkin_exporter_new(const char *endpoint, uint32_t timeout_ms)
{
    (void)endpoint, (void)timeout_ms;
    otelc__log(OTELC_LOG_ERROR, "Zipkin exporter: not available (libotelc built without libcurl)");
    return NULL;
}

#endif
