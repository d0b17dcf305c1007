/*
 * json.c - the JSON reader and writer declared in json.h.
 *
 * A recursive-descent parser over a byte buffer; recursion is bounded by
 * the depth limit, so the C stack stays small whatever the input. JSON
 * strings may not hold raw control characters, so a newline can only be
 * whitespace: skip_ws() alone counts lines, and a column is the distance
 * from the start of the line.
 *
 * Memory is what made the first version of this parser slow (a malloc per
 * node, key and string, and a realloc per string byte: more than half the
 * time). Now nodes, keys and strings are bump-allocated from the
 * document's arena, in chunks that double as the document grows. While a
 * container is open its children wait on a stack the parser reuses (one
 * for array items, one for object members); at the closing bracket they
 * are copied into an exactly-sized list in the arena.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define FIRST_CHUNK 4096
#define MAX_CHUNK   ((size_t)1 << 20)

typedef struct parser {
    const unsigned char *p, *end;
    const unsigned char *line_start;
    unsigned line;
    unsigned depth, max_depth;
    bool lossy;
    bool failed;
    json_error *err;
    json_doc *doc;
    json_value **items; /* children of the open arrays, innermost last */
    size_t items_len, items_cap;
    json_member *members; /* members of the open objects, innermost last */
    size_t members_len, members_cap;
} parser;

/* Record the first (innermost) error, at the cursor. */
static void record(parser *ps, json_error_kind kind, const char *message)
{
    if (ps->failed) return;
    ps->failed = true;
    if (!ps->err) return;
    ps->err->kind = kind;
    ps->err->line = ps->line;
    ps->err->column = (unsigned)(ps->p - ps->line_start) + 1;
    otelc__strlcpy(ps->err->message, message, sizeof ps->err->message);
}

#define PERR_FORMAT(ps, kind, fmt)                                                                 \
    do {                                                                                           \
        char message[sizeof ps->err->message];                                                     \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        vsnprintf(message, sizeof message, fmt, ap);                                               \
        va_end(ap);                                                                                \
        record(ps, kind, message);                                                                 \
    } while (0)

