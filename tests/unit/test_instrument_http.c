/*
 * test_instrument_http.c - the libcurl and libmicrohttpd instrumentations
 * talking to each other on 127.0.0.1 in one process: span names, kinds,
 * attributes, one trace across the HTTP hop, statuses, traceresponse, the
 * application's own headers, uploads in several handler calls, the multi
 * interface, transport errors, and no credential anywhere in the exported
 * data. The whole group runs against a daemon with an internal polling
 * thread and again with a thread per connection.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "otelc/otelc.h"
#include "otelc/testing.h"
#include "otelc/instrument/curl.h"
#include "otelc/instrument/microhttpd.h"

#define UPLOAD_SIZE (256 * 1024)
#define WAIT_MS     5000

/* Secrets placed in URLs; none may reach the exported data. */
#define SECRET_PW    "s3cretPW"
#define SECRET_TOKEN "t0kenVALUE"

/* ---- What the server's handler saw (written on MHD threads) ------------ */

typedef struct seen {
    char x_user[64];
    char traceparent[64];
    char baggage_user[32];
    int traceparents;      /* how many traceparent headers arrived */
    bool span_was_current; /* otelc_span_current() was the server span */
    int app_completions;   /* the application's completion callback, with its pointer */
} seen;

static pthread_mutex_t saw_lock = PTHREAD_MUTEX_INITIALIZER;
static seen saw;

typedef struct fixture {
    otelc_memory_exporter *mem;
    otelc_mhd *wrapper;
    struct MHD_Daemon *daemon;
    unsigned int flags;
    int port;
} fixture;

/* A copy taken under the lock: assertions must not fail while holding it. */
static seen snapshot(void)
{
    seen copy;

    pthread_mutex_lock(&saw_lock);
    copy = saw;
    pthread_mutex_unlock(&saw_lock);
    return copy;
}

static void copy_header(struct MHD_Connection *c, const char *name, char *out, size_t size)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
    snprintf(out, size, "%s", v ? v : "");
}

static otelc_mhd_result count_traceparent(void *cls, enum MHD_ValueKind kind, const char *key,
                                          const char *value)
{
    if (strcasecmp(key, "traceparent") == 0) (*(int *)cls)++;
    return MHD_YES;
}

static void record_request(struct MHD_Connection *c)
{
    const char *bg = otelc_baggage_get(otelc_baggage_current(), "user.id");
    otelc_span *server = otelc_server_span_get(otelc_mhd_current(c));
    int n = 0;

    MHD_get_connection_values(c, MHD_HEADER_KIND, count_traceparent, &n);
    pthread_mutex_lock(&saw_lock);
    copy_header(c, "X-User", saw.x_user, sizeof saw.x_user);
    copy_header(c, "traceparent", saw.traceparent, sizeof saw.traceparent);
    snprintf(saw.baggage_user, sizeof saw.baggage_user, "%s", bg ? bg : "");
    saw.traceparents = n;
    saw.span_was_current = server != NULL && otelc_span_current() == server;
    pthread_mutex_unlock(&saw_lock);
}

static otelc_mhd_result respond(struct MHD_Connection *c, unsigned int status, const char *body,
                                const char *location)
{
    size_t len = strlen(body);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    otelc_mhd_result ret;

    if (location != NULL) MHD_add_response_header(r, "Location", location);
    ret = otelc_mhd_queue_response(c, status, r, (int64_t)len);
    MHD_destroy_response(r);
    return ret;
}

