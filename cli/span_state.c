/*
 * span_state.c - the state files of `otelc span` (see span_state.h).
 *
 * The format is line oriented text, easy to inspect when debugging a
 * script:
 *
 *   otelc-span 1
 *   trace <32 hex>
 *   span <16 hex>
 *   parent <serialised context>        (absent for a root span)
 *   kind <1..5>
 *   start <unix ns>
 *   name <text>
 *   attr <key> <value>                 (repeated)
 *   event <unix ns> <name> [<key> <value>]...   (appended later)
 *
 * Fields are separated by one space; every field is percent-encoded for
 * '%', spaces and control characters, so a field never contains a
 * separator. A reader ignores lines it does not know (forward compatible)
 * and a torn last line (a crash mid-append) is dropped.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/cli_env.h"
#include "span_state.h"

#define STATE_MAX_BYTES (4u << 20) /* a runaway event loop must not exhaust memory */
#define PATH_SIZE       4096

/* ---- Encoding -------------------------------------------------------------- */

typedef struct line {
    char *s;
    size_t len, cap;
    bool oom;
} line;

static void line_put(line *l, const char *s, size_t n)
{
    if (l->oom) return;
    if (l->len + n + 1 > l->cap) {
        size_t cap = (l->len + n + 1) * 2;
        char *p = realloc(l->s, cap);
        if (!p) {
            l->oom = true;
            return;
        }
        l->s = p;
        l->cap = cap;
    }
    memcpy(l->s + l->len, s, n);
    l->len += n;
    l->s[l->len] = '\0';
}

/* Append " <field>" percent-encoded (the first field of a line has no space: see line_tag). */
static void line_field(line *l, const char *v)
{
    line_put(l, " ", 1);
    for (const unsigned char *p = (const unsigned char *)(v ? v : ""); *p; p++) {
        char esc[4];
        if (*p == '%' || *p <= ' ' || *p == 0x7f) {
            snprintf(esc, sizeof esc, "%%%02X", *p);
            line_put(l, esc, 3);
        } else {
            line_put(l, (const char *)p, 1);
        }
    }
}

static void line_u64(line *l, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, " %llu", (unsigned long long)v);
    line_put(l, buf, strlen(buf));
}

static void line_tag(line *l, const char *tag)
{
    line_put(l, tag, strlen(tag));
}

static void line_kvs(line *l, const char *tag, const span_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        line_tag(l, tag);
        line_field(l, kv[i].key);
        line_field(l, kv[i].value);
        line_put(l, "\n", 1);
    }
}

static void line_event(line *l, const span_event *ev)
{
    line_tag(l, "event");
    line_u64(l, ev->time_ns);
    line_field(l, ev->name);
    for (size_t i = 0; i < ev->attr_count; i++) {
        line_field(l, ev->attrs[i].key);
        line_field(l, ev->attrs[i].value);
    }
    line_put(l, "\n", 1);
}

static void encode_state(line *l, const span_state *st)
{
    line_tag(l, "otelc-span 1\ntrace");
    line_field(l, st->trace_hex);
    line_tag(l, "\nspan");
    line_field(l, st->span_hex);
    if (st->parent) {
        line_tag(l, "\nparent");
        line_field(l, st->parent);
    }
    line_tag(l, "\nkind");
    line_u64(l, (uint64_t)st->kind);
    line_tag(l, "\nstart");
    line_u64(l, st->start_ns);
    line_tag(l, "\nname");
    line_field(l, st->name);
    line_put(l, "\n", 1);
    line_kvs(l, "attr", st->attrs, st->attr_count);
}