static void perr(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void perr_limit(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A syntax error. */
static void perr(parser *ps, const char *fmt, ...)
{
    PERR_FORMAT(ps, JSON_ERR_SYNTAX, fmt);
}

/* A limit of the options exceeded. */
static void perr_limit(parser *ps, const char *fmt, ...)
{
    PERR_FORMAT(ps, JSON_ERR_LIMIT, fmt);
}

/* Out of memory; false for the caller to return. */
static bool nomem(parser *ps)
{
    record(ps, JSON_ERR_NOMEM, "out of memory");
    return false;
}

static void skip_ws(parser *ps)
{
    const unsigned char *p = ps->p;
    for (; p < ps->end; p++) {
        if (*p == '\n') {
            ps->line++;
            ps->line_start = p + 1;
        } else if (*p != ' ' && *p != '\t' && *p != '\r') {
            break;
        }
    }
    ps->p = p;
}

static int peek(const parser *ps)
{
    return ps->p < ps->end ? *ps->p : -1;
}

/* Report the byte at the cursor as unexpected, printable or not. */
static void perr_unexpected(parser *ps)
{
    int c = peek(ps);
    if (c < 0)
        perr(ps, "unexpected end of input");
    else if (c >= 0x20 && c < 0x7f)
        perr(ps, "unexpected character '%c'", c);
    else
        perr(ps, "unexpected byte 0x%02x", (unsigned)c);
}

/* ---- Memory ---------------------------------------------------------------- */

/* From the document's arena; a new chunk, twice the last, when the block is full. */
static void *doc_alloc(json_doc *d, size_t size, size_t align)
{
    otelc_arena *a = &d->arena;
    if (!a->pos || (size_t)(a->end - a->pos) < size + align) {
        size_t chunk = d->next_chunk ? d->next_chunk : FIRST_CHUNK;
        if (chunk < MAX_CHUNK) d->next_chunk = chunk * 2;
        if (!otelc__arena_reserve(a, chunk > size + align ? chunk : size + align)) return NULL;
    }
    return otelc__arena_alloc(a, size, align);
}

static json_value *node(json_doc *d, json_type type, unsigned line, unsigned column)
{
    json_value *v = doc_alloc(d, sizeof *v, _Alignof(json_value));
    if (!v) return NULL;
    memset(v, 0, sizeof *v);
    v->type = type;
    v->line = line;
    v->column = column;
    return v;
}

/* Room for one more element on a parser stack of elem-sized entries. */
static bool stack_room(void **stack, size_t len, size_t *cap, size_t elem)
{
    if (len < *cap) return true;
    size_t n = *cap ? *cap * 2 : 64;
    if (n > SIZE_MAX / elem) return false;
    void *p = realloc(*stack, n * elem);
    if (!p) return false;
    *stack = p;
    *cap = n;
    return true;
}

/* ---- Strings ------------------------------------------------------------------ */

/* Bytes that a string copies as they are: printable ASCII but the quote and backslash. */
static const unsigned char plain[256] = {
    [0x20 ... 0x21] = 1,
    [0x23 ... 0x5b] = 1,
    [0x5d ... 0x7f] = 1,
};

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

static unsigned char *put_code_point(unsigned char *o, uint32_t cp)
{
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
    return o;
}

/* Four hex digits at p: the value, or -1 with *stop at the first byte that is not one. */
static int32_t hex4(const unsigned char *p, const unsigned char *end, const unsigned char **stop)
{
    int32_t v = 0;
    for (int i = 0; i < 4; i++, p++) {
        int c = p < end ? *p : -1, d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return *stop = p, -1;
        v = v * 16 + d;
    }
    *stop = p;
    return v;
}

/* The error of an escape: the cursor moves to where the problem was seen. */
static const unsigned char *escape_error(parser *ps, const unsigned char *at, const char *msg)
{
    ps->p = at;
    perr(ps, "%s", msg);
    return NULL;
}

/*
 * After "\u" at p: one code point written at *o, a surrogate pair taking
 * two escapes. Returns the byte after the escape(s), or NULL on error.
 */
static const unsigned char *unicode_escape(parser *ps, const unsigned char *p, unsigned char **o)
{
    const unsigned char *end = ps->end, *q;
    int32_t hi = hex4(p, end, &q);
    if (hi < 0) return escape_error(ps, q, "invalid \\u escape: four hex digits expected");
    uint32_t cp = (uint32_t)hi;
    if (cp >= 0xdc00 && cp <= 0xdfff) {
        if (!ps->lossy) return escape_error(ps, q, "unpaired low surrogate in \\u escape");
        cp = 0xfffd;
    } else if (cp >= 0xd800 && cp <= 0xdbff) {
        const unsigned char *r = q;
        int32_t lo = -1;
        if (r < end && *r == '\\') r++;
        if (r > q && r < end && *r == 'u') lo = hex4(r + 1, end, &r);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
            q = r;
        } else if (ps->lossy) {
            cp = 0xfffd; /* what follows is read again on its own */
        } else {
            if (r < end && r == q) r++; /* the old parser's position: past the byte it read */
            return escape_error(ps, r, "high surrogate not followed by a \\u low surrogate");
        }
    }
    *o = put_code_point(*o, cp);
    return q;
}

/* After the backslash at p: the escape decoded at *o; the byte after it, or NULL. */
static const unsigned char *escape(parser *ps, const unsigned char *p, unsigned char **o)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    int c = p < ps->end ? *p : -1;
    if (c == 'u') return unicode_escape(ps, p + 1, o);
    const char *hit = c > 0 ? memchr(from, c, sizeof from - 1) : NULL;
    if (!hit) return escape_error(ps, p, "invalid escape sequence in string");
    *(*o)++ = (unsigned char)to[hit - from];
    return p + 1;
}

/*
 * Decode the body of a string at p (after the quote) into o, which has
 * room for it; the end is the closing quote. Returns the byte after the
 * quote, or NULL on error; *out_end is where the output stopped.
 */
static const unsigned char *decode_string(parser *ps, const unsigned char *p, unsigned char *o,
                                          unsigned char **out_end)
{
    const unsigned char *end = ps->end;
    for (;;) {
        while (p < end && plain[*p]) *o++ = *p++;
        if (p == end) return escape_error(ps, p, "unterminated string");
        unsigned c = *p;
        if (c == '"') break;
        if (c == '\\') {
            if (!(p = escape(ps, p + 1, &o))) return NULL;
        } else if (c < 0x20) {
            ps->p = p;
            perr(ps, "control character 0x%02x in string (escape it)", c);
            return NULL;
        } else {
            size_t n = otelc__utf8_seq_len(p, (size_t)(end - p));
            if (n) {
                memcpy(o, p, n);
                o += n, p += n;
            } else if (ps->lossy) {
                memcpy(o, replacement, 3);
                o += 3, p++;
            } else {
                return escape_error(ps, p, "invalid UTF-8 in string");
            }
        }
    }
    *out_end = o;
    return p + 1;
}