/* POST /upload: MHD delivers the body over several calls. */
static otelc_mhd_result upload(struct MHD_Connection *c, const char *upload_data,
                               size_t *upload_size, void **con_cls)
{
    size_t *got = *con_cls;
    char body[64];

    if (got == NULL) {
        *con_cls = got = calloc(1, sizeof *got);
        return got ? MHD_YES : MHD_NO;
    }
    if (*upload_size > 0) {
        *got += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    otelc_mhd_set_route(c, "/upload");
    snprintf(body, sizeof body, "got %zu", *got);
    return respond(c, 201, body, NULL);
}

static otelc_mhd_result app_handler(void *cls, struct MHD_Connection *c, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_size, void **con_cls)
{
    if (strcmp(url, "/upload") == 0) return upload(c, upload_data, upload_size, con_cls);
    record_request(c);
    if (strncmp(url, "/users/", 7) == 0) {
        otelc_mhd_set_route(c, "/users/{id}");
        return respond(c, 200, url + 7, NULL);
    }
    if (strcmp(url, "/fail") == 0) {
        otelc_mhd_set_route(c, "/fail");
        return respond(c, 500, "boom", NULL);
    }
    if (strcmp(url, "/redirect") == 0) return respond(c, 302, "", "/users/9");
    return respond(c, 404, "no such page", NULL);
}

static void app_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                          enum MHD_RequestTerminationCode toe)
{
    if (*con_cls == NULL) return;
    free(*con_cls);
    *con_cls = NULL;
    pthread_mutex_lock(&saw_lock);
    saw.app_completions++;
    pthread_mutex_unlock(&saw_lock);
}

/* ---- Fixture: provider, memory exporter, daemon on 127.0.0.1 ----------- */

static int start(void **state, unsigned int flags)
{
    fixture *f = calloc(1, sizeof *f);
    otelc_exporter *exp = NULL;
    otelc_processor *proc;
    otelc_provider *prov = NULL;
    otelc_mhd_options mo = {.completed = app_completed, .traceresponse = true};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

    f->mem = otelc_memory_exporter_new(&exp);
    proc = otelc_simple_processor_new(exp);
    otelc_provider_options o = {.no_env = true, .processors = &proc, .processor_count = 1};
    assert_int_equal(otelc_provider_new(&o, &prov), OTELC_OK);
    otelc_provider_set_global(prov);
    f->wrapper = otelc_mhd_new(app_handler, NULL, &mo);
    f->flags = flags;
    f->daemon = MHD_start_daemon(flags, 0, NULL, NULL, otelc_mhd_handler, f->wrapper,
                                 MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED,
                                 otelc_mhd_completed, f->wrapper, MHD_OPTION_END);
    assert_non_null(f->daemon);
    f->port = MHD_get_daemon_info(f->daemon, MHD_DAEMON_INFO_BIND_PORT)->port;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    *state = f;
    return 0;
}

static int start_polling_thread(void **state)
{
    return start(state, MHD_USE_INTERNAL_POLLING_THREAD);
}

static int start_thread_per_connection(void **state)
{
    return start(state, MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD);
}

static int stop(void **state)
{
    fixture *f = *state;

    MHD_stop_daemon(f->daemon);
    otelc_mhd_free(f->wrapper);
    otelc_provider_set_global(NULL);
    otelc_memory_exporter_free(f->mem);
    curl_global_cleanup();
    free(f);
    return 0;
}

static int reset(void **state)
{
    fixture *f = *state;
    otelc_memory_exporter_reset(f->mem);
    return 0;
}

/* ---- Client side ------------------------------------------------------- */

typedef struct reply {
    char body[256];
    size_t len;
    char traceresponse[64];
} reply;

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    reply *r = user;
    size_t take = size * n;

    if (take > sizeof r->body - 1 - r->len) take = sizeof r->body - 1 - r->len;
    memcpy(r->body + r->len, data, take);
    r->len += take;
    r->body[r->len] = '\0';
    return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
    reply *r = user;
    size_t len = size * n;
    static const char name[] = "traceresponse:";

    if (len > sizeof name && strncasecmp(data, name, sizeof name - 1) == 0)
        snprintf(r->traceresponse, sizeof r->traceresponse, "%.55s", data + sizeof name);
    return len;
}