/* ---- Decoding ---------------------------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode the next space-separated field of *p in place; NULL when none is left. */
static char *next_field(char **p)
{
    if (!*p || !**p) return NULL;
    char *start = *p, *w = start, *r = start;
    while (*r && *r != ' ') {
        int hi, lo;
        if (*r == '%' && (hi = hexval((unsigned char)r[1])) >= 0 &&
            (lo = hexval((unsigned char)r[2])) >= 0) {
            *w++ = (char)(hi * 16 + lo);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *p = *r ? r + 1 : r;
    *w = '\0';
    return start;
}

static bool push_kv(span_kv **kv, size_t *n, const char *k, const char *v)
{
    span_kv *grown = realloc(*kv, (*n + 1) * sizeof **kv);
    if (!grown) return false;
    *kv = grown;
    grown[*n].key = strdup(k);
    grown[*n].value = strdup(v ? v : "");
    (*n)++;
    return grown[*n - 1].key && grown[*n - 1].value;
}

static bool parse_event(span_state *st, char *rest)
{
    char *ts = next_field(&rest), *name = next_field(&rest);
    if (!ts || !name) return true; /* malformed: dropped, like a torn line */
    span_event *grown = realloc(st->events, (st->event_count + 1) * sizeof *grown);
    if (!grown) return false;
    st->events = grown;
    span_event *ev = &grown[st->event_count++];
    memset(ev, 0, sizeof *ev);
    ev->time_ns = strtoull(ts, NULL, 10);
    ev->name = strdup(name);
    char *k;
    while ((k = next_field(&rest)) != NULL) {
        if (!push_kv(&ev->attrs, &ev->attr_count, k, next_field(&rest))) return false;
    }
    return ev->name != NULL;
}

static void copy_hex(char *dst, size_t size, const char *v)
{
    snprintf(dst, size, "%s", v ? v : "");
}

/* One line (NUL-terminated, no newline). false when memory ran out. */
static bool parse_line(span_state *st, char *l)
{
    char *p = l, *tag = next_field(&p);
    if (!tag) return true;
    if (strcmp(tag, "event") == 0) return parse_event(st, p);
    if (strcmp(tag, "attr") == 0) {
        char *k = next_field(&p);
        return !k || push_kv(&st->attrs, &st->attr_count, k, next_field(&p));
    }
    char *v = next_field(&p);
    if (!v) return true;
    if (strcmp(tag, "trace") == 0) copy_hex(st->trace_hex, sizeof st->trace_hex, v);
    if (strcmp(tag, "span") == 0) copy_hex(st->span_hex, sizeof st->span_hex, v);
    if (strcmp(tag, "kind") == 0) st->kind = atoi(v);
    if (strcmp(tag, "start") == 0) st->start_ns = strtoull(v, NULL, 10);
    if (strcmp(tag, "parent") == 0 && !st->parent) return (st->parent = strdup(v)) != NULL;
    if (strcmp(tag, "name") == 0 && !st->name) return (st->name = strdup(v)) != NULL;
    return true;
}

static bool parse_state(span_state *st, char *text)
{
    memset(st, 0, sizeof *st);
    if (strncmp(text, "otelc-span 1\n", 13) != 0) return false;
    for (char *l = text; *l;) {
        char *nl = strchr(l, '\n');
        if (!nl) break; /* a torn last line */
        *nl = '\0';
        if (!parse_line(st, l)) return false;
        l = nl + 1;
    }
    if (st->kind < OTELC_SPAN_INTERNAL || st->kind > OTELC_SPAN_CONSUMER)
        st->kind = OTELC_SPAN_INTERNAL;
    return strlen(st->trace_hex) == 32 && strlen(st->span_hex) == 16 && st->name;
}

static void free_kvs(span_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

void span_state_free(span_state *st)
{
    free(st->parent);
    free(st->name);
    free_kvs(st->attrs, st->attr_count);
    for (size_t i = 0; i < st->event_count; i++) {
        free(st->events[i].name);
        free_kvs(st->events[i].attrs, st->events[i].attr_count);
    }
    free(st->events);
    memset(st, 0, sizeof *st);
}

/* ---- The directory ------------------------------------------------------------- */

bool span_dir_open(char *dir, size_t size)
{
    if (!otelc__span_dir_from_env(dir, size)) {
        cli_error("span: state directory path too long (OTELC_SPAN_DIR)");
        return false;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        cli_error("span: cannot create %s: %s", dir, strerror(errno));
        return false;
    }
    if (!otelc__private_dir(dir, false, 022)) {
        cli_error("span: %s must be a directory owned by you and writable only by you", dir);
        return false;
    }
    return true;
}

static bool span_path(char *out, const char *dir, const char *trace_hex, const char *span_hex)
{
    int n = snprintf(out, PATH_SIZE, "%s/%s-%s.span", dir, trace_hex, span_hex);
    return n > 0 && n < PATH_SIZE;
}

bool span_state_create(const char *dir, const span_state *st)
{
    char path[PATH_SIZE], tmp[PATH_SIZE + 32];
    line l = {0};
    if (!span_path(path, dir, st->trace_hex, st->span_hex)) return false;
    snprintf(tmp, sizeof tmp, "%s/.%s.%ld.tmp", dir, st->span_hex, (long)getpid());
    encode_state(&l, st);
    int fd = l.oom ? -1 : open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && otelc__write_all(fd, l.s, l.len);
    if (fd >= 0 && close(fd) != 0) ok = false;
    /* link() instead of rename(): it fails rather than replace a span with the same ids. */
    if (ok && link(tmp, path) != 0) ok = false;
    if (!ok)
        cli_error("span: cannot write %s: %s", path, l.oom ? "out of memory" : strerror(errno));
    if (fd >= 0) unlink(tmp);
    free(l.s);
    return ok;
}

/* Open and lock a span's file; -1 when it does not exist or was claimed meanwhile. */
static int open_locked(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW);
    struct stat sb;
    if (fd < 0) return -1;
    /* Claimed while we waited: the claimer unlinks under the lock. */
    if (flock(fd, LOCK_EX) != 0 || fstat(fd, &sb) != 0 || sb.st_nlink == 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int span_state_add_event(const char *dir, const char *trace_hex, const char *span_hex,
                         const span_event *ev)
{
    char path[PATH_SIZE];
    line l = {0};
    if (!span_path(path, dir, trace_hex, span_hex)) return CLI_EXIT_INPUT;
    int fd = open_locked(path, O_RDWR | O_APPEND);
    if (fd < 0) {
        cli_error("span: no started span %s-%s (never started, already ended, or another "
                  "OTELC_SPAN_DIR)",
                  trace_hex, span_hex);
        return CLI_EXIT_INPUT;
    }
    line_event(&l, ev);
    struct stat sb;
    /* Past the reader's limit the span could not be ended any more: refuse the event instead. */
    if (fstat(fd, &sb) != 0) sb.st_size = 0;
    if ((uint64_t)sb.st_size + l.len >= STATE_MAX_BYTES) {
        close(fd);
        free(l.s);
        cli_error("span: too many events for %s-%s; event dropped", trace_hex, span_hex);
        return CLI_EXIT_INPUT;
    }
    /* A crash mid-append leaves a torn line: start on a fresh one so this event survives. */
    char last = '\n';
    if (sb.st_size > 0 && pread(fd, &last, 1, sb.st_size - 1) != 1) last = '\n';
    bool ok = !l.oom && (last == '\n' || otelc__write_all(fd, "\n", 1)) &&
              otelc__write_all(fd, l.s, l.len);
    close(fd);
    free(l.s);
    if (ok) return CLI_EXIT_OK;
    cli_error("span: cannot add the event to %s", path);
    return CLI_EXIT_INTERNAL;
}

static char *read_all(int fd)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 == cap) {
            char *p = cap < STATE_MAX_BYTES ? realloc(buf, cap * 2) : NULL;
            if (!p) break;
            buf = p;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            buf[len] = '\0';
            return buf;
        }
        len += (size_t)r;
    }
    free(buf);
    return NULL;
}

static int claim_path(const char *path, span_state *st)
{
    int fd = open_locked(path, O_RDONLY);
    if (fd < 0) return CLI_EXIT_INPUT;
    char *text = read_all(fd);
    bool ok = text && parse_state(st, text);
    /* Even an unreadable file is removed: it would otherwise be retried forever. */
    unlink(path);
    close(fd);
    free(text);
    if (ok) return CLI_EXIT_OK;
    span_state_free(st);
    cli_error("span: %s is damaged; removed", path);
    return CLI_EXIT_INPUT;
}

int span_state_claim(const char *dir, const char *trace_hex, const char *span_hex, span_state *st)
{
    char path[PATH_SIZE];
    memset(st, 0, sizeof *st);
    return span_path(path, dir, trace_hex, span_hex) ? claim_path(path, st) : CLI_EXIT_INPUT;
}

/* Read a file without claiming it (for the sweep's test). */
static bool peek(const char *path, span_state *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return false;
    char *text = read_all(fd);
    close(fd);
    bool ok = text && parse_state(st, text);
    free(text);
    if (!ok) span_state_free(st);
    return ok;
}

static bool is_span_file(const char *name)
{
    size_t n = strlen(name);
    return n == 32 + 1 + 16 + 5 && name[32] == '-' && strcmp(name + 49, ".span") == 0;
}

void span_state_sweep(const char *dir, bool (*want)(const span_state *st, void *ctx),
                      void (*found)(span_state *st, void *ctx), void *ctx)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d) return;
    while ((e = readdir(d)) != NULL) {
        char path[PATH_SIZE];
        span_state st;
        if (!is_span_file(e->d_name)) continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
        if (!peek(path, &st)) continue;
        bool take = want(&st, ctx);
        span_state_free(&st);
        /* Another command may claim it between peek and claim: then it is not ours. */
        if (take && claim_path(path, &st) == CLI_EXIT_OK) {
            found(&st, ctx);
            span_state_free(&st);
        }
    }
    closedir(d);
}