/* The bytes up to the closing quote of the string starting at p, escapes skipped. */
static size_t raw_length(const unsigned char *p, const unsigned char *end)
{
    const unsigned char *q = p;
    while (q < end && *q != '"') q += *q == '\\' && q + 1 < end ? 2 : 1;
    return (size_t)(q - p);
}

/* A string at the opening quote: decoded into the arena, NUL-terminated. */
static bool parse_string(parser *ps, char **out, size_t *len)
{
    const unsigned char *start = ps->p + 1, *q = start;
    while (q < ps->end && plain[*q]) q++;
    if (q < ps->end && *q == '"') { /* the common case: nothing to decode */
        size_t n = (size_t)(q - start);
        char *s = doc_alloc(ps->doc, n + 1, 1);
        if (!s) return nomem(ps);
        memcpy(s, start, n);
        s[n] = '\0';
        *out = s, *len = n;
        ps->p = q + 1;
        return true;
    }
    /* Decoding never lengthens a string, except U+FFFD for one bad byte (lossy). */
    size_t raw = raw_length(start, ps->end), room = (ps->lossy ? 3 * raw : raw) + 1;
    unsigned char *s = doc_alloc(ps->doc, room, 1), *s_end;
    if (!s) return nomem(ps);
    const unsigned char *after = decode_string(ps, start, s, &s_end);
    if (!after) return false;
    *s_end = '\0';
    ps->doc->arena.pos = (char *)s_end + 1; /* give back what the bound overestimated */
    *out = (char *)s, *len = (size_t)(s_end - s);
    ps->p = after;
    return true;
}

/* ---- Scalars -------------------------------------------------------------------- */

static bool is_digit(const unsigned char *p, const unsigned char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/* The part of a literal that is not an integer: strtod on a terminated copy. */
static bool read_double(parser *ps, const unsigned char *start, double *out)
{
    size_t n = (size_t)(ps->p - start);
    char small[64], *text = n < sizeof small ? small : malloc(n + 1);
    if (!text) return nomem(ps);
    memcpy(text, start, n);
    text[n] = '\0';
    *out = otelc__strtod(text, NULL);
    if (text != small) free(text);
    if (!isfinite(*out)) return perr(ps, "number out of range"), false;
    return true;
}

/* Sets the exact fields of an integer literal of magnitude mag (and sign neg). */
static void set_integer(json_number *n, bool neg, uint64_t mag)
{
    if (!neg) {
        n->u = mag;
        n->is_uint = true;
        n->is_int = mag <= (uint64_t)INT64_MAX;
        n->d = (double)mag;
    } else if (mag <= (uint64_t)INT64_MAX + 1) {
        n->i = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
        n->is_int = true;
        n->is_uint = mag == 0; /* "-0" */
        n->d = -(double)mag;
    }
}

static json_value *parse_number(parser *ps, unsigned line, unsigned column)
{
    const unsigned char *start = ps->p, *p = ps->p, *end = ps->end;
    bool neg = p < end && *p == '-', integer = true, fits = true;
    uint64_t mag = 0;
    p += neg;
    if (p < end && *p == '0') {
        p++; /* no digit may follow a leading zero */
    } else if (!is_digit(p, end)) {
        ps->p = p;
        return perr(ps, "invalid number: digit expected"), NULL;
    } else {
        for (; is_digit(p, end); p++) {
            unsigned d = *p - '0';
            if (mag > (UINT64_MAX - d) / 10) fits = false;
            mag = mag * 10 + d;
        }
    }
    if (p < end && *p == '.') {
        integer = false;
        if (!is_digit(++p, end)) {
            ps->p = p;
            return perr(ps, "invalid number: digit expected after '.'"), NULL;
        }
        while (is_digit(p, end)) p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        integer = false;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (!is_digit(p, end)) {
            ps->p = p;
            return perr(ps, "invalid number: digit expected in exponent"), NULL;
        }
        while (is_digit(p, end)) p++;
    }
    ps->p = p;
    json_value *v = node(ps->doc, JSON_NUMBER, line, column);
    if (!v) return nomem(ps), NULL;
    if (integer && fits) set_integer(&v->u.number, neg, mag);
    if (!v->u.number.is_int && !v->u.number.is_uint && !read_double(ps, start, &v->u.number.d))
        return NULL;
    return v;
}

static json_value *parse_literal(parser *ps, unsigned line, unsigned column)
{
    static const struct {
        const char *word;
        size_t len;
        json_type type;
        bool value;
    } words[] = {{"true", 4, JSON_BOOL, true},
                 {"false", 5, JSON_BOOL, false},
                 {"null", 4, JSON_NULL, false}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = words[i].len;
        if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, words[i].word, n) != 0) continue;
        ps->p += n;
        json_value *v = node(ps->doc, words[i].type, line, column);
        if (!v) return nomem(ps), NULL;
        v->u.boolean = words[i].value;
        return v;
    }
    perr_unexpected(ps);
    return NULL;
}

