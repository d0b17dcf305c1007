/*
 * test_view_spanmetrics.c - the span metrics of GET /metrics
 * (viewer/spanmetrics.h): names, labels, buckets and counts as the
 * OpenTelemetry Collector's spanmetrics connector and Prometheus exporter
 * write them, worked out by hand for a few spans; the series bound and its
 * overflow series; label escaping. Then a real parser reads the text:
 * prometheus_client's (Debian's python3-prometheus-client) - the program
 * exits 77 (skipped) when no Python with that module is found, once the
 * other tests have passed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "spanmetrics.h"

#define MS 1000000ull

static otelc_span_data *add(vw_batch *b, const otelc_resource *res, const char *name, int kind,
                            int status, double ms)
{
    otelc_span_data *sd = vw_batch_add_span(b);
    assert_non_null(sd);
    sd->context.trace_id[15] = 1;
    sd->context.span_id[7] = (uint8_t)b->count;
    sd->name = name;
    sd->kind = (otelc_span_kind)kind;
    sd->status = (otelc_status_code)status;
    sd->start_ns = 1700000000ull * 1000000000ull;
    sd->end_ns = sd->start_ns + (uint64_t)(ms * (double)MS);
    sd->resource = res;
    return sd;
}

static const char quoted_name[] = "say \"hi\"\\\nbye";

/*
 * shop "GET /" server: 1, 3 and 20 ms (unset), 5000 ms (error); db "q"
 * client 0.5 ms (ok); a quoted name; a span without service.name (not
 * counted).
 */
static void fill(vw_spanmetrics *m)
{
    vw_batch b;
    vw_batch_init(&b);
    otelc_attr shop_attrs[] = {OTELC_ATTR_STR("service.name", "shop")};
    otelc_attr db_attrs[] = {OTELC_ATTR_STR("service.name", "db")};
    otelc_attr anon_attrs[] = {OTELC_ATTR_STR("host.name", "box")};
    const otelc_resource *shop = vw_batch_add_resource(&b, shop_attrs, 1, NULL);
    const otelc_resource *db = vw_batch_add_resource(&b, db_attrs, 1, NULL);
    const otelc_resource *anon = vw_batch_add_resource(&b, anon_attrs, 1, NULL);
    add(&b, shop, "GET /", OTELC_SPAN_SERVER, OTELC_STATUS_UNSET, 1);
    add(&b, shop, "GET /", OTELC_SPAN_SERVER, OTELC_STATUS_UNSET, 3);
    add(&b, shop, "GET /", OTELC_SPAN_SERVER, OTELC_STATUS_UNSET, 20);
    add(&b, shop, "GET /", OTELC_SPAN_SERVER, OTELC_STATUS_ERROR, 5000);
    add(&b, db, "q", OTELC_SPAN_CLIENT, OTELC_STATUS_OK, 0.5);
    add(&b, shop, quoted_name, 0, OTELC_STATUS_UNSET, 2); /* 2 ms: in the le="2" bucket */
    add(&b, anon, "lost", OTELC_SPAN_SERVER, OTELC_STATUS_UNSET, 1);
    const vw_batch *bs[] = {&b};
    vw_spanmetrics_add(m, bs, 1);
    vw_batch_free(&b);
}

static char *text_of(vw_spanmetrics *m)
{
    otelc_buf out = {0};
    assert_int_equal(vw_spanmetrics_write(m, &out), 0);
    otelc__buf_append(&out, "", 1);
    return out.data;
}

#define SHOP_GET                                                                                   \
    "{service_name=\"shop\",span_name=\"GET /\",span_kind=\"SPAN_KIND_SERVER\","                   \
    "status_code=\"STATUS_CODE_UNSET\""

