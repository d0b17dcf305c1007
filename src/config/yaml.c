/*
 * yaml.c - the declarative configuration file named by OTEL_CONFIG_FILE.
 *
 * Three steps, so that an invalid file never starts anything:
 *
 *   1. libyaml's event parser builds a small tree of mappings, sequences
 *      and scalars with line numbers. Scalar values (never mapping keys)
 *      go through ${...} substitution here, before they are typed, as the
 *      data model requires. Anchors and aliases are resolved by sharing
 *      nodes; the expanded size and the depth are bounded.
 *   2. The tree is checked against the supported subset of the schema
 *      (file_format 1.0). Side-effect-free objects (sampler, propagator,
 *      resource, limits) are created on the way; exporters and processors
 *      are only described. Every problem is recorded, with file, line, key
 *      path and what was expected, and checking goes on to find the rest.
 *   3. Only when there was no error (and the file does not disable the
 *      SDK) are exporters and processors created.
 *
 * Scalars are typed with the YAML 1.2 core schema: a plain scalar may be
 * null, a boolean, an integer or a float; a quoted one is always a string.
 * A string setting accepts any scalar as written (port: 4318 is "4318").
 * Keys otelc does not know are reported as warnings and ignored: the
 * top-level schema admits other keys, newer minor versions add keys, and a
 * file shared with other SDKs must not stop this one. Plugin names (a
 * sampler, exporter, processor or propagator otelc does not have) are
 * errors, as the spec requires for unregistered components.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_file.h"

#define MAX_MESSAGES 32

const char *otelc__config_file_path(void)
{
    return otelc__env("OTEL_CONFIG_FILE");
}

/* Append one line to a message list; past MAX_MESSAGES lines only count. */
static void append_line(char **buf, int *count, const char *line)
{
    (*count)++;
    if (*count > MAX_MESSAGES) return;
    size_t old = *buf ? strlen(*buf) : 0, n = strlen(line);
    char *p = realloc(*buf, old + n + 2);
    if (!p) return;
    memcpy(p + old, line, n);
    p[old + n] = '\n';
    p[old + n + 1] = '\0';
    *buf = p;
}

static void free_objects(otelc_file_config *c)
{
    otelc_provider_options *o = &c->options;
    otelc_resource_free(o->resource);
    otelc_sampler_free(o->sampler);
    otelc_propagator_free(o->propagator);
    for (size_t i = 0; o->processors && i < o->processor_count; i++)
        otelc_processor_free(o->processors[i]);
    memset(o, 0, sizeof *o);
    o->no_env = true;
}

void otelc__config_file_free(otelc_file_config *c)
{
    if (!c) return;
    free_objects(c);
    free(c->errors);
    free(c->warnings);
    c->errors = c->warnings = NULL;
}

/* The whole file in memory; sizes beyond this are not configuration files. */
#define MAX_FILE_BYTES (4u << 20)