static CURL *client(const fixture *f, const char *userinfo, const char *path, reply *r)
{
    CURL *h = curl_easy_init();
    char url[512];

    memset(r, 0, sizeof *r);
    snprintf(url, sizeof url, "http://%s127.0.0.1:%d%s", userinfo, f->port, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "otelc-test/1.0");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    return h;
}

/* ---- Checks on exported spans ------------------------------------------ */

static const otelc_span_data *find(fixture *f, otelc_span_kind kind, const char *name)
{
    for (size_t i = 0; i < otelc_memory_exporter_count(f->mem); i++) {
        const otelc_span_data *sd = otelc_memory_exporter_get(f->mem, i);
        if (sd->kind == kind && strcmp(sd->name, name) == 0) return sd;
    }
    fail_msg("no %s span named '%s'", kind == OTELC_SPAN_SERVER ? "SERVER" : "CLIENT", name);
    return NULL;
}

static void assert_attr(const otelc_span_data *sd, const char *key, const char *want)
{
    const char *got = otelc_testing_attr_str(sd, key);
    if (got == NULL) fail_msg("%s: no %s", sd->name, key);
    assert_string_equal(got, want);
}

static int64_t attr_int(const otelc_span_data *sd, const char *key)
{
    int64_t v = -1;
    if (!otelc_testing_attr_int(sd, key, &v)) fail_msg("%s: no %s", sd->name, key);
    return v;
}

static void assert_parent(const otelc_span_data *parent, const otelc_span_data *child)
{
    char why[256];
    if (!otelc_testing_is_parent(parent, child, why, sizeof why)) fail_msg("%s", why);
}

static void assert_clean_value(const otelc_value *v, const char *where)
{
    const char *s = v->u.str.ptr;

    if (v->type != OTELC_VALUE_STRING) return;
    if (strstr(s, SECRET_PW) || strstr(s, SECRET_TOKEN) || strstr(s, "alice"))
        fail_msg("secret in %s: %s", where, s);
}

/* Every string the exporter holds: names, attributes, events, status. */
static void assert_no_secrets(fixture *f)
{
    for (size_t i = 0; i < otelc_memory_exporter_count(f->mem); i++) {
        const otelc_span_data *sd = otelc_memory_exporter_get(f->mem, i);
        otelc_value name = {.type = OTELC_VALUE_STRING, .u.str = {sd->name, 0}};
        assert_clean_value(&name, "a span name");
        for (uint32_t a = 0; a < sd->attr_count; a++)
            assert_clean_value(&sd->attrs[a].value, sd->attrs[a].key);
        for (uint32_t e = 0; e < sd->event_count; e++)
            for (uint32_t a = 0; a < sd->events[e].attr_count; a++)
                assert_clean_value(&sd->events[e].attrs[a].value, sd->events[e].attrs[a].key);
        if (sd->status_message) {
            otelc_value m = {.type = OTELC_VALUE_STRING, .u.str = {sd->status_message, 0}};
            assert_clean_value(&m, "a status message");
        }
    }
}

/* Server spans end in MHD's completion callback, maybe after the client. */
static void wait_spans(fixture *f, size_t n)
{
    if (!otelc_memory_exporter_wait(f->mem, n, WAIT_MS))
        fail_msg("%zu spans, wanted %zu", otelc_memory_exporter_count(f->mem), n);
}

/* ---- Tests ------------------------------------------------------------- */

