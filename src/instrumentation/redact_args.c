/*
 * redact_args.c - secrets out of recorded command lines: the resource's
 * process.command_args and the spans `otelc exec` and `otelc run` record.
 *
 * One left-to-right scan per argument copies the text and, at each '=' or
 * ':' preceded by a secret-looking key, at each "://" with credentials and
 * after each secret flag standing alone, writes REDACTED instead of the
 * value. The rules err on the side of hiding: a false positive costs a
 * less useful attribute, a false negative leaks a credential.
 */
#include "internal.h"
#include "otelc/instrument/redact.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct out {
    char *p;
    size_t len, cap;
    bool oom;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->oom) return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = (o->len + n + 1) * 2;
        char *p = realloc(o->p, cap);
        if (!p) {
            o->oom = true;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static bool key_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

/* Does the key (leading dashes allowed) name a secret? The library's rule, shared with URLs. */
static bool secret_key(const char *key, size_t len)
{
    while (len && *key == '-') key++, len--;
    return otelc_redact_is_sensitive_key(key, len);
}

/* A flag that names a secret and expects its value in the next word: --password, --token. */
static bool secret_flag(const char *word, size_t len)
{
    return len > 1 && word[0] == '-' && !memchr(word, '=', len) && secret_key(word, len);
}

static bool value_end(char c)
{
    return c == '\0' || isspace((unsigned char)c) || strchr("&;,\"')", c);
}

/* s[i..] starts "://": copy the scheme separator and the authority with credentials hidden. */
static size_t url_credentials(out *o, const char *s, size_t i)
{
    size_t start = i + 3, end = start, at = 0;
    while (s[end] && !strchr("/?#\"' \t\n", s[end])) {
        if (s[end] == '@') at = end;
        end++;
    }
    put(o, "://", 3);
    if (!at) return start;
    const char *colon = memchr(s + start, ':', at - start);
    /* The user name goes too: it is often a token itself (https://TOKEN@host). */
    if (colon) put(o, OTELC_REDACTED ":", sizeof OTELC_REDACTED);
    put(o, OTELC_REDACTED "@", sizeof OTELC_REDACTED);
    return at + 1;
}

/* After a secret key's separator: copy spaces and an auth scheme word, hide the value. */
static size_t secret_value(out *o, const char *s, size_t i)
{
    static const char *const schemes[] = {"Bearer ", "Basic ", "Token ", "Digest "};
    while (s[i] == ' ') put(o, &s[i++], 1);
    for (size_t k = 0; k < sizeof schemes / sizeof schemes[0]; k++) {
        size_t n = strlen(schemes[k]);
        if (strncasecmp(s + i, schemes[k], n) == 0) {
            put(o, s + i, n);
            i += n;
        }
    }
    char quote = s[i] == '"' || s[i] == '\'' ? s[i] : 0;
    size_t end = i + (quote != 0);
    while (s[end] && (quote ? s[end] != quote : !value_end(s[end]))) end++;
    if (end == i) return i; /* nothing to hide */
    if (quote) put(o, &quote, 1);
    put(o, OTELC_REDACTED, sizeof OTELC_REDACTED - 1);
    if (quote && s[end]) put(o, &quote, 1), end++;
    return end;
}

/* Redact one string; *hide_next carries "the next word is a secret" across words and arguments. */
static char *redact(const char *s, bool *hide_next)
{
    out o = {0};
    size_t i = 0, word = 0;
    put(&o, "", 0);
    while (s[i]) {
        if (i == word && *hide_next && !isspace((unsigned char)s[i])) {
            *hide_next = false;
            i = secret_value(&o, s, i);
            continue;
        }
        if (isspace((unsigned char)s[i])) {
            put(&o, &s[i++], 1);
            word = i;
            continue;
        }
        if (strncmp(s + i, "://", 3) == 0) {
            i = url_credentials(&o, s, i);
            continue;
        }
        if (s[i] == '=' || s[i] == ':') {
            size_t k = i;
            while (k > word && key_char(s[k - 1])) k--;
            put(&o, &s[i], 1);
            i = secret_key(s + k, i - k) ? secret_value(&o, s, i + 1) : i + 1;
            continue;
        }
        size_t end = i;
        while (s[end] && !isspace((unsigned char)s[end])) end++;
        if (i == word && secret_flag(s + i, end - i)) *hide_next = true;
        put(&o, &s[i++], 1);
    }
    if (o.oom) {
        free(o.p);
        return NULL;
    }
    return o.p;
}

char **otelc__redact_args(char *const *argv, size_t n)
{
    char **safe = calloc(n + 1, sizeof *safe);
    bool hide_next = false;
    for (size_t i = 0; safe && i < n; i++) {
        if (!(safe[i] = redact(argv[i] ? argv[i] : "", &hide_next))) {
            otelc__redact_args_free(safe, i);
            return NULL;
        }
        /* A flag's value may be a whole next argument with spaces in it. */
        if (hide_next && i + 1 < n && argv[i + 1] && strchr(argv[i + 1], ' ')) {
            hide_next = false;
            if (!(safe[++i] = strdup(OTELC_REDACTED))) {
                otelc__redact_args_free(safe, i);
                return NULL;
            }
        }
    }
    return safe;
}

void otelc__redact_args_free(char **args, size_t n)
{
    if (!args) return;
    for (size_t i = 0; i < n; i++) free(args[i]);
    free(args);
}