static void test_names_labels_and_buckets(void **state)
{
    (void)state;
    vw_spanmetrics *m = vw_spanmetrics_new(0);
    fill(m);
    char *text = text_of(m);
    assert_non_null(strstr(text, "# TYPE traces_span_metrics_calls_total counter\n"));
    assert_non_null(strstr(text, "# TYPE traces_span_metrics_duration_milliseconds histogram\n"));
    assert_non_null(strstr(text, "traces_span_metrics_calls_total" SHOP_GET "} 3\n"));
    assert_non_null(strstr(text, "traces_span_metrics_calls_total{service_name=\"shop\","
                                 "span_name=\"GET /\",span_kind=\"SPAN_KIND_SERVER\","
                                 "status_code=\"STATUS_CODE_ERROR\"} 1\n"));
    assert_non_null(strstr(text, "traces_span_metrics_calls_total{service_name=\"db\","
                                 "span_name=\"q\",span_kind=\"SPAN_KIND_CLIENT\","
                                 "status_code=\"STATUS_CODE_OK\"} 1\n"));
    /* Cumulative buckets at the connector's default bounds: 1 and 3 ms, then 20 ms. */
    const char *const buckets[][2] = {{"2", "1"},   {"4", "2"},     {"6", "2"},
                                      {"8", "2"},   {"10", "2"},    {"50", "3"},
                                      {"100", "3"}, {"15000", "3"}, {"+Inf", "3"}};
    for (size_t i = 0; i < sizeof buckets / sizeof buckets[0]; i++) {
        char line[256];
        snprintf(line, sizeof line,
                 "traces_span_metrics_duration_milliseconds_bucket" SHOP_GET ",le=\"%s\"} %s\n",
                 buckets[i][0], buckets[i][1]);
        if (!strstr(text, line)) fail_msg("missing %s", line);
    }
    assert_non_null(
        strstr(text, "traces_span_metrics_duration_milliseconds_sum" SHOP_GET "} 24\n"));
    assert_non_null(
        strstr(text, "traces_span_metrics_duration_milliseconds_count" SHOP_GET "} 3\n"));
    /* 0.5 ms sums as 0.5; the 5000 ms error is in le="5000" (a bound holds values <= it). */
    assert_non_null(strstr(text, "span_name=\"q\",span_kind=\"SPAN_KIND_CLIENT\","
                                 "status_code=\"STATUS_CODE_OK\"} 0.5\n"));
    assert_non_null(strstr(text, "status_code=\"STATUS_CODE_ERROR\",le=\"2000\"} 0\n"));
    assert_non_null(strstr(text, "status_code=\"STATUS_CODE_ERROR\",le=\"5000\"} 1\n"));
    /* Escapes in label values; an unspecified kind; no series without service.name. */
    assert_non_null(strstr(text, "span_name=\"say \\\"hi\\\"\\\\\\nbye\","
                                 "span_kind=\"SPAN_KIND_UNSPECIFIED\""));
    assert_null(strstr(text, "lost"));
    assert_null(strstr(text, "otel_metric_overflow"));
    /* Series sorted by labels: db before shop. */
    assert_true(strstr(text, "service_name=\"db\"") < strstr(text, "service_name=\"shop\""));
    free(text);
    vw_spanmetrics_free(m);
}

static void test_overflow_series(void **state)
{
    (void)state;
    vw_spanmetrics *m = vw_spanmetrics_new(2);
    fill(m); /* four series, room for two: the others overflow */
    char *text = text_of(m);
    size_t calls = 0;
    for (const char *p = text; (p = strstr(p, "traces_span_metrics_calls_total{")); p++) calls++;
    assert_int_equal(calls, 3);
    /* The first two series made (shop's unset and error), then db's and the quoted one in one. */
    assert_non_null(strstr(text, "traces_span_metrics_calls_total" SHOP_GET "} 3\n"));
    assert_non_null(
        strstr(text, "traces_span_metrics_calls_total{otel_metric_overflow=\"true\"} 2\n"));
    assert_non_null(strstr(text, "traces_span_metrics_duration_milliseconds_count"
                                 "{otel_metric_overflow=\"true\"} 2\n"));
    free(text);
    /* Known series keep counting once full. */
    fill(m);
    text = text_of(m);
    assert_non_null(strstr(text, "traces_span_metrics_calls_total" SHOP_GET "} 6\n"));
    assert_non_null(
        strstr(text, "traces_span_metrics_calls_total{otel_metric_overflow=\"true\"} 4\n"));
    free(text);
    vw_spanmetrics_free(m);
}

static void test_long_labels_are_cut(void **state)
{
    (void)state;
    vw_spanmetrics *m = vw_spanmetrics_new(0);
    char name[3000];
    /* "é" is two bytes: the cut must not split one. */
    for (size_t i = 0; i + 2 < sizeof name; i += 2) memcpy(name + i, "\xc3\xa9", 2);
    name[sizeof name - 2] = '\0';
    vw_batch b;
    vw_batch_init(&b);
    otelc_attr attrs[] = {OTELC_ATTR_STR("service.name", "shop")};
    const otelc_resource *res = vw_batch_add_resource(&b, attrs, 1, NULL);
    add(&b, res, name, OTELC_SPAN_SERVER, 0, 1);
    name[2000] = '\0'; /* the same first 1024 bytes: the same series */
    add(&b, res, name, OTELC_SPAN_SERVER, 0, 1);
    const vw_batch *bs[] = {&b};
    vw_spanmetrics_add(m, bs, 1);
    vw_batch_free(&b);
    char *text = text_of(m);
    const char *label = strstr(text, "span_name=\"");
    assert_non_null(label);
    label += strlen("span_name=\"");
    size_t n = strcspn(label, "\"");
    assert_int_equal(n, VW_SPANMETRICS_MAX_LABEL);
    assert_true(otelc__utf8_valid(label, n));
    assert_non_null(strstr(text, "STATUS_CODE_UNSET\"} 2\n"));
    free(text);
    vw_spanmetrics_free(m);
}