/* One trace across the hop: parentage, names, attributes, traceresponse. */
static void test_one_trace(void **state)
{
    fixture *f = *state;
    otelc_tracer *t = otelc_tracer_get("test", NULL);
    otelc_span *root = otelc_span_start(t, "root", OTELC_SPAN_INTERNAL);
    otelc_scope sc = otelc_span_activate(root);
    reply r;
    CURL *h = client(f, "alice:" SECRET_PW "@", "/users/7?q=1&token=" SECRET_TOKEN, &r);
    char url[256], tr[64];

    assert_int_equal(otelc_curl_perform(h, NULL), CURLE_OK);
    otelc_scope_exit(sc);
    otelc_span_end(root);
    curl_easy_cleanup(h);
    wait_spans(f, 3);
    const otelc_span_data *rs = otelc_testing_find(f->mem, "root");
    const otelc_span_data *cs = find(f, OTELC_SPAN_CLIENT, "GET");
    const otelc_span_data *ss = find(f, OTELC_SPAN_SERVER, "GET /users/{id}");
    assert_parent(rs, cs);
    assert_parent(cs, ss);
    assert_true(ss->parent_is_remote);

    snprintf(url, sizeof url, "http://REDACTED:REDACTED@127.0.0.1:%d/users/7?q=1&token=REDACTED",
             f->port);
    assert_attr(cs, "url.full", url);
    assert_attr(cs, "http.request.method", "GET");
    assert_attr(cs, "server.address", "127.0.0.1");
    assert_int_equal(attr_int(cs, "server.port"), f->port);
    assert_int_equal(attr_int(cs, "http.response.status_code"), 200);
    assert_attr(cs, "network.protocol.version", "1.1");
    assert_int_equal(attr_int(cs, "http.response.body.size"), 1);
    assert_null(otelc_span_data_attr(cs, "error.type"));
    assert_int_equal(cs->status, OTELC_STATUS_UNSET);

    assert_attr(ss, "http.request.method", "GET");
    assert_attr(ss, "http.route", "/users/{id}");
    assert_attr(ss, "url.path", "/users/7");
    assert_attr(ss, "url.query", "q=1&token=REDACTED");
    assert_attr(ss, "url.scheme", "http");
    assert_attr(ss, "client.address", "127.0.0.1");
    assert_attr(ss, "user_agent.original", "otelc-test/1.0");
    assert_attr(ss, "server.address", "127.0.0.1");
    assert_int_equal(attr_int(ss, "server.port"), f->port);
    assert_attr(ss, "network.protocol.version", "1.1");
    assert_int_equal(attr_int(ss, "http.response.status_code"), 200);
    assert_int_equal(attr_int(ss, "http.response.body.size"), 1);
    assert_int_equal(ss->status, OTELC_STATUS_UNSET);

    otelc_traceparent_format(&ss->context, tr);
    assert_string_equal(r.traceresponse, tr);
    seen now = snapshot();
    assert_true(now.span_was_current);
    assert_int_equal(now.traceparents, 1);
    assert_no_secrets(f);
}

/* Server spans are ERROR only on 5xx; client spans on 4xx and 5xx. */
static void test_statuses(void **state)
{
    fixture *f = *state;
    reply r;
    CURL *h = client(f, "", "/nothing-here", &r);

    assert_int_equal(otelc_curl_perform(h, NULL), CURLE_OK);
    curl_easy_setopt(h, CURLOPT_URL, "http://127.0.0.1/fail");
    curl_easy_setopt(h, CURLOPT_PORT, (long)f->port);
    assert_int_equal(otelc_curl_perform(h, NULL), CURLE_OK);
    curl_easy_cleanup(h);
    wait_spans(f, 4);

    const otelc_span_data *s404 = find(f, OTELC_SPAN_SERVER, "GET");
    assert_int_equal(attr_int(s404, "http.response.status_code"), 404);
    assert_int_equal(s404->status, OTELC_STATUS_UNSET);
    assert_null(otelc_span_data_attr(s404, "error.type"));
    assert_null(otelc_span_data_attr(s404, "http.route"));
    const otelc_span_data *c404 = otelc_testing_find_attr(f->mem, "error.type", "404");
    assert_non_null(c404);
    assert_int_equal(c404->kind, OTELC_SPAN_CLIENT);
    assert_int_equal(c404->status, OTELC_STATUS_ERROR);

    const otelc_span_data *s500 = find(f, OTELC_SPAN_SERVER, "GET /fail");
    assert_int_equal(s500->status, OTELC_STATUS_ERROR);
    assert_attr(s500, "error.type", "500");
    for (size_t i = 0; i < otelc_memory_exporter_count(f->mem); i++) {
        const otelc_span_data *sd = otelc_memory_exporter_get(f->mem, i);
        if (sd->kind != OTELC_SPAN_CLIENT || attr_int(sd, "http.response.status_code") != 500)
            continue;
        assert_int_equal(sd->status, OTELC_STATUS_ERROR);
        assert_attr(sd, "error.type", "500");
        assert_parent(sd, s500);
    }
}