static char *read_file(const char *path, size_t *len, char *why, size_t why_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_size, "cannot open: %s", strerror(errno));
        return NULL;
    }
    char *buf = malloc(MAX_FILE_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_FILE_BYTES + 1, f) : 0;
    bool failed = buf && ferror(f);
    fclose(f);
    if (!buf || failed || n > MAX_FILE_BYTES) {
        snprintf(why, why_size, "%s",
                 !buf     ? "out of memory"
                 : failed ? "read error"
                          : "larger than 4 MiB");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int otelc__config_file_load(const char *path, otelc_subst_lookup lookup, void *user, unsigned flags,
                            otelc_file_config *out)
{
    char why[160], line[1200];
    size_t len = 0;
    char *text = read_file(path, &len, why, sizeof why);
    if (!text) {
        memset(out, 0, sizeof *out);
        out->options.no_env = true;
        snprintf(line, sizeof line, "%.1000s: %s", path, why);
        append_line(&out->errors, &out->error_count, line);
        return OTELC_ERR_CONFIG;
    }
    int rc = otelc__config_file_parse(path, text, len, lookup, user, flags, out);
    free(text);
    return rc;
}

/* ---- For otelc_provider_new() --------------------------------------------------------- */

static const char *env_lookup(const char *name, void *user)
{
    (void)user;
    return getenv(name);
}

/*
 * The diagnostic log passes about ten messages a second per level. A short
 * list goes out one problem per message; a longer one is packed into
 * multi-line messages (under the log's 1024-byte limit) so none is dropped.
 */
static void log_lines(otelc_log_level level, const char *text, int count)
{
    bool pack = count > 8;
    for (const char *p = text; p && *p;) {
        size_t n = strcspn(p, "\n");
        while (pack && p[n] == '\n' && p[n + 1] && n + 1 + strcspn(p + n + 1, "\n") < 900)
            n += 1 + strcspn(p + n + 1, "\n");
        otelc__log(level, "%.*s", (int)n, p);
        p += n + (p[n] == '\n');
    }
    if (count > MAX_MESSAGES)
        otelc__log(level, "... and %d more %s", count - MAX_MESSAGES,
                   level == OTELC_LOG_ERROR ? "errors" : "warnings");
}

/* The caller's objects win over the file's. */
static void merge_user(const otelc_provider_options *user, otelc_file_config *fc)
{
    otelc_provider_options *o = &fc->options;
    if (user->resource) {
        otelc_resource_free(o->resource);
        o->resource = user->resource;
    }
    if (user->sampler) {
        otelc_sampler_free(o->sampler);
        o->sampler = user->sampler;
    }
    if (user->propagator) {
        otelc_propagator_free(o->propagator);
        o->propagator = user->propagator;
    }
    if (user->limits) o->limits = user->limits;
    if (user->processors) {
        for (size_t i = 0; i < o->processor_count; i++) otelc_processor_free(o->processors[i]);
        o->processors = user->processors;
        o->processor_count = user->processor_count;
    }
    /*
     * Every field is set, so nothing else comes from the environment; what
     * no_env still governs is TRACEPARENT, a context carrier rather than
     * configuration, which a child process must keep following.
     */
    o->no_env = false;
    o->ignore_env_parent = user->ignore_env_parent;
}

int otelc__config_file_use(const otelc_provider_options *user, otelc_file_config *fc)
{
    const char *path = otelc__config_file_path();
    int rc = otelc__config_file_load(path, env_lookup, NULL, 0, fc);
    log_lines(OTELC_LOG_ERROR, fc->errors, fc->error_count);
    log_lines(OTELC_LOG_WARN, fc->warnings, fc->warning_count);
    if (rc != OTELC_OK) {
        otelc__log(OTELC_LOG_ERROR, "OTEL_CONFIG_FILE=%s is invalid; the SDK was not started",
                   path);
        otelc__config_file_free(fc);
        return rc;
    }
    if (fc->has_log_level) otelc_log_set_level(fc->log_level);
    free(fc->errors);
    free(fc->warnings);
    fc->errors = fc->warnings = NULL;
    merge_user(user, fc);
    return OTELC_OK;
}

#ifdef OTELC_HAVE_YAML
#include <yaml.h>

/* ---- The tree --------------------------------------------------------------------- */

typedef enum node_kind { NODE_SCALAR, NODE_MAP, NODE_SEQ } node_kind;

typedef struct node {
    node_kind kind;
    int line;       /* 1-based */
    bool is_string; /* quoted, block or !!str: never typed */
    bool is_null;   /* a plain null after substitution */
    bool used;      /* keys: read by the checker */
    bool reported;  /* its substitution failed: no second message about it */
    char *text;     /* scalars: NUL-terminated (after substitution) */
    size_t len;
    struct node **kids; /* sequence items, or mapping key, value, key, value... */
    size_t count;
    size_t cap;
    size_t weight; /* nodes reachable, counting every alias use */
    struct node *all_next;
} node;

/* Bounds that keep hostile files (alias bombs, deep nesting) cheap. */
#define MAX_DEPTH   64
#define MAX_WEIGHT  100000
#define MAX_ANCHORS 1000

typedef struct anchor {
    char *name;
    node *target;
} anchor;

/* A message kept until the end, when they are sorted by line. */
typedef struct message {
    int line;
    bool error;
    char *text;
} message;

typedef struct cfg {
    const char *file;
    message msgs[2 * MAX_MESSAGES];
    size_t msg_count;
    otelc_file_config *out;
    otelc_subst_lookup lookup;
    void *user;
    char path[512];
    size_t path_len;
    /* tree building */
    node *all;
    node *root;
    node *stack[MAX_DEPTH];
    char *stack_anchor[MAX_DEPTH]; /* a collection's anchor, registered at its end */
    size_t depth;
    size_t events; /* nodes and alias uses so far */
    anchor *anchors;
    size_t anchor_count;
    size_t anchor_cap;
    bool broken; /* the tree is incomplete: stop after step 1 */
} cfg;

/* ---- Messages ------------------------------------------------------------------------ */

static void vmessage(cfg *c, bool error, const node *n, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void vmessage(cfg *c, bool error, const node *n, const char *fmt, va_list ap)
{
    char text[600], line[1200];
    int at = n ? n->line : 0;
    int *count = error ? &c->out->error_count : &c->out->warning_count;
    if (++*count > MAX_MESSAGES || c->msg_count == sizeof c->msgs / sizeof *c->msgs) return;
    vsnprintf(text, sizeof text, fmt, ap);
    if (c->path_len)
        snprintf(line, sizeof line, "%s:%d: %s: %s", c->file, at, c->path, text);
    else if (at)
        snprintf(line, sizeof line, "%s:%d: %s", c->file, at, text);
    else
        snprintf(line, sizeof line, "%s: %s", c->file, text);
    char *copy = strdup(line);
    if (copy) c->msgs[c->msg_count++] = (message){at, error, copy};
}

/*
 * Checks run in schema order; a reader goes down the file. So messages are
 * given sorted by line, with a stable sort (few messages: insertion sort) so
 * that several about one line keep their order.
 */
static void messages_flush(cfg *c)
{
    message *m = c->msgs;
    for (size_t i = 1; i < c->msg_count; i++)
        for (size_t j = i; j > 0 && m[j - 1].line > m[j].line; j--) {
            message t = m[j];
            m[j] = m[j - 1];
            m[j - 1] = t;
        }
    int errors_seen = 0, warnings_seen = 0;
    for (size_t i = 0; i < c->msg_count; i++) {
        if (m[i].error)
            append_line(&c->out->errors, &errors_seen, m[i].text);
        else
            append_line(&c->out->warnings, &warnings_seen, m[i].text);
        free(m[i].text);
    }
    c->msg_count = 0;
}

static void fail(cfg *c, const node *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warn(cfg *c, const node *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(cfg *c, const node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(c, true, n, fmt, ap);
    va_end(ap);
}

static void warn(cfg *c, const node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(c, false, n, fmt, ap);
    va_end(ap);
}

static int errors(const cfg *c)
{
    return c->out->error_count;
}

/* Key paths: push returns a mark that pop restores. */
static size_t path_push(cfg *c, const char *sep, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static size_t path_push(cfg *c, const char *sep, const char *fmt, ...)
{
    size_t mark = c->path_len, room = sizeof c->path - mark;
    char part[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(part, sizeof part, fmt, ap);
    va_end(ap);
    int n = snprintf(c->path + mark, room, "%s%s", mark ? sep : "", part);
    c->path_len = n < 0 ? mark : (size_t)n >= room ? sizeof c->path - 1 : mark + (size_t)n;
    return mark;
}

static size_t path_key(cfg *c, const char *key)
{
    return path_push(c, ".", "%s", key);
}

static size_t path_index(cfg *c, size_t i)
{
    return path_push(c, "", "[%zu]", i);
}

static void path_pop(cfg *c, size_t mark)
{
    c->path_len = mark;
    c->path[mark] = '\0';
}

/* A short printable rendering of a value for "got ..." in messages. */
static const char *describe(const node *n, char *buf, size_t size)
{
    if (!n || (n->kind == NODE_SCALAR && n->is_null)) return "null";
    if (n->kind == NODE_MAP) return "a mapping";
    if (n->kind == NODE_SEQ) return "a sequence";
    size_t shown = n->len > 40 ? 40 : n->len, k = 0;
    const char *q = n->is_string ? "\"" : "";
    k += (size_t)snprintf(buf, size, "%s", q);
    for (size_t i = 0; i < shown && k + 8 < size; i++) {
        unsigned char ch = (unsigned char)n->text[i];
        buf[k++] = ch >= 0x20 && ch != 0x7f ? (char)ch : '?';
    }
    snprintf(buf + k, size - k, "%s%s", n->len > shown ? "..." : "", q);
    return buf;
}

#define GOT(n) describe((n), got_buf, sizeof got_buf)

/* ---- Step 1: YAML events to a tree ---------------------------------------------------- */

static node *node_new(cfg *c, node_kind kind, const yaml_event_t *ev)
{
    node *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->kind = kind;
    n->line = (int)ev->start_mark.line + 1;
    n->weight = 1;
    n->all_next = c->all;
    c->all = n;
    return n;
}

static void tree_free(cfg *c)
{
    while (c->all) {
        node *n = c->all;
        c->all = n->all_next;
        free(n->text);
        free(n->kids);
        free(n);
    }
    for (size_t i = 0; i < c->anchor_count; i++) free(c->anchors[i].name);
    free(c->anchors);
}

static bool kid_add(node *parent, node *kid)
{
    if (parent->count == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8;
        node **k = realloc(parent->kids, cap * sizeof *k);
        if (!k) return false;
        parent->kids = k;
        parent->cap = cap;
    }
    parent->kids[parent->count++] = kid;
    return true;
}

/* True when the next node attached to the top of the stack is a mapping key. */
static bool at_key(const cfg *c)
{
    const node *top = c->depth ? c->stack[c->depth - 1] : NULL;
    return top && top->kind == NODE_MAP && top->count % 2 == 0;
}

static bool attach(cfg *c, node *n)
{
    /* Bounded while parsing too: weights are only known when collections end. */
    if (++c->events > MAX_WEIGHT) {
        fail(c, n, "the document expands to more than %d nodes", MAX_WEIGHT);
        return false;
    }
    if (!c->depth) {
        c->root = n;
        return true;
    }
    node *top = c->stack[c->depth - 1];
    if (at_key(c) && n->kind != NODE_SCALAR) {
        fail(c, n, "mapping keys must be scalars");
        return false;
    }
    if (!kid_add(top, n)) {
        fail(c, n, "out of memory");
        return false;
    }
    return true;
}

static bool anchor_add(cfg *c, const char *name, node *target)
{
    if (!name) return true;
    if (c->anchor_count == MAX_ANCHORS) {
        fail(c, target, "more than %d anchors", MAX_ANCHORS);
        return false;
    }
    if (c->anchor_count == c->anchor_cap) {
        size_t cap = c->anchor_cap ? c->anchor_cap * 2 : 8;
        anchor *a = realloc(c->anchors, cap * sizeof *a);
        if (!a) goto oom;
        c->anchors = a;
        c->anchor_cap = cap;
    }
    char *copy = strdup(name);
    if (!copy) goto oom;
    c->anchors[c->anchor_count++] = (anchor){copy, target};
    return true;
oom:
    fail(c, target, "out of memory");
    return false;
}

/* The latest node anchored as name: YAML lets a later anchor reuse a name. */
static node *anchor_find(const cfg *c, const char *name)
{
    for (size_t i = c->anchor_count; i-- > 0;)
        if (strcmp(c->anchors[i].name, name) == 0) return c->anchors[i].target;
    return NULL;
}

static bool is_null_text(const char *s, size_t n)
{
    return n == 0 || (n == 1 && s[0] == '~') ||
           (n == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) || !memcmp(s, "NULL", 4)));
}

static bool scalar_text(cfg *c, node *n, const yaml_event_t *ev, bool is_key)
{
    const char *v = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    n->is_string =
        ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || (tag && strcmp(tag, YAML_STR_TAG) == 0);
    if (is_key) {
        n->text = malloc(len + 1);
        if (!n->text) return false;
        memcpy(n->text, v, len);
        n->text[len] = '\0';
        n->len = len;
        return true;
    }
    char err[160];
    int rc = otelc__substitute(v, len, c->lookup, c->user, &n->text, &n->len, err, sizeof err);
    if (rc == OTELC_ERR_NOMEM) return false;
    if (rc != OTELC_OK) {
        fail(c, n, "%s", err);
        n->reported = true;
        n->text = strdup("");
        if (!n->text) return false;
        n->is_null = true;
        return true;
    }
    n->is_null = !n->is_string && is_null_text(n->text, n->len);
    return true;
}

static bool on_scalar(cfg *c, const yaml_event_t *ev)
{
    node *n = node_new(c, NODE_SCALAR, ev);
    if (!n || !scalar_text(c, n, ev, at_key(c))) {
        fail(c, n, "out of memory");
        return false;
    }
    return anchor_add(c, (const char *)ev->data.scalar.anchor, n) && attach(c, n);
}

static bool on_start(cfg *c, const yaml_event_t *ev, node_kind kind)
{
    const yaml_char_t *name =
        kind == NODE_MAP ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    node *n = node_new(c, kind, ev);
    char *copy = NULL;
    if (!n || (name && !(copy = strdup((const char *)name)))) {
        fail(c, n, "out of memory");
        return false;
    }
    if (!attach(c, n) || c->depth == MAX_DEPTH) {
        if (c->depth == MAX_DEPTH) fail(c, n, "nesting deeper than %d levels", MAX_DEPTH);
        free(copy);
        return false;
    }
    c->stack_anchor[c->depth] = copy;
    c->stack[c->depth++] = n;
    return true;
}

static bool on_end(cfg *c)
{
    node *n = c->stack[--c->depth];
    char *name = c->stack_anchor[c->depth];
    c->stack_anchor[c->depth] = NULL;
    for (size_t i = 0; i < n->count && n->weight <= MAX_WEIGHT; i++)
        n->weight += n->kids[i]->weight;
    bool ok = n->weight <= MAX_WEIGHT;
    if (!ok) fail(c, n, "the document expands to more than %d nodes", MAX_WEIGHT);
    /* Registered only now, so that a collection cannot contain an alias of itself. */
    if (ok && name) ok = anchor_add(c, name, n);
    free(name);
    return ok;
}

static bool on_alias(cfg *c, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    node *target = anchor_find(c, name);
    if (!target) {
        node where = {.line = (int)ev->start_mark.line + 1};
        fail(c, &where, "undefined alias \"%.64s\"", name);
        return false;
    }
    return attach(c, target);
}

static void syntax_error(cfg *c, const yaml_parser_t *p)
{
    node where = {.line = (int)p->problem_mark.line + 1};
    const char *problem = p->problem ? p->problem : "malformed input";
    if (p->context)
        fail(c, &where, "YAML syntax error: %s (%s at line %d)", problem, p->context,
             (int)p->context_mark.line + 1);
    else
        fail(c, &where, "YAML syntax error: %s", problem);
}

static bool on_event(cfg *c, const yaml_event_t *ev, int *docs)
{
    node where = {.line = (int)ev->start_mark.line + 1};
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++*docs == 1) return true;
        fail(c, &where, "expected a single YAML document");
        return false;
    case YAML_SCALAR_EVENT:
        return on_scalar(c, ev);
    case YAML_MAPPING_START_EVENT:
        return on_start(c, ev, NODE_MAP);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(c, ev, NODE_SEQ);
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
        return on_end(c);
    case YAML_ALIAS_EVENT:
        return on_alias(c, ev);
    default:
        return true;
    }
}

static void build_tree(cfg *c, const char *text, size_t len)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        fail(c, NULL, "out of memory");
        c->broken = true;
        return;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    int docs = 0;
    bool ok = true, done = false;
    while (ok && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            syntax_error(c, &p);
            ok = false;
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        ok = on_event(c, &ev, &docs);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    c->broken = !ok;
}

/* ---- Step 2: reading the tree --------------------------------------------------------- */

static bool is_null(const node *n)
{
    return !n || (n->kind == NODE_SCALAR && n->is_null);
}

static bool key_is(const node *k, const char *key)
{
    size_t n = strlen(key);
    return k->len == n && memcmp(k->text, key, n) == 0;
}

/* The value under key in mapping m, NULL when absent; the key is marked read. */
static node *get(cfg *c, node *m, const char *key)
{
    node *found = NULL;
    for (size_t i = 0; m && m->kind == NODE_MAP && i + 1 < m->count; i += 2) {
        node *k = m->kids[i];
        if (!key_is(k, key)) continue;
        k->used = true;
        if (!found) {
            found = m->kids[i + 1];
            continue;
        }
        size_t mark = path_key(c, key);
        fail(c, k, "duplicate key");
        path_pop(c, mark);
    }
    return found;
}

/* As get() but without marking or checking: a second look at a value. */
static node *peek(node *m, const char *key)
{
    for (size_t i = 0; m && m->kind == NODE_MAP && i + 1 < m->count; i += 2)
        if (key_is(m->kids[i], key)) return m->kids[i + 1];
    return NULL;
}

static void missing(cfg *c, const node *m, const char *key)
{
    size_t mark = path_key(c, key);
    fail(c, m, "required key is missing");
    path_pop(c, mark);
}

/* Report a bad value under key (path key appended). */
static void bad_value(cfg *c, const node *v, const char *key, const char *expected)
{
    char got_buf[64];
    if (v && v->reported) return;
    size_t mark = key ? path_key(c, key) : c->path_len;
    fail(c, v, "expected %s, got %s", expected, GOT(v));
    path_pop(c, mark);
}

/* True when n is a mapping to read; null is an empty mapping (false, no error). */
static bool as_map(cfg *c, node *n)
{
    if (is_null(n)) return false;
    if (n->kind == NODE_MAP) return true;
    bad_value(c, n, NULL, "a mapping");
    return false;
}

/* Warn about every key of m that nothing read. */
static void warn_unknown(cfg *c, node *m)
{
    for (size_t i = 0; m && m->kind == NODE_MAP && i + 1 < m->count; i += 2) {
        node *k = m->kids[i];
        if (k->used) continue;
        k->used = true;
        size_t mark = path_key(c, k->text);
        warn(c, k, "unknown key, ignored");
        path_pop(c, mark);
    }
}

/* A plain scalar's text when it can be typed (no NUL inside), else NULL. */
static const char *plain_text(const node *n)
{
    if (!n || n->kind != NODE_SCALAR || n->is_string || n->is_null) return NULL;
    return strlen(n->text) == n->len ? n->text : NULL;
}

static int digit_value(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return 99;
}

/* A YAML 1.2 core schema integer: [-+]digits, 0o octal or 0x hex. */
static bool int_value(const node *n, int64_t *out)
{
    const char *s = plain_text(n);
    if (!s) return false;
    unsigned base = 10;
    bool neg = false;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
        base = s[1] == 'x' ? 16 : 8;
        s += 2;
    } else if (*s == '-' || *s == '+') {
        neg = *s++ == '-';
    }
    if (!*s) return false;
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d = (unsigned)digit_value(*s);
        if (d >= base || v > (UINT64_MAX - d) / base) return false;
        v = v * base + d;
    }
    if (v > (uint64_t)INT64_MAX + (neg ? 1 : 0)) return false;
    *out = !neg ? (int64_t)v : v > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)v;
    return true;
}