/* ---- Containers ------------------------------------------------------------------- */

static json_value *parse_value(parser *ps);

/* At an opening bracket: one level deeper, past the bracket. */
static bool enter(parser *ps)
{
    if (ps->depth >= ps->max_depth) {
        perr_limit(ps, "nesting deeper than %u levels", ps->max_depth);
        return false;
    }
    ps->depth++;
    ps->p++;
    skip_ws(ps);
    return true;
}

/* After an element: 1 to read another, 0 past the closing bracket, -1 on error. */
static int more(parser *ps, int close)
{
    skip_ws(ps);
    int c = peek(ps);
    if (c == ',') {
        ps->p++;
        skip_ws(ps);
        return 1;
    }
    if (c == close) {
        ps->p++;
        ps->depth--;
        return 0;
    }
    if (c < 0)
        perr(ps, "unexpected end of input: ',' or '%c' expected", close);
    else
        perr(ps, "',' or '%c' expected", close);
    return -1;
}

/* The array whose items are on the stack from base: moved into the arena. */
static json_value *close_array(parser *ps, size_t base, unsigned line, unsigned column)
{
    json_value *v = node(ps->doc, JSON_ARRAY, line, column);
    size_t n = ps->items_len - base;
    json_value **items = n ? doc_alloc(ps->doc, n * sizeof *items, _Alignof(json_value *)) : NULL;
    if (!v || (n && !items)) return nomem(ps), NULL;
    if (n) memcpy(items, ps->items + base, n * sizeof *items);
    v->u.array.items = items;
    v->u.array.count = n;
    ps->items_len = base;
    return v;
}

static json_value *parse_array(parser *ps, unsigned line, unsigned column)
{
    size_t base = ps->items_len;
    if (!enter(ps)) return NULL;
    if (peek(ps) == ']') {
        ps->p++;
        ps->depth--;
        return close_array(ps, base, line, column);
    }
    int m;
    do {
        json_value *item = parse_value(ps);
        if (!item) return NULL;
        if (!stack_room((void **)&ps->items, ps->items_len, &ps->items_cap, sizeof *ps->items))
            return nomem(ps), NULL;
        ps->items[ps->items_len++] = item;
    } while ((m = more(ps, ']')) > 0);
    return m == 0 ? close_array(ps, base, line, column) : NULL;
}

static json_value *close_object(parser *ps, size_t base, unsigned line, unsigned column)
{
    json_value *v = node(ps->doc, JSON_OBJECT, line, column);
    size_t n = ps->members_len - base;
    json_member *members =
        n ? doc_alloc(ps->doc, n * sizeof *members, _Alignof(json_member)) : NULL;
    if (!v || (n && !members)) return nomem(ps), NULL;
    if (n) memcpy(members, ps->members + base, n * sizeof *members);
    v->u.object.members = members;
    v->u.object.count = n;
    ps->members_len = base;
    return v;
}

static bool parse_member(parser *ps)
{
    int c = peek(ps);
    if (c != '"') {
        if (c < 0)
            perr(ps, "unexpected end of input: object key expected");
        else
            perr(ps, "object key (a string) expected");
        return false;
    }
    json_member m;
    if (!parse_string(ps, &m.key, &m.key_len)) return false;
    skip_ws(ps);
    if (peek(ps) != ':') return perr(ps, "':' expected after object key"), false;
    ps->p++;
    skip_ws(ps);
    if (!(m.value = parse_value(ps))) return false;
    if (!stack_room((void **)&ps->members, ps->members_len, &ps->members_cap, sizeof m))
        return nomem(ps);
    ps->members[ps->members_len++] = m;
    return true;
}