/* The application's headers go out, stale trace headers do not, baggage
 * crosses, and the handle gets its own list back afterwards. */
static void test_user_headers(void **state)
{
    fixture *f = *state;
    reply r;
    CURL *h = client(f, "", "/users/1", &r);
    struct curl_slist *hdrs = curl_slist_append(NULL, "X-User: bob");
    otelc_baggage *bg = otelc_baggage_set(NULL, "user.id", "42", NULL);
    otelc_context *ctx = otelc_context_new(NULL, bg);
    otelc_scope sc = otelc_context_attach(ctx);
    char want[64];

    hdrs = curl_slist_append(hdrs, "Traceparent: 00-0af7651916cd43dd8448eb211c80319c-"
                                   "b7ad6b7169203331-01");
    assert_int_equal(otelc_curl_perform(h, hdrs), CURLE_OK);
    otelc_scope_exit(sc);
    wait_spans(f, 2);
    const otelc_span_data *cs = find(f, OTELC_SPAN_CLIENT, "GET");
    otelc_traceparent_format(&cs->context, want);
    seen now = snapshot();
    assert_string_equal(now.x_user, "bob");
    assert_string_equal(now.traceparent, want);
    assert_int_equal(now.traceparents, 1);
    assert_string_equal(now.baggage_user, "42");

    /* Untraced reuse: the user's list (with its stale traceparent) is back. */
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    now = snapshot();
    assert_string_equal(now.x_user, "bob");
    assert_string_equal(now.traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    /* Its server span ends after the reply; wait so it cannot land in the next test. */
    wait_spans(f, 3);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    otelc_context_release(ctx);
    otelc_baggage_release(bg);
}

/* A large POST reaches the handler in several calls; sizes on both sides. */
static void test_upload(void **state)
{
    fixture *f = *state;
    reply r;
    CURL *h = client(f, "", "/upload", &r);
    char *data = malloc(UPLOAD_SIZE);
    int before;

    memset(data, 'x', UPLOAD_SIZE);
    before = snapshot().app_completions;
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)UPLOAD_SIZE);
    assert_int_equal(otelc_curl_perform(h, NULL), CURLE_OK);
    curl_easy_cleanup(h);
    free(data);
    wait_spans(f, 2);
    assert_string_equal(r.body, "got 262144");

    const otelc_span_data *ss = find(f, OTELC_SPAN_SERVER, "POST /upload");
    assert_int_equal(attr_int(ss, "http.request.body.size"), UPLOAD_SIZE);
    assert_int_equal(attr_int(ss, "http.response.body.size"), 10);
    assert_int_equal(attr_int(ss, "http.response.status_code"), 201);
    /* Named at the end: libcurl only knows a POSTFIELDS request is a POST then. */
    const otelc_span_data *cs = find(f, OTELC_SPAN_CLIENT, "POST");
    assert_attr(cs, "http.request.method", "POST");
    assert_int_equal(attr_int(cs, "http.request.body.size"), UPLOAD_SIZE);
    assert_parent(cs, ss);
    assert_int_equal(snapshot().app_completions, before + 1);
}

