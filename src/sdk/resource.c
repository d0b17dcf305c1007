/*
 * resource.c - resources: immutable attribute sets, their merge, and the
 * default resource detected from the process and the environment.
 *
 * A resource owns deep copies of everything it holds, so it can outlive
 * the caller's buffers and be shared by every span of a provider. Strings
 * are stored NUL-terminated with exact lengths, as exporters expect.
 */
#define _GNU_SOURCE /* program_invocation_short_name */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct otelc_resource {
    otelc_attr *attrs;
    size_t count;
    size_t cap;
    char *schema_url;
    uint32_t dropped_attr_count; /* received resources only: what the sender dropped */
    otelc_arena arena;           /* keys, values and the schema URL */
};

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    if (n) memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* ---- Building ------------------------------------------------------------------ */

static otelc_resource *resource_alloc(void)
{
    return calloc(1, sizeof(otelc_resource));
}

static ssize_t find_key(const otelc_resource *r, const char *key)
{
    for (size_t i = 0; i < r->count; i++) {
        if (strcmp(r->attrs[i].key, key) == 0) return (ssize_t)i;
    }
    return -1;
}

/*
 * Set key to a copy of value, replacing an existing entry in place (so the
 * first position of a key is kept). Empty keys are ignored, as the spec
 * requires keys to be non-empty.
 */
static bool resource_put(otelc_resource *r, const char *key, const otelc_value *value)
{
    if (!key || !*key || !value) return true;
    /* An unknown value type is skipped like an empty key, not an error. */
    if (value->type < OTELC_VALUE_STRING || value->type > OTELC_VALUE_EMPTY) return true;
    otelc_value copy;
    if (!otelc__value_copy(&r->arena, &copy, value, OTELC_UNLIMITED)) return false;
    ssize_t at = find_key(r, key);
    if (at >= 0) {
        r->attrs[at].value = copy; /* the old copy stays in the arena until the end */
        return true;
    }
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        otelc_attr *a = realloc(r->attrs, cap * sizeof *a);
        if (!a) return false;
        r->attrs = a;
        r->cap = cap;
    }
    char *k = otelc__arena_strndup(&r->arena, key, strlen(key));
    if (!k) return false;
    r->attrs[r->count].key = k;
    r->attrs[r->count].value = copy;
    r->count++;
    return true;
}

static bool put_str(otelc_resource *r, const char *key, const char *value)
{
    otelc_value v = {.type = OTELC_VALUE_STRING, .u.str = {value, strlen(value)}};
    return resource_put(r, key, &v);
}

static bool put_all(otelc_resource *r, const otelc_resource *from)
{
    for (size_t i = 0; from && i < from->count; i++) {
        if (!resource_put(r, from->attrs[i].key, &from->attrs[i].value)) return false;
    }
    return true;
}

void otelc_resource_free(otelc_resource *res)
{
    if (!res) return;
    otelc__arena_free(&res->arena);
    free(res->attrs);
    free(res);
}

otelc_resource *otelc_resource_new(const otelc_attr *attrs, size_t count, const char *schema_url)
{
    otelc_resource *r = resource_alloc();
    if (!r) return NULL;
    for (size_t i = 0; attrs && i < count; i++) {
        if (!resource_put(r, attrs[i].key, &attrs[i].value)) goto fail;
    }
    if (schema_url && *schema_url &&
        !(r->schema_url = otelc__arena_strndup(&r->arena, schema_url, strlen(schema_url))))
        goto fail;
    return r;
fail:
    otelc_resource_free(r);
    return NULL;
}

/*
 * The spec leaves the result undefined when both schema URLs are set and
 * differ; keeping the base's attributes' meaning is impossible then, so the
 * merged resource has none and the conflict is reported.
 */
static const char *merged_schema(const otelc_resource *base, const otelc_resource *update)
{
    const char *a = base ? base->schema_url : NULL;
    const char *b = update ? update->schema_url : NULL;
    if (!a) return b;
    if (!b || strcmp(a, b) == 0) return a;
    otelc__log(OTELC_LOG_WARN, "merging resources with different schema URLs (%s, %s)", a, b);
    return NULL;
}