/* [-+]? ( "." digits | digits ( "." digits? )? ) ( [eE] [-+]? digits )? */
static bool is_core_float(const char *s)
{
    size_t lead = 0, frac = 0;
    if (*s == '-' || *s == '+') s++;
    while (*s >= '0' && *s <= '9') s++, lead++;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++) frac++;
    if (!lead && !frac) return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+') s++;
        if (!(*s >= '0' && *s <= '9')) return false;
        while (*s >= '0' && *s <= '9') s++;
    }
    return *s == '\0';
}

static bool number_value(const node *n, double *out)
{
    int64_t i;
    if (int_value(n, &i)) {
        *out = (double)i;
        return true;
    }
    const char *s = plain_text(n);
    return s && is_core_float(s) && otelc__parse_double(s, out);
}

static bool bool_value(const node *n, bool *out)
{
    static const char *const names[] = {"true", "True", "TRUE", "false", "False", "FALSE"};
    const char *s = plain_text(n);
    for (size_t i = 0; s && i < 6; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i < 3;
            return true;
        }
    }
    return false;
}

/* Any scalar as written (see the top of the file); NULL for null. */
static const char *string_value(const node *n)
{
    if (is_null(n) || n->kind != NODE_SCALAR || strlen(n->text) != n->len) return NULL;
    return n->text;
}

