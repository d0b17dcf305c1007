/*
 * substitute.c - environment variable references in configuration values.
 *
 * The configuration data model defines the syntax (ABNF):
 *
 *   SUBSTITUTION-REF         = "${" ["env:"] ENV-NAME [":-" DEFAULT-VALUE] "}"
 *   INVALID-SUBSTITUTION-REF = "${" *(VCHAR-WSP-NO-RBRACE) "}"
 *
 * and "$$" as an escape for "$". The escape is resolved first, scanning left
 * to right: the input is cut at each "$$" and references are matched only
 * inside the pieces between escapes, so the "$" an escape produces can never
 * start a reference ("$${A}" stays "${A}"). A "${...}" whose content is
 * made of reference characters but is not a valid reference is an error;
 * one whose content holds other characters (a newline, say) matches neither
 * rule and is left as written. Bytes above 0x7f count as reference
 * characters so that UTF-8 defaults work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_file.h"

typedef struct outbuf {
    char *data;
    size_t len;
    size_t cap;
    bool oom;
} outbuf;

static void put(outbuf *b, const char *s, size_t n)
{
    if (b->oom || n == 0) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* VCHAR-WSP-NO-RBRACE, widened to the bytes of UTF-8 sequences. */
static bool is_ref_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f && c != '}');
}

static bool is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

typedef struct ref {
    const char *name;
    size_t name_len;
    const char *def; /* NULL without ":-" */
    size_t def_len;
} ref;

/* Match c[0..n) (the text between "${" and "}") against SUBSTITUTION-REF. */
static bool parse_ref(const char *c, size_t n, ref *r)
{
    size_t i = 0;
    if (n >= 4 && memcmp(c, "env:", 4) == 0) i = 4;
    if (i >= n || !is_name_start(c[i])) return false;
    r->name = c + i;
    while (i < n && is_name_char(c[i])) i++;
    r->name_len = (size_t)(c + i - r->name);
    r->def = NULL;
    r->def_len = 0;
    if (i == n) return true;
    if (n - i < 2 || c[i] != ':' || c[i + 1] != '-') return false;
    r->def = c + i + 2;
    r->def_len = n - i - 2;
    return true;
}

static void expand_ref(outbuf *b, const ref *r, otelc_subst_lookup lookup, void *user)
{
    char name[256];
    const char *value = NULL;
    /* Longer names cannot be set in any environment worth supporting. */
    if (r->name_len < sizeof name) {
        memcpy(name, r->name, r->name_len);
        name[r->name_len] = '\0';
        value = lookup ? lookup(name, user) : NULL;
    }
    if ((!value || !*value) && r->def)
        put(b, r->def, r->def_len);
    else if (value)
        put(b, value, strlen(value));
}

static void report(char *err, size_t err_size, const char *ref_text, size_t n)
{
    if (!err || !err_size) return;
    int shown = n > 64 ? 64 : (int)n;
    snprintf(err, err_size, "invalid substitution reference \"${%.*s%s}\"", shown, ref_text,
             n > 64 ? "..." : "");
}

/* Expand the references in one piece of input that holds no "$$". */
static int expand_piece(outbuf *b, const char *s, size_t n, otelc_subst_lookup lookup, void *user,
                        char *err, size_t err_size)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] != '$' || i + 1 >= n || s[i + 1] != '{') {
            put(b, s + i, 1);
            i++;
            continue;
        }
        const char *content = s + i + 2;
        const char *close = memchr(content, '}', n - i - 2);
        if (!close) break; /* "${" without "}": literal text */
        size_t clen = (size_t)(close - content), k = 0;
        while (k < clen && is_ref_char((unsigned char)content[k])) k++;
        if (k < clen) { /* matches neither rule: keep the "$" and go on */
            put(b, s + i, 1);
            i++;
            continue;
        }
        ref r;
        if (!parse_ref(content, clen, &r)) {
            report(err, err_size, content, clen);
            return OTELC_ERR_PARSE;
        }
        expand_ref(b, &r, lookup, user);
        i += clen + 3;
    }
    put(b, s + i, n - i);
    return OTELC_OK;
}

static const char *find_escape(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == '$' && s[i + 1] == '$') return s + i;
    return NULL;
}

int otelc__substitute(const char *in, size_t len, otelc_subst_lookup lookup, void *user, char **out,
                      size_t *out_len, char *err, size_t err_size)
{
    outbuf b = {0};
    int rc = OTELC_OK;
    if (err && err_size) err[0] = '\0';
    put(&b, "", 0);

    while (rc == OTELC_OK) {
        const char *esc = find_escape(in, len);
        size_t piece = esc ? (size_t)(esc - in) : len;
        rc = expand_piece(&b, in, piece, lookup, user, err, err_size);
        if (!esc) break;
        put(&b, "$", 1);
        in += piece + 2;
        len -= piece + 2;
    }
    if (rc == OTELC_OK && !b.data && !b.oom) b.data = calloc(1, 1);
    if (rc == OTELC_OK && (b.oom || !b.data)) rc = OTELC_ERR_NOMEM;
    if (rc != OTELC_OK) {
        free(b.data);
        return rc;
    }
    *out = b.data;
    if (out_len) *out_len = b.len;
    return OTELC_OK;
}