otelc_resource *otelc_resource_merge(const otelc_resource *base, const otelc_resource *update)
{
    otelc_resource *r = resource_alloc();
    if (!r) return NULL;
    const char *schema = merged_schema(base, update);
    if (!put_all(r, base) || !put_all(r, update)) goto fail;
    if (schema && !(r->schema_url = otelc__arena_strndup(&r->arena, schema, strlen(schema))))
        goto fail;
    return r;
fail:
    otelc_resource_free(r);
    return NULL;
}

const otelc_attr *otelc_resource_attrs(const otelc_resource *res, size_t *count)
{
    if (count) *count = res ? res->count : 0;
    return res ? res->attrs : NULL;
}

const char *otelc_resource_schema_url(const otelc_resource *res)
{
    return res ? res->schema_url : NULL;
}

void otelc__resource_set_dropped_count(otelc_resource *res, uint32_t n)
{
    if (res) res->dropped_attr_count = n;
}

uint32_t otelc__resource_dropped_count(const otelc_resource *res)
{
    return res ? res->dropped_attr_count : 0;
}

const otelc_value *otelc_resource_get(const otelc_resource *res, const char *key)
{
    if (!res || !key) return NULL;
    ssize_t at = find_key(res, key);
    return at >= 0 ? &res->attrs[at].value : NULL;
}

/* ---- OTEL_RESOURCE_ATTRIBUTES -------------------------------------------------------- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/*
 * Percent-decode s[0..n) into a new string; NULL when malformed (or no
 * memory). A decoded NUL is malformed too: stored strings must not hide text
 * behind one.
 */
static char *percent_decode(const char *s, size_t n, size_t *out_len)
{
    char *out = malloc(n + 1);
    if (!out) return NULL;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[len++] = s[i];
            continue;
        }
        if (i + 2 >= n) goto bad;
        int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
        if (hi < 0 || lo < 0) goto bad;
        out[len++] = (char)(hi << 4 | lo);
        i += 2;
    }
    out[len] = '\0';
    if (strlen(out) != len || !otelc__utf8_valid(out, len)) goto bad;
    *out_len = len;
    return out;
bad:
    free(out);
    return NULL;
}

static void trim_ows(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) (*n)--;
}

/*
 * One "key=value" member. Returns 1 when stored, 0 when malformed, -1 when
 * out of memory.
 */
static int parse_member(otelc_resource *r, const char *s, size_t n)
{
    const char *eq = memchr(s, '=', n);
    if (!eq) return 0;
    const char *k = s, *v = eq + 1;
    size_t kn = (size_t)(eq - s), vn = n - kn - 1;
    trim_ows(&k, &kn);
    trim_ows(&v, &vn);

    size_t key_len, value_len;
    char *key = percent_decode(k, kn, &key_len);
    char *value = key ? percent_decode(v, vn, &value_len) : NULL;
    int rc = 0;
    if (key && value && key_len > 0) {
        otelc_value val = {.type = OTELC_VALUE_STRING, .u.str = {value, value_len}};
        rc = resource_put(r, key, &val) ? 1 : -1;
    }
    free(key);
    free(value);
    return rc;
}

otelc_resource *otelc__resource_parse_kv(const char *text, int *bad)
{
    int nbad = 0;
    otelc_resource *r = resource_alloc();
    if (!r) return NULL;

    for (const char *p = text ? text : ""; *p;) {
        size_t n = strcspn(p, ",");
        const char *s = p;
        size_t len = n;
        p += n + (p[n] == ',');
        trim_ows(&s, &len);
        if (len == 0) continue; /* "a=1,,b=2" or a trailing comma */
        int rc = parse_member(r, s, len);
        if (rc < 0) {
            otelc_resource_free(r);
            return NULL;
        }
        if (rc == 0) nbad++;
    }
    if (bad) *bad = nbad;
    return r;
}

/* ---- Detection ------------------------------------------------------------------------ */

static char *exe_path(void)
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return NULL;
    return dup_n(buf, (size_t)n);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* /proc/self/cmdline: the arguments, each NUL-terminated. */
static char *read_cmdline(size_t *len)
{
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            char *bigger = cap < (1u << 20) ? realloc(buf, cap * 2) : NULL;
            if (!bigger) break;
            buf = bigger;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
    }
    close(fd);
    if (buf && n == 0) {
        free(buf);
        buf = NULL;
    }
    *len = n;
    return buf;
}