static json_value *parse_object(parser *ps, unsigned line, unsigned column)
{
    size_t base = ps->members_len;
    if (!enter(ps)) return NULL;
    if (peek(ps) == '}') {
        ps->p++;
        ps->depth--;
        return close_object(ps, base, line, column);
    }
    int m;
    do {
        if (!parse_member(ps)) return NULL;
    } while ((m = more(ps, '}')) > 0);
    return m == 0 ? close_object(ps, base, line, column) : NULL;
}

static json_value *parse_value(parser *ps)
{
    unsigned line = ps->line, column = (unsigned)(ps->p - ps->line_start) + 1;
    int c = peek(ps);
    if (c == '{') return parse_object(ps, line, column);
    if (c == '[') return parse_array(ps, line, column);
    if (c == '"') {
        json_value *v = node(ps->doc, JSON_STRING, line, column);
        if (!v) return nomem(ps), NULL;
        return parse_string(ps, &v->u.string.ptr, &v->u.string.len) ? v : NULL;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(ps, line, column);
    return parse_literal(ps, line, column);
}

json_value *otelc__json_parse(json_doc *doc, const char *text, size_t len,
                              const json_options *options, json_error *err)
{
    const unsigned char *start = (const unsigned char *)(text ? text : "");
    parser ps = {
        .p = start,
        .end = start + len,
        .line_start = start,
        .line = 1,
        .max_depth = options && options->max_depth ? options->max_depth : JSON_DEFAULT_MAX_DEPTH,
        .lossy = options && options->lossy_utf8,
        .err = err,
        .doc = doc,
    };
    size_t max_size = options && options->max_size ? options->max_size : JSON_DEFAULT_MAX_SIZE;
    if (err) *err = (json_error){0};
    if (!text && len) return perr(&ps, "no input"), NULL; /* NULL with 0 is the empty text */
    if (len > max_size) return perr_limit(&ps, "input larger than %zu bytes", max_size), NULL;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) ps.p = ps.line_start = start + 3;
    skip_ws(&ps);
    json_value *root = parse_value(&ps);
    if (root) {
        skip_ws(&ps);
        if (ps.p < ps.end) {
            perr(&ps, "unexpected data after the JSON value");
            root = NULL;
        }
    }
    free(ps.items);
    free(ps.members);
    if (!root) otelc__json_free(doc);
    doc->root = root;
    return root;
}

void otelc__json_free(json_doc *doc)
{
    otelc__arena_free(&doc->arena);
    *doc = (json_doc){0};
}

/* ---- Lookups ----------------------------------------------------------------------- */

const json_value *otelc__json_object_get(const json_value *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT || !key) return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < obj->u.object.count; i++) {
        const json_member *m = &obj->u.object.members[i];
        if (m->key_len == n && memcmp(m->key, key, n) == 0) return m->value;
    }
    return NULL;
}

const char *otelc__json_type_name(json_type type)
{
    static const char *const names[] = {"null", "boolean", "number", "string", "array", "object"};
    return (unsigned)type < sizeof names / sizeof names[0] ? names[type] : "?";
}

/* Decimal digits of s[0..n) (n >= 1) into *out; false on another byte or overflow. */
static bool decimal_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9 || v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* 2^53: every integer up to it is exact in a double. */
#define EXACT_DOUBLE 9007199254740992.0

bool otelc__json_int64(const json_value *v, int64_t *out)
{
    if (!v) return false;
    if (v->type == JSON_NUMBER) {
        const json_number *n = &v->u.number;
        if (n->is_int) return *out = n->i, true;
        /* "1e3" and "5.0" are integers too, when the double holds them exactly. */
        if (n->is_uint || n->d != floor(n->d) || fabs(n->d) > EXACT_DOUBLE) return false;
        return *out = (int64_t)n->d, true;
    }
    if (v->type != JSON_STRING) return false;
    const char *s = v->u.string.ptr;
    size_t len = v->u.string.len;
    bool neg = len && s[0] == '-';
    uint64_t mag;
    if (!decimal_u64(s + neg, len - neg, &mag) || mag > (uint64_t)INT64_MAX + neg) return false;
    *out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : neg ? -(int64_t)mag : (int64_t)mag;
    return true;
}

bool otelc__json_uint64(const json_value *v, uint64_t *out)
{
    if (!v) return false;
    if (v->type == JSON_NUMBER) {
        const json_number *n = &v->u.number;
        if (n->is_uint) return *out = n->u, true;
        if (n->is_int || n->d < 0 || n->d != floor(n->d) || n->d > EXACT_DOUBLE) return false;
        return *out = (uint64_t)n->d, true;
    }
    return v->type == JSON_STRING && decimal_u64(v->u.string.ptr, v->u.string.len, out);
}

