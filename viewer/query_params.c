/*
 * query_params.c - parsing the query API's parameters (query_params.h).
 *
 * Durations follow Go's time.ParseDuration step by step (Jaeger parses
 * minDuration and maxDuration with it), including where it computes a
 * fraction in floating point; tags follow what Jaeger's query parser
 * accepts (cmd/query/app/query_parser.go: parseTags).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "query_params.h"

/* ---- Durations ------------------------------------------------------------------------------- */

#define NS_MAX (1ull << 63) /* Go's bound; a result must stay below it */

static const struct {
    const char *name;
    uint64_t ns;
    bool day_unit;
} units[] = {
    {"ns", 1, false},
    {"us", 1000, false},
    {"\xc2\xb5s", 1000, false}, /* U+00B5 MICRO SIGN */
    {"\xce\xbcs", 1000, false}, /* U+03BC GREEK SMALL LETTER MU */
    {"ms", 1000000, false},
    {"s", 1000000000ull, false},
    {"m", 60000000000ull, false},
    {"h", 3600000000000ull, false},
    {"d", 86400000000000ull, true},
    {"w", 604800000000000ull, true},
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The unit spelled by s[0..n), or 0 when there is none. */
static uint64_t unit_ns(const char *s, size_t n, bool days)
{
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if ((days || !units[i].day_unit) && strlen(units[i].name) == n &&
            memcmp(units[i].name, s, n) == 0)
            return units[i].ns;
    return 0;
}

/* Leading digits of *s as an integer; false when it reaches 2^63 (Go's leadingInt). */
static bool leading_int(const char **s, uint64_t *v)
{
    uint64_t x = 0;
    for (; is_digit(**s); (*s)++) {
        if (x > NS_MAX / 10) return false;
        x = x * 10 + (uint64_t)(**s - '0');
        if (x > NS_MAX) return false;
    }
    *v = x;
    return true;
}

/* Leading digits of *s as a fraction f / scale; digits past what fits are read and ignored. */
static void leading_fraction(const char **s, uint64_t *f, double *scale)
{
    bool overflow = false;
    *f = 0;
    *scale = 1;
    for (; is_digit(**s); (*s)++) {
        if (overflow) continue;
        if (*f > (NS_MAX - 1) / 10) {
            overflow = true;
            continue;
        }
        uint64_t y = *f * 10 + (uint64_t)(**s - '0');
        if (y > NS_MAX) {
            overflow = true;
            continue;
        }
        *f = y;
        *scale *= 10;
    }
}

/* One number and its unit at *s, added to *total; false when malformed or too large. */
static bool duration_term(const char **s, bool days, uint64_t *total)
{
    const char *start = *s;
    uint64_t v = 0, f = 0;
    double scale = 1;
    if (!leading_int(s, &v)) return false;
    bool pre = *s != start, post = false;
    if (**s == '.') {
        (*s)++;
        const char *frac = *s;
        leading_fraction(s, &f, &scale);
        post = *s != frac;
    }
    if (!pre && !post) return false;
    const char *u = *s;
    while (**s && **s != '.' && !is_digit(**s)) (*s)++;
    uint64_t unit = unit_ns(u, (size_t)(*s - u), days);
    if (!unit || v > NS_MAX / unit) return false;
    v *= unit;
    if (f > 0) {
        v += (uint64_t)((double)f * ((double)unit / scale));
        if (v > NS_MAX) return false;
    }
    *total += v;
    return *total <= NS_MAX;
}

bool vw_parse_duration(const char *s, bool days, uint64_t *out)
{
    if (!s || !*s) return false;
    if (strcmp(s, "0") == 0) {
        *out = 0;
        return true;
    }
    uint64_t total = 0;
    while (*s) {
        if (*s != '.' && !is_digit(*s)) return false;
        if (!duration_term(&s, days, &total)) return false;
    }
    if (total > NS_MAX - 1) return false;
    *out = total;
    return true;
}

/* ---- Integers and ids ------------------------------------------------------------------------ */

bool vw_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s) return false;
    uint64_t v = 0;
    size_t n = 0;
    for (; s[n]; n++) {
        if (n == 20 || !is_digit(s[n])) return false;
        uint64_t d = (uint64_t)(s[n] - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    if (v > max) return false;
    *out = v;
    return true;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool vw_parse_trace_id(const char *s, uint8_t out[16])
{
    if (!s) return false;
    size_t n = strnlen(s, 33);
    if (n == 0 || n > 32) return false;
    uint8_t id[16] = {0};
    /* Digit i from the right goes to byte 15 - i/2, low nibble first. */
    for (size_t i = 0; i < n; i++) {
        int v = hex_value(s[n - 1 - i]);
        if (v < 0) return false;
        id[15 - i / 2] |= (uint8_t)(i % 2 ? v << 4 : v);
    }
    memcpy(out, id, 16);
    return true;
}

/* ---- Tags ------------------------------------------------------------------------------------ */

typedef struct tag_parser {
    const char *p;
    char *store; /* where the next decoded string goes */
    vw_tags *out;
    char *err;
    size_t err_size;
} tag_parser;

static int tag_error(tag_parser *tp, const char *message)
{
    if (tp->err && tp->err_size) snprintf(tp->err, tp->err_size, "%s", message);
    return -1;
}

static void skip_space(tag_parser *tp)
{
    while (*tp->p == ' ' || *tp->p == '\t' || *tp->p == '\n' || *tp->p == '\r') tp->p++;
}

/* Add key=value (both in storage), replacing an earlier value of the same key. */
static int tag_add(tag_parser *tp, const char *key, const char *value)
{
    vw_tags *t = tp->out;
    for (size_t i = 0; i < t->count; i++) {
        if (strcmp(t->items[i].key, key) == 0) {
            t->items[i].value = value;
            return 0;
        }
    }
    if (t->count == VW_MAX_TAGS) return tag_error(tp, "too many tags (at most 32)");
    t->items[t->count++] = (vw_tag_filter){key, value};
    return 0;
}

/*
 * {"key": "value", ...}, read with the project's JSON reader into the
 * tags' document: every member a string, neither key nor value holding a
 * NUL (no filter can compare one).
 */
static int parse_json_tags(tag_parser *tp, const char *text, size_t len)
{
    static const char bad[] = "malformed 'tags' parameter: expected a JSON object of strings";
    json_value *root = otelc__json_parse(&tp->out->doc, text, len, NULL, NULL);
    if (!root || root->type != JSON_OBJECT) return tag_error(tp, bad);
    for (size_t i = 0; i < root->u.object.count; i++) {
        const json_member *m = &root->u.object.members[i];
        const json_value *v = m->value;
        if (v->type != JSON_STRING) return tag_error(tp, bad);
        if (strlen(m->key) != m->key_len || strlen(v->u.string.ptr) != v->u.string.len)
            return tag_error(tp, bad); /* a NUL: no filter can compare it */
        if (tag_add(tp, m->key, v->u.string.ptr) < 0) return -1;
    }
    return 0;
}

/* "k:v k2:v2": each word split at its first ':'. */
static int parse_pair_tags(tag_parser *tp)
{
    while (skip_space(tp), *tp->p) {
        const char *word = tp->p;
        while (*tp->p && *tp->p != ' ' && *tp->p != '\t' && *tp->p != '\n' && *tp->p != '\r')
            tp->p++;
        size_t n = (size_t)(tp->p - word);
        const char *colon = memchr(word, ':', n);
        if (!colon) return tag_error(tp, "malformed 'tag' parameter, expecting key:value");
        if (!otelc__utf8_valid(word, n)) return tag_error(tp, "a tag is not UTF-8");
        char *key = tp->store;
        memcpy(key, word, n);
        key[colon - word] = '\0';
        key[n] = '\0';
        tp->store += n + 1;
        if (tag_add(tp, key, key + (colon - word) + 1) < 0) return -1;
    }
    return 0;
}

int vw_parse_tags(const char *text, vw_tags *out, char *err, size_t err_size)
{
    out->count = 0;
    if (!text) return 0;
    size_t len = strlen(text);
    /* Decoded strings are never longer than their source, plus a NUL each. */
    char *storage = malloc(len + 2 * VW_MAX_TAGS + 2);
    tag_parser tp = {text, storage, out, err, err_size};
    if (!storage) return tag_error(&tp, "out of memory");
    free(out->storage);
    otelc__json_free(&out->doc);
    out->storage = storage;
    skip_space(&tp);
    int rc = *tp.p == '{' ? parse_json_tags(&tp, text, len) : parse_pair_tags(&tp);
    if (rc < 0) out->count = 0;
    return rc;
}

void vw_tags_free(vw_tags *t)
{
    if (!t) return;
    free(t->storage);
    otelc__json_free(&t->doc);
    t->storage = NULL;
    t->count = 0;
}