static bool put_command_args(otelc_resource *r)
{
    size_t len;
    char *buf = read_cmdline(&len);
    if (!buf) return true;
    size_t count = 0;
    for (size_t i = 0; i < len; i++) count += buf[i] == '\0';
    if (len && buf[len - 1] != '\0') count++; /* truncated last argument */

    const char **args = calloc(count ? count : 1, sizeof *args);
    bool ok = args != NULL;
    if (ok) {
        size_t k = 0;
        for (size_t i = 0; i < len && k < count; i += strnlen(buf + i, len - i) + 1) {
            args[k++] = buf + i;
        }
        if (len && buf[len - 1] != '\0') buf[len - 1] = '\0';
        /* A program's own flags often carry secrets: never export them as given. */
        char **safe = otelc__redact_args((char *const *)args, count);
        otelc_value v = {.type = OTELC_VALUE_STRING_ARRAY, .u.array = {safe, safe ? count : 0}};
        ok = resource_put(r, "process.command_args", &v);
        otelc__redact_args_free(safe, count);
    }
    free(args);
    free(buf);
    return ok;
}

static bool put_process(otelc_resource *r)
{
    char *path = exe_path();
    const char *name = path ? base_name(path) : program_invocation_short_name;
    bool ok = true;

    if (name && *name) {
        size_t size = strlen(name) + sizeof "unknown_service:";
        char *service = malloc(size);
        ok = service != NULL;
        if (ok) {
            snprintf(service, size, "unknown_service:%s", name);
            ok = put_str(r, "service.name", service) && put_str(r, "process.executable.name", name);
            free(service);
        }
    } else {
        ok = put_str(r, "service.name", "unknown_service");
    }
    if (ok && path) ok = put_str(r, "process.executable.path", path);
    free(path);

    otelc_value pid = {.type = OTELC_VALUE_INT, .u.i = (int64_t)getpid()};
    return ok && resource_put(r, "process.pid", &pid) && put_command_args(r);
}

static bool put_host(otelc_resource *r)
{
    char host[256];
    if (gethostname(host, sizeof host) != 0) return true;
    host[sizeof host - 1] = '\0';
    return !*host || put_str(r, "host.name", host);
}

static otelc_resource *detected(void)
{
    otelc_resource *r = resource_alloc();
    if (!r) return NULL;
    bool ok = put_str(r, "telemetry.sdk.name", "opentelemetry") &&
              /* The semantic conventions register no value for C; "c" is the natural one. */
              put_str(r, "telemetry.sdk.language", "c") &&
              put_str(r, "telemetry.sdk.version", OTELC_VERSION) && put_process(r) && put_host(r);
    if (ok) return r;
    otelc_resource_free(r);
    return NULL;
}

/* OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME, over r. */
static bool apply_env(otelc_resource *r)
{
    const char *text = otelc__env("OTEL_RESOURCE_ATTRIBUTES");
    if (text) {
        int bad = 0;
        otelc_resource *env = otelc__resource_parse_kv(text, &bad);
        if (!env) return false;
        if (bad)
            otelc__log(OTELC_LOG_WARN,
                       "OTEL_RESOURCE_ATTRIBUTES has %d malformed entr%s; the whole "
                       "variable is ignored",
                       bad, bad == 1 ? "y" : "ies");
        bool ok = bad || put_all(r, env);
        otelc_resource_free(env);
        if (!ok) return false;
    }
    const char *service = otelc__env("OTEL_SERVICE_NAME");
    return !service || put_str(r, "service.name", service);
}

otelc_resource *otelc_resource_default(bool use_env)
{
    otelc_resource *r = detected();
    if (r && use_env && !apply_env(r)) {
        otelc_resource_free(r);
        return NULL;
    }
    return r;
}

void otelc__resource_after_fork_child(otelc_resource *res)
{
    if (!res) return;
    ssize_t i = find_key(res, "process.pid");
    if (i < 0) return;
    otelc_value *v = &res->attrs[i].value;
    if (v->type == OTELC_VALUE_INT && v->u.i == (int64_t)getppid()) v->u.i = (int64_t)getpid();
}