/* ---- A real parser --------------------------------------------------------------------------- */

/*
 * Checks what prometheus_client reads (argv[1]: "full" for fill()'s spans
 * with room for all, "overflow" with room for two series); exits non-zero,
 * with the reason, otherwise.
 */
static const char parse_script[] =
    "import sys\n"
    "from prometheus_client.parser import text_string_to_metric_families\n"
    "fams = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}\n"
    "assert set(fams) == {'traces_span_metrics_calls',\n"
    "                     'traces_span_metrics_duration_milliseconds'}, sorted(fams)\n"
    "calls = fams['traces_span_metrics_calls']\n"
    "dur = fams['traces_span_metrics_duration_milliseconds']\n"
    "assert calls.type == 'counter' and dur.type == 'histogram', (calls.type, dur.type)\n"
    "c, d = 'traces_span_metrics_calls_total', 'traces_span_metrics_duration_milliseconds'\n"
    "def value(fam, name, labels):\n"
    "    hits = [s.value for s in fam.samples if s.name == name and s.labels == labels]\n"
    "    assert len(hits) == 1, (name, labels, hits)\n"
    "    return hits[0]\n"
    "get = {'service_name': 'shop', 'span_name': 'GET /', 'span_kind': 'SPAN_KIND_SERVER',\n"
    "       'status_code': 'STATUS_CODE_UNSET'}\n"
    "assert value(calls, c, get) == 3\n"
    "assert value(dur, d + '_count', get) == 3\n"
    "if sys.argv[1] == 'full':\n"
    "    assert len(calls.samples) == 4, calls.samples\n"
    "    assert value(dur, d + '_bucket', dict(get, le='2')) == 1\n"
    "    assert value(dur, d + '_bucket', dict(get, le='4')) == 2\n"
    "    assert value(dur, d + '_bucket', dict(get, le='50')) == 3\n"
    "    assert value(dur, d + '_bucket', dict(get, le='+Inf')) == 3\n"
    "    assert value(dur, d + '_sum', get) == 24.0\n"
    "    quoted = dict(get, span_name='say \"hi\"\\\\\\nbye', span_kind='SPAN_KIND_UNSPECIFIED')\n"
    "    assert value(calls, c, quoted) == 1\n"
    "else:\n"
    "    overflow = {'otel_metric_overflow': 'true'}\n"
    "    assert len(calls.samples) == 3, calls.samples\n"
    "    assert value(calls, c, overflow) == 2\n"
    "    assert value(dur, d + '_bucket', dict(overflow, le='+Inf')) == 2\n"
    "    assert value(dur, d + '_count', overflow) == 2\n";

/* A Python that has prometheus_client: Debian's first (pyenv's may lack dist-packages). */
static const char *find_python(void)
{
    static const char *const candidates[] = {"/usr/bin/python3", "python3"};
    for (size_t i = 0; i < 2; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s -c 'import prometheus_client.parser' >/dev/null 2>&1",
                 candidates[i]);
        if (system(cmd) == 0) return candidates[i];
    }
    return NULL;
}

static bool python_missing;

/* Run the script on the exposition of fill()'s spans with room for max_series series. */
static void parse_with_python(const char *python, size_t max_series, const char *mode)
{
    vw_spanmetrics *m = vw_spanmetrics_new(max_series);
    fill(m);
    char *text = text_of(m);
    char script_path[] = "/tmp/otelc_spanmetrics_XXXXXX";
    int fd = mkstemp(script_path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(parse_script, f);
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s %s %s", python, script_path, mode);
    FILE *p = popen(cmd, "w");
    assert_non_null(p);
    fputs(text, p);
    int status = pclose(p);
    unlink(script_path);
    free(text);
    vw_spanmetrics_free(m);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_prometheus_client_parses_it(void **state)
{
    (void)state;
    const char *python = find_python();
    if (!python) {
        python_missing = true;
        skip();
    }
    parse_with_python(python, 0, "full");
    parse_with_python(python, 2, "overflow");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_labels_and_buckets),
        cmocka_unit_test(test_overflow_series),
        cmocka_unit_test(test_long_labels_are_cut),
        cmocka_unit_test(test_prometheus_client_parses_it),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    return failed ? failed : python_missing ? 77 : 0;
}