/* ---- Building trees ---------------------------------------------------------------- */

json_value *otelc__json_new(json_doc *doc, json_type type, unsigned line, unsigned column)
{
    return node(doc, type, line, column);
}

json_value *otelc__json_new_string(json_doc *doc, const char *s, size_t len, unsigned line,
                                   unsigned column)
{
    json_value *v = node(doc, JSON_STRING, line, column);
    char *copy = v ? doc_alloc(doc, len + 1, 1) : NULL;
    if (!copy) return NULL;
    if (len) memcpy(copy, s, len);
    copy[len] = '\0';
    v->u.string.ptr = copy;
    v->u.string.len = len;
    return v;
}

/*
 * Make room for one more element in a built list. The capacity is implicit
 * (4, then doubling), so a list is full exactly when its count is 0 or a
 * power of two >= 4; a full list moves to a new block twice its size (the
 * old one stays in the arena until the document goes).
 */
static bool grow(json_doc *doc, void **items, size_t count, size_t elem)
{
    if (count != 0 && (count < 4 || (count & (count - 1)))) return true;
    size_t cap = count ? count * 2 : 4;
    if (cap > SIZE_MAX / elem) return false;
    void *p = doc_alloc(doc, cap * elem, _Alignof(max_align_t));
    if (!p) return false;
    if (count) memcpy(p, *items, count * elem);
    *items = p;
    return true;
}

int otelc__json_array_push(json_doc *doc, json_value *array, json_value *item)
{
    if (!array || array->type != JSON_ARRAY || !item) return -1;
    void *items = array->u.array.items;
    if (!grow(doc, &items, array->u.array.count, sizeof(json_value *))) return -1;
    array->u.array.items = items;
    array->u.array.items[array->u.array.count++] = item;
    return 0;
}

int otelc__json_object_add(json_doc *doc, json_value *object, const char *key, size_t key_len,
                           json_value *value)
{
    if (!object || object->type != JSON_OBJECT || !value) return -1;
    char *copy = doc_alloc(doc, key_len + 1, 1);
    if (!copy) return -1;
    if (key_len) memcpy(copy, key, key_len);
    copy[key_len] = '\0';
    void *members = object->u.object.members;
    if (!grow(doc, &members, object->u.object.count, sizeof(json_member))) return -1;
    object->u.object.members = members;
    object->u.object.members[object->u.object.count++] = (json_member){copy, key_len, value};
    return 0;
}

/* ---- Writing ------------------------------------------------------------------------ */

void otelc__json_write_string(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(f, "\\u%04x", c);
            else
                fputc(c, f);
        }
    }
    fputc('"', f);
}

static void write_number(FILE *f, const json_number *n)
{
    char text[32];
    if (n->is_int)
        snprintf(text, sizeof text, "%" PRId64, n->i);
    else if (n->is_uint)
        snprintf(text, sizeof text, "%" PRIu64, n->u);
    else if (n->d == floor(n->d) && fabs(n->d) < EXACT_DOUBLE)
        snprintf(text, sizeof text, "%.0f", n->d);
    else
        snprintf(text, sizeof text, "%.17g", n->d);
    for (char *c = text; *c; c++) /* printf follows LC_NUMERIC; JSON wants a point */
        if (*c == ',') *c = '.';
    fputs(text, f);
}

void otelc__json_write(FILE *f, const json_value *v)
{
    switch (v->type) {
    case JSON_NULL:
        fputs("null", f);
        break;
    case JSON_BOOL:
        fputs(v->u.boolean ? "true" : "false", f);
        break;
    case JSON_NUMBER:
        write_number(f, &v->u.number);
        break;
    case JSON_STRING:
        otelc__json_write_string(f, v->u.string.ptr, v->u.string.len);
        break;
    case JSON_ARRAY:
        fputc('[', f);
        for (size_t i = 0; i < v->u.array.count; i++) {
            if (i) fputc(',', f);
            otelc__json_write(f, v->u.array.items[i]);
        }
        fputc(']', f);
        break;
    case JSON_OBJECT:
        fputc('{', f);
        for (size_t i = 0; i < v->u.object.count; i++) {
            const json_member *m = &v->u.object.members[i];
            if (i) fputc(',', f);
            otelc__json_write_string(f, m->key, m->key_len);
            fputc(':', f);
            otelc__json_write(f, m->value);
        }
        fputc('}', f);
        break;
    }
}
