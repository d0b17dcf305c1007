/*
 * bench.c - `otelc bench`: the SDK's overhead, measured on the user's machine.
 *
 * The measuring itself is in bench_core.c (shared with bench/bench_span.c
 * and `otelc serve`); this file is the command line: options, the table and
 * the JSON document.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_core.h"
#include "cli.h"

/* A slow or unreachable backend bounds the export run's flush by this much. */
#define EXPORT_FLUSH_MS 30000

static const char usage_text[] =
    "usage: otelc bench [--iterations N] [--warmup N] [--threads N] [--output text|json]\n"
    "\n"
    "Measure what tracing costs here: nanoseconds per span (start, three\n"
    "attributes, end) when sampled (batch processor, discarding exporter),\n"
    "unsampled and disabled, on N threads at once. When OTEL_TRACES_EXPORTER\n"
    "(or OTEL_CONFIG_FILE) configures an exporter, also export up to 100000\n"
    "spans through that configuration, every span sampled, and report the\n"
    "spans exported per second and those dropped or failed.\n"
    "\n"
    "  --iterations N   measured spans per thread (default 200000)\n"
    "  --warmup N       spans per thread before measuring (default 20000)\n"
    "  --threads N      threads making spans at once (default 1, at most 64)\n"
    "  --output json    one JSON document on stdout instead of the table\n"
    "\n"
    "Exit status: 0, 2 for a usage error, 3 when the configuration is invalid,\n"
    "70 when the benchmark cannot run.\n"
    "\n"
    "Examples:\n"
    "  otelc bench\n"
    "  otelc bench --threads 4 --iterations 1000000\n"
    "  OTEL_TRACES_EXPORTER=otlp OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 \\\n"
    "      otelc bench --output json\n";

struct bench_opts {
    bench_params params;
    bool json;
};

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9') return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

/* One numeric option; returns -1 when a is not it, else 0 or a usage error. */
static int number_option(int argc, char **argv, int *i, const char *name, uint64_t *out)
{
    bool missing = false;
    const char *v = cli_option_value(argc, argv, i, name, &missing);
    if (missing) return cli_usage_error("bench", "a value is needed after", name);
    if (!v) return -1;
    if (!parse_u64(v, out)) return cli_usage_error("bench", "not a number:", v);
    return 0;
}

/* Returns -1 when parsed, else the exit status to return. */
static int parse_args(int argc, char **argv, struct bench_opts *o)
{
    uint64_t threads = (uint64_t)o->params.threads;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        bool missing = false;
        int rc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return CLI_EXIT_OK;
        } else if ((rc = number_option(argc, argv, &i, "--iterations", &o->params.iterations)) >=
                       0 ||
                   (rc = number_option(argc, argv, &i, "--warmup", &o->params.warmup)) >= 0 ||
                   (rc = number_option(argc, argv, &i, "--threads", &threads)) >= 0) {
            if (rc) return rc;
        } else if ((v = cli_option_value(argc, argv, &i, "--output", &missing))) {
            if ((rc = cli_output_format("bench", v, &o->json))) return rc;
        } else if (missing) {
            return cli_usage_error("bench", "a value is needed after", a);
        } else {
            return cli_usage_error("bench", a[0] == '-' ? "unknown option" : "unexpected argument",
                                   a);
        }
    }
    o->params.threads = threads > BENCH_MAX_THREADS ? 0 : (int)threads;
    char why[128];
    if (!bench_params_check(&o->params, why, sizeof why))
        return cli_usage_error("bench", why, NULL);
    return -1;
}

static void print_row(const char *name, const bench_figure *f, bool pipeline)
{
    printf("%-12s %12.1f %14.0f", name, f->ns_per_span, f->spans_per_s);
    if (pipeline) printf(" %10llu", (unsigned long long)f->dropped);
    printf("\n");
}

static void print_table(const bench_result *r)
{
    const bench_params *p = &r->params;
    printf("otelc bench: %llu spans per thread on %d thread%s, after %llu warm-up spans\n\n",
           (unsigned long long)p->iterations, p->threads, p->threads == 1 ? "" : "s",
           (unsigned long long)p->warmup);
    printf("%-12s %12s %14s %10s\n", "figure", "ns/span", "spans/s", "dropped");
    print_row("sampled", &r->sampled, true);
    print_row("unsampled", &r->unsampled, true);
    print_row("disabled", &r->disabled, false);
    if (!r->export_run.ran) {
        printf("\nexport: no exporter configured (set OTEL_TRACES_EXPORTER to measure one)\n");
        return;
    }
    const bench_figure *f = &r->export_run.figure;
    printf("\nexport (%s): %.0f spans/s exported; %llu of %llu spans exported, %llu dropped, "
           "%llu failed, in %.3f s\n",
           r->export_run.exporter, f->spans_per_s, (unsigned long long)f->exported,
           (unsigned long long)f->spans, (unsigned long long)f->dropped,
           (unsigned long long)f->failed, r->export_run.seconds);
}

static void print_json(const bench_result *r)
{
    char buf[1024];
    size_t n = bench_result_json(r, buf, sizeof buf);
    if (n < sizeof buf) {
        printf("%s\n", buf);
        return;
    }
    char *big = malloc(n + 1);
    if (!big) return;
    bench_result_json(r, big, n + 1);
    printf("%s\n", big);
    free(big);
}

int cli_bench(int argc, char **argv)
{
    struct bench_opts o = {.json = false};
    bench_params_default(&o.params);
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    bench_result r;
    if (bench_run(&o.params, &r) != 0) {
        cli_error("bench: cannot run the benchmark (threads or memory exhausted)");
        return CLI_EXIT_INTERNAL;
    }
    if (bench_run_export(&o.params, EXPORT_FLUSH_MS, &r) != OTELC_OK) {
        cli_error("bench: the tracing configuration is invalid (see above)");
        return CLI_EXIT_INPUT;
    }
    if (o.json)
        print_json(&r);
    else
        print_table(&r);
    return CLI_EXIT_OK;
}