/* key as a string: NULL when absent, null or invalid (reported). *at gets the value node. */
static const char *get_str(cfg *c, node *m, const char *key, node **at)
{
    node *v = get(c, m, key);
    if (at) *at = v;
    if (is_null(v)) return NULL;
    const char *s = string_value(v);
    if (!s) bad_value(c, v, key, "a string");
    return s;
}

/* key as an integer from min to UINT32_MAX; the value node when it was set. */
static node *get_u32(cfg *c, node *m, const char *key, uint32_t min, uint32_t *out)
{
    node *v = get(c, m, key);
    int64_t i;
    if (is_null(v)) return NULL;
    if (int_value(v, &i) && i >= (int64_t)min && i <= (int64_t)UINT32_MAX) {
        *out = (uint32_t)i;
        return v;
    }
    bad_value(c, v, key,
              min ? "an integer from 1 to 4294967295" : "an integer from 0 to 4294967295");
    return NULL;
}

static void get_bool(cfg *c, node *m, const char *key, bool *out)
{
    node *v = get(c, m, key);
    if (!is_null(v) && !bool_value(v, out)) bad_value(c, v, key, "true or false");
}

/* key as one of names (its index); -1 when absent or null, -2 after an error. */
static int get_enum(cfg *c, node *m, const char *key, const char *const *names,
                    const char *expected)
{
    node *v;
    const char *s = get_str(c, m, key, &v);
    if (!s) return is_null(v) ? -1 : -2;
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0) return i;
    bad_value(c, v, key, expected);
    return -2;
}

/*
 * The key of a mapping that must hold exactly one entry naming a plugin
 * (sampler, processor, exporter, propagator), or NULL after an error.
 */
static node *plugin_key(cfg *c, node *n, const char *what)
{
    char expected[80];
    snprintf(expected, sizeof expected, "a mapping with exactly one %s", what);
    if (is_null(n) || n->kind != NODE_MAP) {
        bad_value(c, n, NULL, expected);
        return NULL;
    }
    for (size_t i = 0; i < n->count; i += 2) n->kids[i]->used = true;
    if (n->count != 2) {
        fail(c, n, "expected %s, got %zu keys", expected, n->count / 2);
        return NULL;
    }
    return n->kids[0];
}

/* A plugin without settings (always_on, console...): null or a mapping. */
static void no_settings(cfg *c, node *v)
{
    if (as_map(c, v)) warn_unknown(c, v);
}

/* ---- Samplers ---------------------------------------------------------------------------- */

static otelc_sampler *sampler_from(cfg *c, node *n);

static double ratio_from(cfg *c, node *v)
{
    double r = 1.0;
    if (!as_map(c, v)) return r;
    node *x = get(c, v, "ratio");
    double d;
    if (!is_null(x) && number_value(x, &d) && d >= 0.0 && d <= 1.0)
        r = d;
    else if (!is_null(x))
        bad_value(c, x, "ratio", "a number between 0 and 1");
    warn_unknown(c, v);
    return r;
}

static otelc_sampler *parent_based_from(cfg *c, node *v)
{
    static const char *const keys[5] = {"root", "remote_parent_sampled",
                                        "remote_parent_not_sampled", "local_parent_sampled",
                                        "local_parent_not_sampled"};
    otelc_sampler *d[5] = {NULL};
    if (as_map(c, v)) {
        for (int i = 0; i < 5; i++) {
            node *x = get(c, v, keys[i]);
            if (is_null(x)) continue;
            size_t mark = path_key(c, keys[i]);
            d[i] = sampler_from(c, x);
            path_pop(c, mark);
        }
        warn_unknown(c, v);
    }
    if (!d[0]) d[0] = otelc_sampler_always_on();
    return otelc_sampler_parent_based(d[0], d[1], d[2], d[3], d[4]);
}

/* otelc's extension: rate_limiting: {traces_per_second: N}. */
static otelc_sampler *rate_limiting_from(cfg *c, node *v)
{
    if (is_null(v) || !as_map(c, v)) {
        if (is_null(v)) missing(c, v, "traces_per_second");
        return NULL;
    }
    node *x = get(c, v, "traces_per_second");
    double rate = 0;
    warn_unknown(c, v);
    if (!x) {
        missing(c, v, "traces_per_second");
        return NULL;
    }
    if (!number_value(x, &rate) || !(rate > 0.0)) {
        bad_value(c, x, "traces_per_second", "a number above 0");
        return NULL;
    }
    return otelc_sampler_rate_limiting(rate);
}

static otelc_sampler *sampler_from(cfg *c, node *n)
{
    node *k = plugin_key(c, n, "sampler");
    if (!k) return NULL;
    node *v = n->kids[1];
    otelc_sampler *s = NULL;
    bool known = true;
    size_t mark = path_key(c, k->text);
    if (key_is(k, "always_on")) {
        no_settings(c, v);
        s = otelc_sampler_always_on();
    } else if (key_is(k, "always_off")) {
        no_settings(c, v);
        s = otelc_sampler_always_off();
    } else if (key_is(k, "trace_id_ratio_based") || key_is(k, "probability/development")) {
        s = otelc_sampler_trace_id_ratio(ratio_from(c, v));
    } else if (key_is(k, "parent_based")) {
        s = parent_based_from(c, v);
    } else if (key_is(k, "rate_limiting")) {
        s = rate_limiting_from(c, v);
    } else {
        known = false;
    }
    path_pop(c, mark);
    if (!known)
        fail(c, k,
             "unsupported sampler \"%.64s\"; expected always_on, always_off, "
             "trace_id_ratio_based, probability/development, parent_based or rate_limiting",
             k->text);
    return s;
}

/* ---- Limits -------------------------------------------------------------------------------- */

static const struct {
    const char *key;
    size_t offset;
    bool span_only;
} limit_keys[] = {
    {"attribute_value_length_limit", offsetof(otelc_span_limits, attribute_value_length), false},
    {"attribute_count_limit", offsetof(otelc_span_limits, attribute_count), false},
    {"event_count_limit", offsetof(otelc_span_limits, event_count), true},
    {"link_count_limit", offsetof(otelc_span_limits, link_count), true},
    {"event_attribute_count_limit", offsetof(otelc_span_limits, event_attribute_count), true},
    {"link_attribute_count_limit", offsetof(otelc_span_limits, link_attribute_count), true},
};