/* Redirects followed by libcurl: one client span, resend count, final URL. */
static void test_redirect(void **state)
{
    fixture *f = *state;
    reply r;
    CURL *h = client(f, "", "/redirect?sig=" SECRET_TOKEN, &r);
    char url[128];

    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    assert_int_equal(otelc_curl_perform(h, NULL), CURLE_OK);
    curl_easy_cleanup(h);
    wait_spans(f, 3);
    const otelc_span_data *cs = find(f, OTELC_SPAN_CLIENT, "GET");
    assert_int_equal(attr_int(cs, "http.request.resend_count"), 1);
    assert_int_equal(attr_int(cs, "http.response.status_code"), 200);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/users/9", f->port);
    assert_attr(cs, "url.full", url);
    assert_parent(cs, find(f, OTELC_SPAN_SERVER, "GET /users/{id}"));
    assert_parent(cs, find(f, OTELC_SPAN_SERVER, "GET"));
    assert_no_secrets(f);
}

static void run_multi(CURLM *m, int expected)
{
    int running = 1, done = 0, left;

    while (done < expected) {
        CURLMsg *msg;
        assert_int_equal(curl_multi_perform(m, &running), CURLM_OK);
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            assert_true(otelc_curl_multi_done(msg));
            assert_int_equal(msg->data.result, CURLE_OK);
            done++;
        }
        if (done < expected) curl_multi_poll(m, NULL, 0, 100, NULL);
    }
}

/* Transfers run by a multi handle, each ended by its CURLMSG_DONE. */
static void test_multi(void **state)
{
    fixture *f = *state;
    CURLM *m = curl_multi_init();
    CURL *h[3];
    reply r[3];
    char path[32];

    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "/users/%d?api_key=" SECRET_TOKEN, i);
        h[i] = client(f, "", path, &r[i]);
        assert_int_equal(otelc_curl_multi_add(m, h[i], NULL), CURLM_OK);
    }
    run_multi(m, 3);
    for (int i = 0; i < 3; i++) {
        curl_multi_remove_handle(m, h[i]);
        curl_easy_cleanup(h[i]);
        assert_int_equal(r[i].body[0], '0' + i);
    }
    curl_multi_cleanup(m);
    wait_spans(f, 6);
    for (size_t i = 0; i < 6; i++) {
        const otelc_span_data *sd = otelc_memory_exporter_get(f->mem, i), *peer = NULL;
        if (sd->kind != OTELC_SPAN_SERVER) continue;
        for (size_t j = 0; j < 6; j++) {
            const otelc_span_data *c = otelc_memory_exporter_get(f->mem, j);
            if (c->kind == OTELC_SPAN_CLIENT && otelc_testing_is_parent(c, sd, NULL, 0)) peer = c;
        }
        assert_non_null(peer);
        assert_int_equal(attr_int(peer, "http.response.status_code"), 200);
    }
    assert_int_equal(otelc_testing_count_named(f->mem, "GET /users/{id}"), 3);
    assert_no_secrets(f);
}

/* A refused connection: CLIENT span ERROR with the CURLcode name. */
static void test_transport_error(void **state)
{
    fixture *f = *state;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char url[64];
    reply r;
    CURL *h;

    /* A port that was free a moment ago and now has no listener. */
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    h = client(f, "", "/", &r);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", ntohs(sa.sin_port));
    curl_easy_setopt(h, CURLOPT_URL, url);
    assert_int_equal(otelc_curl_perform(h, NULL), CURLE_COULDNT_CONNECT);
    curl_easy_cleanup(h);
    wait_spans(f, 1);
    const otelc_span_data *cs = find(f, OTELC_SPAN_CLIENT, "GET");
    assert_int_equal(cs->status, OTELC_STATUS_ERROR);
    assert_attr(cs, "error.type", "CURLE_COULDNT_CONNECT");
    assert_null(otelc_span_data_attr(cs, "http.response.status_code"));
    assert_string_equal(otelc_curl_code_name(CURLE_OPERATION_TIMEDOUT), "CURLE_OPERATION_TIMEDOUT");
    assert_string_equal(otelc_curl_code_name((CURLcode)9999), "_OTHER");
}

