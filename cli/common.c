/*
 * common.c - what every otelc subcommand shares: the SDK set up for a
 * short-lived command, errors and small parsers.
 *
 * A command line tool must never make the command it wraps slower or less
 * reliable than it would be alone. So the SDK gets a short export timeout
 * (OTELC_CLI_EXPORT_TIMEOUT) that caps the exporters and the batch
 * processor, and shutdown waits no longer than that, nor than
 * OTELC_EXIT_TIMEOUT.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"
#include "config/cli_env.h"
#include "config/config_file.h"
#include "internal.h"

/* Shutdown needs a bound even when OTELC_CLI_EXPORT_TIMEOUT=0 lifts the cap. */
#define UNCAPPED_SHUTDOWN_MS 30000

static otelc_provider *provider;
static uint32_t export_timeout_ms = 2000;

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("otelc: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_usage_error(const char *cmd, const char *what, const char *arg)
{
    if (arg)
        cli_error("%s: %s \"%s\"; see 'otelc %s --help'", cmd, what, arg, cmd);
    else
        cli_error("%s: %s; see 'otelc %s --help'", cmd, what, cmd);
    return CLI_EXIT_USAGE;
}

int cli_output_format(const char *cmd, const char *value, bool *json)
{
    if (strcmp(value, "json") == 0 || strcmp(value, "text") == 0) {
        *json = value[0] == 'j';
        return 0;
    }
    return cli_usage_error(cmd, "--output takes json or text, not", value);
}

static int command_argc;
static char **command_argv;

void cli_set_command_line(int argc, char **argv)
{
    command_argc = argc;
    command_argv = argv;
}

/*
 * The default resource with otelc's command line redacted and, when given,
 * service.name replaced. With OTEL_CONFIG_FILE the file's resource is used
 * as it is (a resource given here would replace it entirely).
 */
static otelc_resource *cli_resource(const char *service)
{
    if (otelc__config_file_path()) return NULL;
    char **safe = command_argv ? otelc__redact_args(command_argv, (size_t)command_argc) : NULL;
    otelc_attr attrs[2];
    size_t n = 0;
    if (safe) {
        attrs[n].key = "process.command_args";
        attrs[n++].value = (otelc_value){.type = OTELC_VALUE_STRING_ARRAY,
                                         .u.array = {(const void *)safe, (size_t)command_argc}};
    }
    if (service && *service) attrs[n++] = OTELC_ATTR_STR("service.name", service);
    otelc_resource *base = otelc_resource_default(true);
    otelc_resource *update = otelc_resource_new(attrs, n, NULL);
    otelc_resource *res = base && update ? otelc_resource_merge(base, update) : NULL;
    otelc_resource_free(base);
    otelc_resource_free(update);
    otelc__redact_args_free(safe, (size_t)command_argc);
    return res;
}

int cli_sdk_start(const char *service)
{
    otelc_provider_options o = {0};
    export_timeout_ms = otelc__cli_export_timeout_from_env();
    otelc__export_timeout_cap_set(export_timeout_ms);
    o.resource = cli_resource(service);
    int rc = otelc_provider_new(&o, &provider);
    if (rc != OTELC_OK) {
        cli_error("tracing is off: %s", otelc_strerror(rc));
        provider = NULL;
        return rc;
    }
    otelc_provider_set_global(provider);
    return OTELC_OK;
}

otelc_tracer *cli_tracer(void)
{
    return otelc_tracer_get("otelc", OTELC_VERSION);
}

bool cli_sdk_active(void)
{
    return provider && !otelc_provider_is_disabled(provider) &&
           atomic_load(&provider->processor_count) > 0;
}

uint32_t cli_export_timeout_ms(void)
{
    return export_timeout_ms ? export_timeout_ms : UNCAPPED_SHUTDOWN_MS;
}

void cli_sdk_finish(void)
{
    if (!provider) return;
    /*
     * Shut down first with our bound, the shorter of the export cap and
     * OTELC_EXIT_TIMEOUT; uninstalling then finds nothing left to wait for.
     */
    uint32_t bound = cli_export_timeout_ms(), exit_ms = otelc__exit_timeout_from_env();
    otelc_provider_shutdown(provider, exit_ms < bound ? exit_ms : bound);
    otelc_provider_set_global(NULL);
    provider = NULL;
}

bool cli_parse_kind(const char *s, otelc_span_kind *out)
{
    static const struct {
        const char *name;
        otelc_span_kind kind;
    } kinds[] = {
        {"internal", OTELC_SPAN_INTERNAL}, {"server", OTELC_SPAN_SERVER},
        {"client", OTELC_SPAN_CLIENT},     {"producer", OTELC_SPAN_PRODUCER},
        {"consumer", OTELC_SPAN_CONSUMER},
    };
    for (size_t i = 0; s && i < sizeof kinds / sizeof *kinds; i++) {
        if (strcasecmp(s, kinds[i].name) == 0) {
            *out = kinds[i].kind;
            return true;
        }
    }
    return false;
}

bool cli_parse_duration(const char *s, uint64_t *ms)
{
    return otelc__parse_duration_ms(s, ms);
}

bool cli_split_attr(const char *kv, char **key, const char **value)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) {
        cli_error("--attr expects key=value, got \"%s\"", kv);
        return false;
    }
    *key = strndup(kv, (size_t)(eq - kv));
    if (!*key) {
        cli_error("out of memory");
        return false;
    }
    *value = eq + 1;
    return true;
}

uint64_t cli_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *cli_option_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0) return NULL;
    if (a[n] == '=') return a + n + 1;
    if (a[n] != '\0') return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}