static void limits_from(cfg *c, node *m, bool span)
{
    if (!as_map(c, m)) return;
    for (size_t i = 0; i < sizeof limit_keys / sizeof *limit_keys; i++) {
        uint32_t v;
        if (limit_keys[i].span_only && !span) continue;
        if (get_u32(c, m, limit_keys[i].key, 0, &v))
            memcpy((char *)&c->out->limits + limit_keys[i].offset, &v, sizeof v);
    }
    warn_unknown(c, m);
}

/* ---- Resource ------------------------------------------------------------------------------ */

static const char *const attr_types[] = {"string",    "bool",         "int",
                                         "double",    "string_array", "bool_array",
                                         "int_array", "double_array", NULL};

static const size_t item_size[4] = {sizeof(const char *), sizeof(bool), sizeof(int64_t),
                                    sizeof(double)};

/* One scalar of item type t (string, bool, int, double) into slot. */
static bool scalar_as(cfg *c, node *v, int t, void *slot)
{
    static const char *const expected[4] = {"a string", "true or false", "an integer", "a number"};
    const char *s = NULL;
    bool ok = false;
    switch (t) {
    case 0:
        ok = (s = string_value(v)) != NULL;
        if (ok) memcpy(slot, &s, sizeof s);
        break;
    case 1:
        ok = bool_value(v, slot);
        break;
    case 2:
        ok = int_value(v, slot);
        break;
    default:
        ok = number_value(v, slot);
        break;
    }
    if (!ok) bad_value(c, v, NULL, expected[t]);
    return ok;
}

static bool array_value(cfg *c, node *v, int t, otelc_value *out, void **storage)
{
    if (v->kind != NODE_SEQ) {
        bad_value(c, v, NULL, "a sequence");
        return false;
    }
    char *items = calloc(v->count ? v->count : 1, item_size[t]);
    if (!items) {
        fail(c, v, "out of memory");
        return false;
    }
    *storage = items;
    bool ok = true;
    for (size_t i = 0; i < v->count; i++) {
        size_t mark = path_index(c, i);
        ok = scalar_as(c, v->kids[i], t, items + i * item_size[t]) && ok;
        path_pop(c, mark);
    }
    out->type = (otelc_value_type)(OTELC_VALUE_STRING_ARRAY + t);
    out->u.array.items = items;
    out->u.array.count = v->count;
    return ok;
}

/* value of type (an index into attr_types) into out; arrays are malloc'd into *storage. */
static bool attr_value(cfg *c, node *v, int type, otelc_value *out, void **storage)
{
    size_t mark = path_key(c, "value");
    bool ok;
    if (type >= 4) {
        ok = array_value(c, v, type - 4, out, storage);
    } else {
        union {
            const char *s;
            bool b;
            int64_t i;
            double d;
        } u = {0};
        ok = scalar_as(c, v, type, &u);
        out->type = (otelc_value_type)(OTELC_VALUE_STRING + type);
        if (type == 0) out->u.str.ptr = u.s, out->u.str.len = ok ? strlen(u.s) : 0;
        if (type == 1) out->u.b = ok && u.b;
        if (type == 2) out->u.i = ok ? u.i : 0;
        if (type == 3) out->u.d = ok ? u.d : 0;
    }
    path_pop(c, mark);
    return ok;
}

static bool attr_from(cfg *c, node *item, otelc_attr *a, void **storage)
{
    if (is_null(item) || item->kind != NODE_MAP) {
        bad_value(c, item, NULL, "a mapping with name, value and type");
        return false;
    }
    node *name_at, *v = get(c, item, "value");
    const char *name = get_str(c, item, "name", &name_at);
    int type = get_enum(c, item, "type", attr_types,
                        "one of string, bool, int, double, string_array, bool_array, "
                        "int_array, double_array");
    bool ok = name && *name && v && type != -2;
    if (!name_at) missing(c, item, "name");
    if (name && !*name) bad_value(c, name_at, "name", "a non-empty string");
    if (!v) missing(c, item, "value");
    if (v) ok = attr_value(c, v, type < 0 ? 0 : type, &a->value, storage) && ok;
    a->key = name;
    warn_unknown(c, item);
    return ok;
}

static otelc_resource *attributes_from(cfg *c, node *seq)
{
    if (is_null(seq)) return NULL;
    if (seq->kind != NODE_SEQ) {
        bad_value(c, seq, NULL, "a sequence");
        return NULL;
    }
    size_t n = 0, cap = seq->count ? seq->count : 1;
    otelc_attr *attrs = calloc(cap, sizeof *attrs);
    void **storage = calloc(cap, sizeof *storage);
    bool ok = attrs && storage;
    for (size_t i = 0; ok && i < seq->count; i++) {
        size_t mark = path_index(c, i);
        if (attr_from(c, seq->kids[i], &attrs[n], &storage[i])) n++;
        path_pop(c, mark);
    }
    otelc_resource *r = ok && !errors(c) ? otelc_resource_new(attrs, n, NULL) : NULL;
    for (size_t i = 0; storage && i < seq->count; i++) free(storage[i]);
    free(storage);
    free(attrs);
    return r;
}

/* base updated by update (which is consumed); base is freed. */
static otelc_resource *merge_into(otelc_resource *base, otelc_resource *update)
{
    if (!update) return base;
    otelc_resource *r = otelc_resource_merge(base, update);
    otelc_resource_free(base);
    otelc_resource_free(update);
    return r;
}

static otelc_resource *resource_from(cfg *c, node *m)
{
    otelc_resource *r = otelc_resource_default(false);
    if (!as_map(c, m)) return r;
    node *at;
    const char *list = get_str(c, m, "attributes_list", &at);
    if (list) {
        int bad = 0;
        otelc_resource *from_list = otelc__resource_parse_kv(list, &bad);
        if (bad) bad_value(c, at, "attributes_list", "name=value pairs separated by commas");
        r = merge_into(r, from_list);
    }
    size_t mark = path_key(c, "attributes");
    r = merge_into(r, attributes_from(c, get(c, m, "attributes")));
    path_pop(c, mark);
    const char *schema = get_str(c, m, "schema_url", NULL);
    if (schema) r = merge_into(r, otelc_resource_new(NULL, 0, schema));
    warn_unknown(c, m);
    return r;
}

/* ---- Propagators ----------------------------------------------------------------------------- */

static const char *const propagator_names[] = {"tracecontext", "baggage", "b3", "b3multi",
                                               "jaeger",       "none",    NULL};

/* Append name[0..n) to the comma list unless present; unknown names are errors. */
static void propagator_add(cfg *c, const node *at, const char *name, size_t n, char *list,
                           size_t size)
{
    const char *known = NULL;
    for (int i = 0; propagator_names[i] && !known; i++)
        if (strlen(propagator_names[i]) == n && memcmp(propagator_names[i], name, n) == 0)
            known = propagator_names[i];
    if (!known) {
        fail(c, at,
             "unsupported propagator \"%.*s\"; expected tracecontext, baggage, b3, b3multi, "
             "jaeger or none",
             (int)(n > 64 ? 64 : n), name);
        return;
    }
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && memcmp(p, known, n) == 0) return;
        p += len + (p[len] == ',');
    }
    size_t used = strlen(list);
    snprintf(list + used, size - used, "%s%s", used ? "," : "", known);
}

static void composite_from(cfg *c, node *seq, char *list, size_t size)
{
    if (seq->kind != NODE_SEQ) {
        bad_value(c, seq, NULL, "a sequence");
        return;
    }
    for (size_t i = 0; i < seq->count; i++) {
        node *item = seq->kids[i];
        size_t mark = path_index(c, i);
        const char *name = item->kind == NODE_SCALAR ? string_value(item) : NULL;
        node *k = name ? NULL : plugin_key(c, item, "propagator");
        if (k) no_settings(c, item->kids[1]);
        if (name || k)
            propagator_add(c, item, name ? name : k->text, strlen(name ? name : k->text), list,
                           size);
        path_pop(c, mark);
    }
}

