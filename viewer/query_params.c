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

/* Four hex digits of a \u escape; -1 when malformed. */
static long read_u16_hex(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_value(p[i]);
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Write code point cp as UTF-8 at *w. */
static void put_utf8(char **w, unsigned long cp)
{
    unsigned char *o = (unsigned char *)*w;
    if (cp < 0x80) {
        *o++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *o++ = (unsigned char)(0xc0 | cp >> 6);
        *o++ = (unsigned char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (unsigned char)(0xe0 | cp >> 12);
        *o++ = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        *o++ = (unsigned char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (unsigned char)(0xf0 | cp >> 18);
        *o++ = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
        *o++ = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        *o++ = (unsigned char)(0x80 | (cp & 0x3f));
    }
    *w = (char *)o;
}

/*
 * A \u escape (after the backslash and 'u') at tp->p, a surrogate pair
 * taking two; its UTF-8 goes to *w. A lone surrogate or U+0000 is refused:
 * neither can be part of a key or value the filters compare.
 */
static bool read_unicode_escape(tag_parser *tp, char **w)
{
    long hi = read_u16_hex(tp->p);
    if (hi < 0) return false;
    tp->p += 4;
    unsigned long cp = (unsigned long)hi;
    if (hi >= 0xd800 && hi <= 0xdbff) {
        if (tp->p[0] != '\\' || tp->p[1] != 'u') return false;
        long lo = read_u16_hex(tp->p + 2);
        if (lo < 0xdc00 || lo > 0xdfff) return false;
        tp->p += 6;
        cp = 0x10000 + (((unsigned long)hi - 0xd800) << 10) + ((unsigned long)lo - 0xdc00);
    } else if ((hi >= 0xdc00 && hi <= 0xdfff) || hi == 0) {
        return false;
    }
    put_utf8(w, cp);
    return true;
}

static bool read_escape(tag_parser *tp, char **w)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    char c = *tp->p;
    const char *at = c ? strchr(from, c) : NULL;
    if (c != 'u' && !at) return false; /* never past the end of the text */
    tp->p++;
    if (c == 'u') return read_unicode_escape(tp, w);
    *(*w)++ = to[at - from];
    return true;
}

/* A JSON string at tp->p, decoded into storage; NULL when malformed. */
static const char *read_string(tag_parser *tp)
{
    if (*tp->p != '"') return NULL;
    tp->p++;
    char *start = tp->store, *w = tp->store;
    for (;;) {
        unsigned char c = (unsigned char)*tp->p;
        if (c == '"') break;
        if (c < 0x20) return NULL; /* the end of the text, or a control character */
        if (c == '\\') {
            tp->p++;
            if (!read_escape(tp, &w)) return NULL;
            continue;
        }
        size_t n = otelc__utf8_seq_len((const unsigned char *)tp->p, strnlen(tp->p, 4));
        if (n == 0) return NULL;
        memcpy(w, tp->p, n);
        w += n;
        tp->p += n;
    }
    tp->p++;
    *w++ = '\0';
    tp->store = w;
    return start;
}

static int parse_json_tags(tag_parser *tp)
{
    static const char bad[] = "malformed 'tags' parameter: expected a JSON object of strings";
    tp->p++; /* '{' */
    skip_space(tp);
    if (*tp->p == '}') {
        tp->p++;
    } else {
        for (;;) {
            skip_space(tp);
            const char *key = read_string(tp);
            if (!key) return tag_error(tp, bad);
            skip_space(tp);
            if (*tp->p != ':') return tag_error(tp, bad);
            tp->p++;
            skip_space(tp);
            const char *value = read_string(tp);
            if (!value) return tag_error(tp, bad);
            if (tag_add(tp, key, value) < 0) return -1;
            skip_space(tp);
            if (*tp->p == '}') {
                tp->p++;
                break;
            }
            if (*tp->p != ',') return tag_error(tp, bad);
            tp->p++;
        }
    }
    skip_space(tp);
    return *tp->p ? tag_error(tp, bad) : 0;
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
    out->storage = storage;
    skip_space(&tp);
    int rc = *tp.p == '{' ? parse_json_tags(&tp) : parse_pair_tags(&tp);
    if (rc < 0) out->count = 0;
    return rc;
}

void vw_tags_free(vw_tags *t)
{
    if (!t) return;
    free(t->storage);
    t->storage = NULL;
    t->count = 0;
}