/* One request with extra filler headers and copies of the same traceparent, named name. */
static const otelc_span_data *serve_headers(fixture *f, int extra, int copies, const char *name)
{
    reply r;
    CURL *h = client(f, "", "/users/1", &r);
    struct curl_slist *hdrs = NULL;
    char line[128];

    for (int i = 0; i < extra; i++) {
        snprintf(line, sizeof line, "X-Filler-%d: %d", i, i);
        hdrs = curl_slist_append(hdrs, line);
    }
    for (int i = 0; i < copies; i++) {
        snprintf(line, sizeof line, "%s: %s", name,
                 "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        hdrs = curl_slist_append(hdrs, line);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    otelc_memory_exporter_reset(f->mem);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    wait_spans(f, 1);
    return find(f, OTELC_SPAN_SERVER, "GET /users/{id}");
}

/*
 * The wrapper reads a request's headers in one pass into room for a few
 * dozen, and asks MHD for each one past that: either way the incoming
 * parent is found, a second traceparent makes the request untraced, and
 * the headers the attributes come from are read.
 */
static void test_header_count(void **state)
{
    fixture *f = *state;
    for (int extra = 0; extra <= 40; extra += 40) {
        const otelc_span_data *ss = serve_headers(f, extra, 1, "traceparent");
        assert_true(ss->has_parent);
        assert_memory_equal(ss->parent_span_id, "\xb7\xad\x6b\x71\x69\x20\x33\x31", 8);
        assert_attr(ss, "user_agent.original", "otelc-test/1.0");
        assert_attr(ss, "server.address", "127.0.0.1");
        ss = serve_headers(f, extra, 2, "traceparent");
        assert_false(ss->has_parent);
        assert_attr(ss, "user_agent.original", "otelc-test/1.0");
        /* Header names match in any case (RFC 9110), and a name that differs does not. */
        ss = serve_headers(f, extra, 1, "TraceParent");
        assert_true(ss->has_parent);
        assert_memory_equal(ss->parent_span_id, "\xb7\xad\x6b\x71\x69\x20\x33\x31", 8);
        ss = serve_headers(f, extra, 1, "traceparenT-x");
        assert_false(ss->has_parent);
        ss = serve_headers(f, extra, 1, "tracepa-ent");
        assert_false(ss->has_parent);
        ss = serve_headers(f, extra, 1, "tracepar"); /* a name the one asked for starts with */
        assert_false(ss->has_parent);
    }
}

/* Send request (whole, with its blank line) to the server and read until it closes. */
static void raw_request(const fixture *f, const char *request)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)f->port)};
    char buf[4096];
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(send(fd, request, strlen(request), 0), (ssize_t)strlen(request));
    while (recv(fd, buf, sizeof buf, 0) > 0) continue;
    close(fd);
}

/*
 * server.address and server.port come from the Host header, whose name
 * matches in any case; names that only start or end like it do not count,
 * though they come first.
 */
static void test_host_header(void **state)
{
    fixture *f = *state;
    otelc_memory_exporter_reset(f->mem);
    raw_request(f, "GET /users/1 HTTP/1.1\r\n"
                   "Hosts: longer.example\r\n"
                   "Hos: short.example\r\n"
                   "Xost: other.example\r\n"
                   "hOST: Example.Org:8443\r\n"
                   "Connection: close\r\n\r\n");
    wait_spans(f, 1);
    const otelc_span_data *ss = find(f, OTELC_SPAN_SERVER, "GET /users/{id}");
    assert_attr(ss, "server.address", "Example.Org");
    assert_int_equal(attr_int(ss, "server.port"), 8443);
}

#define TEST(fn) cmocka_unit_test_setup(fn, reset)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_one_trace),       TEST(test_statuses),     TEST(test_user_headers),
        TEST(test_upload),          TEST(test_redirect),     TEST(test_multi),
        TEST(test_transport_error), TEST(test_header_count), TEST(test_host_header),
    };
    int failed =
        cmocka_run_group_tests_name("internal polling thread", tests, start_polling_thread, stop);
    failed += cmocka_run_group_tests_name("thread per connection", tests,
                                          start_thread_per_connection, stop);
    return failed;
}