static void composite_list_from(cfg *c, const node *at, const char *text, char *list, size_t size)
{
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, ",");
        const char *s = p;
        p += n + (p[n] == ',');
        while (n && (*s == ' ' || *s == '\t')) s++, n--;
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
        if (n) propagator_add(c, at, s, n, list, size);
    }
}

static otelc_propagator *propagator_from(cfg *c, node *m)
{
    char list[128] = "";
    if (as_map(c, m)) {
        node *seq = get(c, m, "composite"), *at;
        size_t mark = path_key(c, "composite");
        if (!is_null(seq)) composite_from(c, seq, list, sizeof list);
        path_pop(c, mark);
        const char *text = get_str(c, m, "composite_list", &at);
        mark = path_key(c, "composite_list");
        if (text) composite_list_from(c, at, text, list, sizeof list);
        path_pop(c, mark);
        warn_unknown(c, m);
    }
    /* The spec: without propagators the propagator does nothing. */
    return otelc_propagator_from_list(list[0] ? list : "none", NULL);
}

/* ---- Exporters and processors (described in step 2, created in step 3) ------------------ */

typedef enum exporter_kind { EXP_OTLP, EXP_CONSOLE, EXP_ZIPKIN, EXP_FILE } exporter_kind;

typedef struct proc_spec {
    const node *at;   /* the processor entry, for messages */
    const char *name; /* the exporter's key */
    bool batch;
    otelc_batch_options batch_opts;
    exporter_kind kind;
    otelc_otlp_exporter_options otlp;
    char *headers; /* owned */
    otelc_console_format console_format;
    const char *endpoint;  /* zipkin */
    uint32_t timeout_ms;   /* zipkin */
    const char *file_path; /* file */
    uint64_t max_bytes;    /* file */
    uint32_t keep;         /* file */
} proc_spec;

typedef struct sbuf {
    char *data;
    size_t len;
    size_t cap;
} sbuf;

static bool sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 128;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) return false;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

static bool is_unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

/* The exporter option takes percent-encoded values: encode all but unreserved bytes. */
static bool sb_put_encoded(sbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    bool ok = true;
    for (; *s && ok; s++) {
        unsigned char ch = (unsigned char)*s;
        char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
        ok = is_unreserved(ch) ? sb_put(b, s, 1) : sb_put(b, e, 3);
    }
    return ok;
}

/* An HTTP field name: RFC 9110 token characters. */
static bool is_header_name(const char *s, size_t n)
{
    if (!n) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!is_unreserved(ch) && !strchr("!#$%&'*+^`|", ch)) return false;
    }
    return true;
}

static bool header_in(node *headers, const char *name, size_t n)
{
    for (size_t i = 0; headers && headers->kind == NODE_SEQ && i < headers->count; i++) {
        const char *s = string_value(peek(headers->kids[i], "name"));
        if (s && strlen(s) == n && strncasecmp(s, name, n) == 0) return true;
    }
    return false;
}

static void header_entry(cfg *c, node *item, sbuf *b, bool *oom)
{
    if (is_null(item) || item->kind != NODE_MAP) {
        bad_value(c, item, NULL, "a mapping with name and value");
        return;
    }
    node *name_at, *v = get(c, item, "value");
    const char *name = get_str(c, item, "name", &name_at);
    warn_unknown(c, item);
    if (!name_at) missing(c, item, "name");
    if (!v) missing(c, item, "value");
    if (name && !is_header_name(name, strlen(name)))
        bad_value(c, name_at, "name", "an HTTP header name");
    const char *value = string_value(v);
    if (!is_null(v) && !value) bad_value(c, v, "value", "a string");
    /* A null value leaves the header out, as the schema says. */
    if (!name || !value || errors(c)) return;
    if ((b->len && !sb_put(b, ",", 1)) || !sb_put(b, name, strlen(name)) || !sb_put(b, "=", 1) ||
        !sb_put_encoded(b, value))
        *oom = true;
}

/* headers_list items for names that headers does not set (headers win). */
static void headers_list_from(cfg *c, node *at, const char *list, node *headers, sbuf *b, bool *oom)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        const char *s = p;
        p += n + (p[n] == ',');
        while (n && (*s == ' ' || *s == '\t')) s++, n--;
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
        if (!n) continue;
        const char *eq = memchr(s, '=', n);
        size_t name_len = eq ? (size_t)(eq - s) : 0;
        while (name_len && (s[name_len - 1] == ' ' || s[name_len - 1] == '\t')) name_len--;
        if (!eq || !is_header_name(s, name_len)) {
            bad_value(c, at, NULL, "name=value pairs separated by commas");
            return;
        }
        if (header_in(headers, s, name_len)) continue;
        if ((b->len && !sb_put(b, ",", 1)) || !sb_put(b, s, n)) *oom = true;
    }
}

/* The exporter's "k=v,..." header string from headers and headers_list, or NULL. */
static char *headers_from(cfg *c, node *v)
{
    sbuf b = {0};
    bool oom = false;
    node *seq = get(c, v, "headers"), *at;
    size_t mark = path_key(c, "headers");
    if (!is_null(seq) && seq->kind != NODE_SEQ) bad_value(c, seq, NULL, "a sequence");
    for (size_t i = 0; !is_null(seq) && seq->kind == NODE_SEQ && i < seq->count; i++) {
        size_t item_mark = path_index(c, i);
        header_entry(c, seq->kids[i], &b, &oom);
        path_pop(c, item_mark);
    }
    path_pop(c, mark);
    const char *list = get_str(c, v, "headers_list", &at);
    mark = path_key(c, "headers_list");
    if (list) headers_list_from(c, at, list, seq, &b, &oom);
    path_pop(c, mark);
    if (oom) fail(c, v, "out of memory");
    return b.data;
}

/* http(s)://host[...], or for gRPC also a bare host:port. */
static bool valid_endpoint(const char *s, bool bare_ok)
{
    const char *host = NULL;
    if (strncasecmp(s, "http://", 7) == 0)
        host = s + 7;
    else if (strncasecmp(s, "https://", 8) == 0)
        host = s + 8;
    else if (bare_ok && !strstr(s, "://"))
        host = s;
    if (!host || strcspn(host, "/?#") == 0) return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) return false;
    return true;
}

/* A certificate file under key, or under its 1.0-rc name old_key; it must be absolute. */
static const char *tls_file(cfg *c, node *t, const char *key, const char *old_key)
{
    node *at, *old_at;
    const char *path = get_str(c, t, key, &at);
    const char *old = get_str(c, t, old_key, &old_at);
    if (!path) path = old, at = old_at, key = old_key;
    if (path && path[0] != '/') {
        bad_value(c, at, key, "an absolute path");
        return NULL;
    }
    return path;
}

static void tls_from(cfg *c, node *t, otelc_otlp_exporter_options *o, bool grpc)
{
    if (!as_map(c, t)) return;
    o->certificate = tls_file(c, t, "ca_file", "certificate_file");
    o->client_key = tls_file(c, t, "key_file", "client_key_file");
    o->client_certificate = tls_file(c, t, "cert_file", "client_certificate_file");
    if (!o->client_key != !o->client_certificate)
        fail(c, t, "key_file and cert_file must be given together");
    if (grpc) get_bool(c, t, "insecure", &o->insecure);
    warn_unknown(c, t);
}

static void otlp_from(cfg *c, node *v, proc_spec *s, bool grpc)
{
    static const char *const compressions[] = {"gzip", "none", NULL};
    static const char *const encodings[] = {"protobuf", "json", NULL};
    otelc_otlp_exporter_options *o = &s->otlp;
    node *at;
    uint32_t ms;
    s->kind = EXP_OTLP;
    o->protocol = grpc ? OTELC_OTLP_GRPC : OTELC_OTLP_HTTP_PROTOBUF;
    if (!as_map(c, v)) return;
    o->endpoint = get_str(c, v, "endpoint", &at);
    if (o->endpoint && !valid_endpoint(o->endpoint, grpc))
        bad_value(c, at, "endpoint",
                  grpc ? "an http:// or https:// URL or host:port" : "an http:// or https:// URL");
    size_t mark = path_key(c, "tls");
    tls_from(c, get(c, v, "tls"), o, grpc);
    path_pop(c, mark);
    o->headers = s->headers = headers_from(c, v);
    o->gzip = get_enum(c, v, "compression", compressions, "gzip or none") == 0;
    /* 0 means no limit here, but "default" in the options struct. */
    if (get_u32(c, v, "timeout", 0, &ms)) o->timeout_ms = ms ? ms : UINT32_MAX;
    if (!grpc && get_enum(c, v, "encoding", encodings, "protobuf or json") == 1)
        o->protocol = OTELC_OTLP_HTTP_JSON;
    warn_unknown(c, v);
}

/* console, with otelc's extension format: tree | json. */
static void console_from(cfg *c, node *v, proc_spec *s)
{
    static const char *const formats[] = {"tree", "json", NULL};
    s->kind = EXP_CONSOLE;
    s->console_format = OTELC_CONSOLE_TREE;
    if (!as_map(c, v)) return;
    if (get_enum(c, v, "format", formats, "tree or json") == 1)
        s->console_format = OTELC_CONSOLE_JSON;
    warn_unknown(c, v);
}

/* Every field is set: a NULL or 0 would send the exporter to the environment. */
static void zipkin_from(cfg *c, node *v, proc_spec *s)
{
    node *at;
    uint32_t ms;
    s->kind = EXP_ZIPKIN;
    s->endpoint = "http://localhost:9411/api/v2/spans";
    s->timeout_ms = 10000;
    if (!as_map(c, v)) return;
    const char *endpoint = get_str(c, v, "endpoint", &at);
    if (endpoint && !valid_endpoint(endpoint, false))
        bad_value(c, at, "endpoint", "an http:// or https:// URL");
    if (endpoint) s->endpoint = endpoint;
    if (get_u32(c, v, "timeout", 0, &ms)) s->timeout_ms = ms ? ms : UINT32_MAX;
    warn_unknown(c, v);
}

/* otelc's file exporter: file: {path, max_bytes, keep}. */
static void file_from(cfg *c, node *v, proc_spec *s)
{
    node *at;
    int64_t max_bytes = 0;
    s->kind = EXP_FILE;
    if (!as_map(c, v)) return;
    const char *path = get_str(c, v, "path", &at);
    if (path && !*path) bad_value(c, at, "path", "a file name");
    if (path && *path) s->file_path = path;
    at = get(c, v, "max_bytes");
    if (!is_null(at) && (!int_value(at, &max_bytes) || max_bytes < 0))
        bad_value(c, at, "max_bytes", "a non-negative integer");
    s->max_bytes = (uint64_t)max_bytes;
    get_u32(c, v, "keep", 0, &s->keep);
    warn_unknown(c, v);
}

/* otlp_file/development: {output_stream: stdout | file:///path}, written by the file exporter. */
static void otlp_file_from(cfg *c, node *v, proc_spec *s)
{
    node *at = NULL;
    s->kind = EXP_FILE;
    const char *stream = as_map(c, v) ? get_str(c, v, "output_stream", &at) : NULL;
    const char *path = !stream || strcmp(stream, "stdout") == 0                 ? "/dev/stdout"
                       : strncmp(stream, "file://", 7) == 0 && stream[7] == '/' ? stream + 7
                                                                                : NULL;
    if (!path) bad_value(c, at, "output_stream", "stdout or a file:// URL with an absolute path");
    s->file_path = path;
    warn_unknown(c, v);
}

static void exporter_from(cfg *c, node *proc, proc_spec *s)
{
    node *e = get(c, proc, "exporter");
    if (!e) {
        missing(c, proc, "exporter");
        return;
    }
    size_t mark = path_key(c, "exporter");
    node *k = plugin_key(c, e, "exporter");
    bool known = true;
    if (k) {
        node *v = e->kids[1];
        size_t name_mark = path_key(c, k->text);
        s->name = k->text;
        if (key_is(k, "otlp_http") || key_is(k, "otlp_grpc"))
            otlp_from(c, v, s, key_is(k, "otlp_grpc"));
        else if (key_is(k, "console"))
            console_from(c, v, s);
        else if (key_is(k, "zipkin"))
            zipkin_from(c, v, s);
        else if (key_is(k, "file"))
            file_from(c, v, s);
        else if (key_is(k, "otlp_file/development"))
            otlp_file_from(c, v, s);
        else
            known = false;
        path_pop(c, name_mark);
        if (!known)
            fail(c, k,
                 "unsupported exporter \"%.64s\"; expected otlp_http, otlp_grpc, zipkin, "
                 "console, file or otlp_file/development",
                 k->text);
    }
    path_pop(c, mark);
}

static void batch_from(cfg *c, node *v, otelc_batch_options *b)
{
    uint32_t ms;
    /* Every field is set: a zero would send the batch processor to the environment. */
    *b = (otelc_batch_options){.max_queue_size = 2048,
                               .schedule_delay_ms = 5000,
                               .max_export_batch_size = 512,
                               .export_timeout_ms = 30000};
    if (get_u32(c, v, "schedule_delay", 0, &ms)) b->schedule_delay_ms = ms ? ms : 1;
    if (get_u32(c, v, "export_timeout", 0, &ms)) b->export_timeout_ms = ms ? ms : UINT32_MAX;
    get_u32(c, v, "max_queue_size", 1, &b->max_queue_size);
    node *at = get_u32(c, v, "max_export_batch_size", 1, &b->max_export_batch_size);
    if (b->max_export_batch_size <= b->max_queue_size) return;
    if (!at) {
        b->max_export_batch_size = b->max_queue_size; /* only the default was too big */
        return;
    }
    char expected[64];
    snprintf(expected, sizeof expected, "at most max_queue_size (%u)", b->max_queue_size);
    bad_value(c, at, "max_export_batch_size", expected);
}

static void processor_from(cfg *c, node *item, proc_spec *s)
{
    node *k = plugin_key(c, item, "processor");
    if (!k) return;
    node *v = item->kids[1];
    bool batch = key_is(k, "batch"), simple = key_is(k, "simple");
    size_t mark = path_key(c, k->text);
    s->batch = batch;
    if ((batch || simple) && (is_null(v) || v->kind != NODE_MAP)) {
        bad_value(c, v, NULL, "a mapping with an exporter");
    } else if (batch || simple) {
        if (batch) batch_from(c, v, &s->batch_opts);
        exporter_from(c, v, s);
        warn_unknown(c, v);
    }
    path_pop(c, mark);
    if (!batch && !simple)
        fail(c, k, "unsupported processor \"%.64s\"; expected batch or simple", k->text);
}

static size_t processors_from(cfg *c, node *tp, proc_spec *specs)
{
    node *seq = get(c, tp, "processors");
    size_t n = 0;
    if (!seq) {
        missing(c, tp, "processors");
        return 0;
    }
    size_t mark = path_key(c, "processors");
    if (is_null(seq) || seq->kind != NODE_SEQ || seq->count == 0) {
        bad_value(c, seq, NULL, "a non-empty sequence");
    } else if (seq->count > OTELC_MAX_PROCESSORS) {
        fail(c, seq, "expected at most %d processors, got %zu", OTELC_MAX_PROCESSORS, seq->count);
    } else {
        for (n = 0; n < seq->count; n++) {
            size_t item_mark = path_index(c, n);
            specs[n].at = seq->kids[n];
            processor_from(c, seq->kids[n], &specs[n]);
            path_pop(c, item_mark);
        }
    }
    path_pop(c, mark);
    return n;
}

/* ---- The top level ----------------------------------------------------------------------- */

static size_t tracer_provider_from(cfg *c, node *tp, proc_spec *specs)
{
    otelc_provider_options *o = &c->out->options;
    if (!tp) {
        /* The spec: no tracer_provider means a no-op one; spans are never recorded. */
        o->sampler = otelc_sampler_always_off();
        return 0;
    }
    size_t mark = path_key(c, "tracer_provider"), n = 0;
    if (is_null(tp) || tp->kind != NODE_MAP) {
        bad_value(c, tp, NULL, "a mapping");
        path_pop(c, mark);
        return 0;
    }
    n = processors_from(c, tp, specs);
    size_t limits_mark = path_key(c, "limits");
    limits_from(c, get(c, tp, "limits"), true);
    path_pop(c, limits_mark);
    node *sampler = get(c, tp, "sampler");
    size_t sampler_mark = path_key(c, "sampler");
    if (!is_null(sampler))
        o->sampler = sampler_from(c, sampler);
    else
        o->sampler = otelc_sampler_parent_based(otelc_sampler_always_on(), NULL, NULL, NULL, NULL);
    path_pop(c, sampler_mark);
    warn_unknown(c, tp);
    path_pop(c, mark);
    return n;
}

/* "1.N" or "1.N-rc.M": the 1.0 schema, its release candidates and later minors. */
static bool parse_file_format(const char *v, unsigned *minor)
{
    const char *p = v + 2;
    if (strncmp(v, "1.", 2) != 0 || !(*p >= '0' && *p <= '9')) return false;
    for (*minor = 0; *p >= '0' && *p <= '9'; p++)
        if (*minor < 1000) *minor = *minor * 10 + (unsigned)(*p - '0');
    if (*p == '\0') return true;
    if (strncmp(p, "-rc.", 4) != 0 || !(p[4] >= '0' && p[4] <= '9')) return false;
    for (p += 4; *p >= '0' && *p <= '9'; p++) continue;
    return *p == '\0';
}

static void file_format_check(cfg *c, node *root)
{
    node *at;
    unsigned minor;
    const char *v = get_str(c, root, "file_format", &at);
    if (!at) {
        missing(c, root, "file_format");
        return;
    }
    if (is_null(at)) bad_value(c, at, "file_format", "a version such as \"1.0\"");
    if (!v) return;
    size_t mark = path_key(c, "file_format");
    if (!parse_file_format(v, &minor))
        fail(c, at, "unsupported file_format \"%.32s\"; expected 1.0", v);
    else if (minor > 0)
        warn(c, at, "file_format %.32s is newer than 1.0; keys otelc does not know are ignored", v);
    path_pop(c, mark);
}

static void log_level_from(cfg *c, node *root)
{
    static const char *const names[] = {"trace", "debug", "info", "warn", "error", "fatal", NULL};
    static const otelc_log_level levels[] = {OTELC_LOG_DEBUG, OTELC_LOG_DEBUG, OTELC_LOG_INFO,
                                             OTELC_LOG_WARN,  OTELC_LOG_ERROR, OTELC_LOG_ERROR};
    int i = get_enum(c, root, "log_level", names, "one of trace, debug, info, warn, error, fatal");
    if (i < 0) return;
    c->out->has_log_level = true;
    c->out->log_level = levels[i];
}

static size_t build(cfg *c, proc_spec *specs)
{
    static const char *const other_signals[] = {"logger_provider", "meter_provider",
                                                "instrumentation/development", NULL};
    node *root = c->root;
    otelc_file_config *o = c->out;
    if (!root || root->kind != NODE_MAP) {
        fail(c, root, "expected a mapping at the top level (with file_format)");
        return 0;
    }
    file_format_check(c, root);
    get_bool(c, root, "disabled", &o->disabled);
    log_level_from(c, root);
    size_t mark = path_key(c, "attribute_limits");
    limits_from(c, get(c, root, "attribute_limits"), false);
    path_pop(c, mark);
    size_t n = tracer_provider_from(c, get(c, root, "tracer_provider"), specs);
    mark = path_key(c, "resource");
    o->options.resource = resource_from(c, get(c, root, "resource"));
    path_pop(c, mark);
    mark = path_key(c, "propagator");
    o->options.propagator = propagator_from(c, get(c, root, "propagator"));
    path_pop(c, mark);
    /* Valid sections for signals otelc does not have. */
    for (int i = 0; other_signals[i]; i++) (void)get(c, root, other_signals[i]);
    warn_unknown(c, root);
    return n;
}

/* ---- Step 3 ----------------------------------------------------------------------------- */

static otelc_exporter *exporter_new(const proc_spec *s)
{
    switch (s->kind) {
    case EXP_OTLP:
        return otelc_otlp_exporter_new(&s->otlp);
    case EXP_CONSOLE:
        return otelc_console_exporter_new(stderr, s->console_format);
    case EXP_ZIPKIN:
        return otelc_zipkin_exporter_new(s->endpoint, s->timeout_ms);
    case EXP_FILE:
        return otelc_file_exporter_new(s->file_path, s->max_bytes, s->keep);
    }
    return NULL;
}

static void create_processors(cfg *c, const proc_spec *specs, size_t n)
{
    otelc_provider_options *o = &c->out->options;
    for (size_t i = 0; i < n; i++) {
        otelc_exporter *e = exporter_new(&specs[i]);
        otelc_processor *p = NULL;
        if (e)
            p = specs[i].batch ? otelc_batch_processor_new(e, &specs[i].batch_opts)
                               : otelc_simple_processor_new(e);
        if (p) {
            o->processors[o->processor_count++] = p;
            continue;
        }
        size_t mark = path_push(c, "", "tracer_provider.processors[%zu]", i);
        fail(c, specs[i].at, "the %s exporter could not be created (see the messages above)",
             specs[i].name);
        path_pop(c, mark);
    }
}

static bool has_yaml_extension(const char *name)
{
    size_t n = strlen(name);
    return (n >= 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n >= 4 && strcmp(name + n - 4, ".yml") == 0);
}

int otelc__config_file_parse(const char *name, const char *text, size_t len,
                             otelc_subst_lookup lookup, void *user, unsigned flags,
                             otelc_file_config *out)
{
    memset(out, 0, sizeof *out);
    out->options.no_env = true;
    out->options.processors = out->processors;
    out->options.limits = &out->limits;
    otelc_span_limits_default(&out->limits);
    cfg c = {.file = name, .out = out, .lookup = lookup, .user = user};
    proc_spec specs[OTELC_MAX_PROCESSORS];
    memset(specs, 0, sizeof specs);
    size_t n = 0;

    if (!has_yaml_extension(name))
        warn(&c, NULL, "configuration files should be named *.yaml or *.yml");
    build_tree(&c, text, len);
    if (!c.broken) n = build(&c, specs);
    if (!errors(&c) && !out->disabled && !(flags & OTELC_CONFIG_CHECK_ONLY))
        create_processors(&c, specs, n);
    for (size_t i = 0; i < n; i++) free(specs[i].headers);
    for (size_t i = 0; i < c.depth; i++) free(c.stack_anchor[i]);
    tree_free(&c);
    messages_flush(&c);
    if (errors(&c) || out->disabled) free_objects(out);
    return errors(&c) ? OTELC_ERR_CONFIG : OTELC_OK;
}

#else /* !OTELC_HAVE_YAML */

int otelc__config_file_parse(const char *name, const char *text, size_t len,
                             otelc_subst_lookup lookup, void *user, unsigned flags,
                             otelc_file_config *out)
{
    char line[1100];
    (void)text, (void)len, (void)lookup, (void)user, (void)flags;
    memset(out, 0, sizeof *out);
    out->options.no_env = true;
    snprintf(line, sizeof line, "%.1000s: this build of otelc has no YAML support (libyaml)", name);
    append_line(&out->errors, &out->error_count, line);
    return OTELC_ERR_UNSUPPORTED;
}

#endif
