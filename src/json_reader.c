/*
 * json_reader.c - the JSON reader's tokens (json.h, "Reading token by
 * token"): the grammar, strings, numbers and limits, for the tree parser
 * (json.c) and for decoders that build their own structures.
 *
 * JSON strings may not hold raw control characters, so a newline can only
 * be whitespace: skip_ws() alone counts lines, and a column is the
 * distance from the start of the line. A string without escapes or bytes
 * above 0x7e (most of them) is handed out where it lies in the text; the
 * others are decoded into a scratch buffer the reader reuses.
 *
 * Between tokens the reader remembers what the grammar allows next
 * (expect) and, per open container, whether it is an object: a stack of
 * bytes as deep as the nesting, which max_depth bounds.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* What may come next. */
enum {
    EXPECT_VALUE,          /* a value: at the start, after a key, after a ',' in an array */
    EXPECT_VALUE_OR_CLOSE, /* after '[' */
    EXPECT_KEY_OR_CLOSE,   /* after '{' */
    EXPECT_AFTER_VALUE,    /* ',' or the closing bracket; the end at depth 0 */
    EXPECT_NOTHING,        /* after the end */
};

/* Record the first error, at the cursor. */
static void record(json_reader *r, json_error_kind kind, const char *message)
{
    if (r->failed) return;
    r->failed = true;
    r->error.kind = kind;
    r->error.line = r->line;
    r->error.column = (unsigned)(r->p - r->line_start) + 1;
    otelc__strlcpy(r->error.message, message, sizeof r->error.message);
}

#define RERR_FORMAT(r, kind, fmt)                                                                  \
    do {                                                                                           \
        char message[sizeof r->error.message];                                                     \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        vsnprintf(message, sizeof message, fmt, ap);                                               \
        va_end(ap);                                                                                \
        record(r, kind, message);                                                                  \
    } while (0)

static void perr(json_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void perr_limit(json_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A syntax error. */
static void perr(json_reader *r, const char *fmt, ...)
{
    RERR_FORMAT(r, JSON_ERR_SYNTAX, fmt);
}

/* A limit of the options exceeded. */
static void perr_limit(json_reader *r, const char *fmt, ...)
{
    RERR_FORMAT(r, JSON_ERR_LIMIT, fmt);
}

/* Out of memory; false for the caller to return. */
static bool nomem(json_reader *r)
{
    record(r, JSON_ERR_NOMEM, "out of memory");
    return false;
}

static void skip_ws_slow(json_reader *r)
{
    const unsigned char *p = r->p;
    for (; p < r->end; p++) {
        if (*p == '\n') {
            r->line++;
            r->line_start = p + 1;
        } else if (*p != ' ' && *p != '\t' && *p != '\r') {
            break;
        }
    }
    r->p = p;
}

/* Compact JSON has no whitespace between tokens: one test then. */
static inline void skip_ws(json_reader *r)
{
    if (r->p<r->end && * r->p> ' ') return;
    skip_ws_slow(r);
}

static int peek(const json_reader *r)
{
    return r->p < r->end ? *r->p : -1;
}

/* Report the byte at the cursor as unexpected, printable or not. */
static void perr_unexpected(json_reader *r)
{
    int c = peek(r);
    if (c < 0)
        perr(r, "unexpected end of input");
    else if (c >= 0x20 && c < 0x7f)
        perr(r, "unexpected character '%c'", c);
    else
        perr(r, "unexpected byte 0x%02x", (unsigned)c);
}

/* ---- Strings ------------------------------------------------------------------ */

/* Bytes that a string holds as they are: printable ASCII but the quote and backslash. */
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
static const unsigned char *escape_error(json_reader *r, const unsigned char *at, const char *msg)
{
    r->p = at;
    perr(r, "%s", msg);
    return NULL;
}

/*
 * After "\u" at p: one code point written at *o, a surrogate pair taking
 * two escapes. Returns the byte after the escape(s), or NULL on error.
 */
static const unsigned char *unicode_escape(json_reader *r, const unsigned char *p,
                                           unsigned char **o)
{
    const unsigned char *end = r->end, *q;
    int32_t hi = hex4(p, end, &q);
    if (hi < 0) return escape_error(r, q, "invalid \\u escape: four hex digits expected");
    uint32_t cp = (uint32_t)hi;
    if (cp >= 0xdc00 && cp <= 0xdfff) {
        if (!r->lossy) return escape_error(r, q, "unpaired low surrogate in \\u escape");
        cp = 0xfffd;
    } else if (cp >= 0xd800 && cp <= 0xdbff) {
        const unsigned char *s = q;
        int32_t lo = -1;
        if (s < end && *s == '\\') s++;
        if (s > q && s < end && *s == 'u') lo = hex4(s + 1, end, &s);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
            q = s;
        } else if (r->lossy) {
            cp = 0xfffd; /* what follows is read again on its own */
        } else {
            if (s < end && s == q) s++; /* the old parser's position: past the byte it read */
            return escape_error(r, s, "high surrogate not followed by a \\u low surrogate");
        }
    }
    *o = put_code_point(*o, cp);
    return q;
}

/* After the backslash at p: the escape decoded at *o; the byte after it, or NULL. */
static const unsigned char *escape(json_reader *r, const unsigned char *p, unsigned char **o)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    int c = p < r->end ? *p : -1;
    if (c == 'u') return unicode_escape(r, p + 1, o);
    const char *hit = c > 0 ? memchr(from, c, sizeof from - 1) : NULL;
    if (!hit) return escape_error(r, p, "invalid escape sequence in string");
    *(*o)++ = (unsigned char)to[hit - from];
    return p + 1;
}

/*
 * Decode the body of a string at p (after the quote) into o, which has
 * room for it; the end is the closing quote. Returns the byte after the
 * quote, or NULL on error; *out_end is where the output stopped.
 */
static const unsigned char *decode_string(json_reader *r, const unsigned char *p, unsigned char *o,
                                          unsigned char **out_end)
{
    const unsigned char *end = r->end;
    for (;;) {
        while (p < end && plain[*p]) *o++ = *p++;
        if (p == end) return escape_error(r, p, "unterminated string");
        unsigned c = *p;
        if (c == '"') break;
        if (c == '\\') {
            if (!(p = escape(r, p + 1, &o))) return NULL;
        } else if (c < 0x20) {
            r->p = p;
            perr(r, "control character 0x%02x in string (escape it)", c);
            return NULL;
        } else {
            size_t n = otelc__utf8_seq_len(p, (size_t)(end - p));
            if (n) {
                memcpy(o, p, n);
                o += n, p += n;
            } else if (r->lossy) {
                memcpy(o, replacement, 3);
                o += 3, p++;
            } else {
                return escape_error(r, p, "invalid UTF-8 in string");
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

/*
 * The bytes of the eight in w that are not plain (below 0x20, the quote,
 * the backslash, above 0x7f), each marked by its high bit: the SWAR test
 * for a zero byte, after an XOR for the quote and the backslash. A borrow
 * may mark a byte above a marked one too, never one below it, so the
 * lowest mark is exact.
 */
static inline uint64_t not_plain_marks(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
    uint64_t control = (w - ones * 0x20) & ~w;
    quote = (quote - ones) & ~quote;
    backslash = (backslash - ones) & ~backslash;
    return (control | quote | backslash | w) & highs;
}

/* The first byte at or after q that is not plain, or end: eight bytes a step while it can. */
static inline const unsigned char *scan_plain(const unsigned char *q, const unsigned char *end)
{
    uint64_t w, marks;
    while (end - q >= 8) {
        memcpy(&w, q, 8);
        if ((marks = not_plain_marks(w)) != 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return q + (__builtin_ctzll(marks) >> 3); /* the first byte is the lowest */
#else
            break;
#endif
        }
        q += 8;
    }
    while (q < end && plain[*q]) q++;
    return q;
}

/* A string that needs decoding, at the byte after its opening quote, into the scratch buffer. */
static bool read_escaped_string(json_reader *r, const unsigned char *start, json_token *t)
{
    /* Decoding never lengthens a string, except U+FFFD for one bad byte (lossy). */
    size_t raw = raw_length(start, r->end), room = (r->lossy ? 3 * raw : raw) + 1;
    if (room > r->scratch_cap) {
        unsigned char *grown = realloc(r->scratch, room);
        if (!grown) return nomem(r);
        r->scratch = grown;
        r->scratch_cap = room;
    }
    unsigned char *s_end;
    const unsigned char *after = decode_string(r, start, r->scratch, &s_end);
    if (!after) return false;
    t->str = (const char *)r->scratch;
    t->len = (size_t)(s_end - r->scratch);
    r->p = after;
    return true;
}

/* The string at the opening quote into t->str, t->len. */
static inline bool read_string(json_reader *r, json_token *t)
{
    const unsigned char *start = r->p + 1, *q = scan_plain(start, r->end);
    if (OTELC_LIKELY(q < r->end && *q == '"')) { /* the common case: nothing to decode */
        t->str = (const char *)start;
        t->len = (size_t)(q - start);
        r->p = q + 1;
        return true;
    }
    return read_escaped_string(r, start, t);
}

/* ---- Scalars -------------------------------------------------------------------- */

static bool is_digit(const unsigned char *p, const unsigned char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

/*
 * A literal with a fraction and no exponent, of at most 15 digits: their
 * integer and a power of ten are exact doubles, and one division rounds
 * correctly, so this is what strtod gives, without its cost. False for
 * the others.
 */
static bool short_decimal(const unsigned char *p, const unsigned char *end, double *out)
{
    static const double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    bool neg = *p == '-';
    uint64_t mant = 0;
    unsigned digits = 0, fraction = 0;
    bool in_fraction = false;
    for (p += neg; p < end; p++) {
        if (*p == '.') {
            in_fraction = true;
            continue;
        }
        if (*p < '0' || *p > '9' || ++digits > 15) return false; /* an exponent, or long */
        mant = mant * 10 + (unsigned)(*p - '0');
        fraction += in_fraction;
    }
    double d = (double)mant / pow10[fraction];
    *out = neg ? -d : d;
    return true;
}

/* The part of a literal that is not an integer: strtod on a terminated copy. */
static bool read_double(json_reader *r, const unsigned char *start, double *out)
{
    if (short_decimal(start, r->p, out)) return true;
    size_t n = (size_t)(r->p - start);
    char small[64], *text = n < sizeof small ? small : malloc(n + 1);
    if (!text) return nomem(r);
    memcpy(text, start, n);
    text[n] = '\0';
    *out = otelc__strtod(text, NULL);
    if (text != small) free(text);
    if (!isfinite(*out)) return perr(r, "number out of range"), false;
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

static bool read_number(json_reader *r, json_number *n)
{
    const unsigned char *start = r->p, *p = r->p, *end = r->end;
    bool neg = p < end && *p == '-', integer = true, fits = true;
    uint64_t mag = 0;
    p += neg;
    if (p < end && *p == '0') {
        p++; /* no digit may follow a leading zero */
    } else if (!is_digit(p, end)) {
        r->p = p;
        return perr(r, "invalid number: digit expected"), false;
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
            r->p = p;
            return perr(r, "invalid number: digit expected after '.'"), false;
        }
        while (is_digit(p, end)) p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        integer = false;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (!is_digit(p, end)) {
            r->p = p;
            return perr(r, "invalid number: digit expected in exponent"), false;
        }
        while (is_digit(p, end)) p++;
    }
    r->p = p;
    *n = (json_number){0};
    if (integer && fits) set_integer(n, neg, mag);
    return n->is_int || n->is_uint || read_double(r, start, &n->d);
}

static json_token_type read_literal(json_reader *r, json_token *t)
{
    static const struct {
        const char *word;
        size_t len;
        json_token_type type;
        bool value;
    } words[] = {{"true", 4, JSON_TOKEN_BOOL, true},
                 {"false", 5, JSON_TOKEN_BOOL, false},
                 {"null", 4, JSON_TOKEN_NULL, false}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = words[i].len;
        if ((size_t)(r->end - r->p) < n || memcmp(r->p, words[i].word, n) != 0) continue;
        r->p += n;
        t->boolean = words[i].value;
        return words[i].type;
    }
    perr_unexpected(r);
    return JSON_TOKEN_ERROR;
}

/* ---- Structure ------------------------------------------------------------------- */

/* Where the token at the cursor starts. */
static inline void mark(const json_reader *r, json_token *t)
{
    t->line = r->line;
    t->column = (unsigned)(r->p - r->line_start) + 1;
}

/* At an opening bracket: one level deeper (of the kind given), past the bracket. */
static bool enter(json_reader *r, bool object)
{
    if (r->depth >= r->max_depth) {
        perr_limit(r, "nesting deeper than %u levels", r->max_depth);
        return false;
    }
    if (r->depth == r->nested_cap) {
        size_t cap = r->nested_cap ? r->nested_cap * 2 : 64;
        unsigned char *grown = realloc(r->nested, cap);
        if (!grown) return nomem(r);
        r->nested = grown;
        r->nested_cap = cap;
    }
    r->nested[r->depth++] = object;
    r->p++;
    skip_ws(r);
    r->expect = object ? EXPECT_KEY_OR_CLOSE : EXPECT_VALUE_OR_CLOSE;
    return true;
}

/* At the closing bracket of the innermost container. */
static json_token_type leave(json_reader *r, json_token *t)
{
    mark(r, t);
    r->p++;
    r->depth--;
    r->expect = EXPECT_AFTER_VALUE;
    return r->nested[r->depth] ? JSON_TOKEN_OBJECT_END : JSON_TOKEN_ARRAY_END;
}

/* A value at the cursor (whitespace skipped). */
static json_token_type read_value(json_reader *r, json_token *t)
{
    int c = peek(r);
    mark(r, t);
    r->expect = EXPECT_AFTER_VALUE;
    if (c == '{') return enter(r, true) ? JSON_TOKEN_OBJECT_BEGIN : JSON_TOKEN_ERROR;
    if (c == '[') return enter(r, false) ? JSON_TOKEN_ARRAY_BEGIN : JSON_TOKEN_ERROR;
    if (c == '"') return read_string(r, t) ? JSON_TOKEN_STRING : JSON_TOKEN_ERROR;
    if (c == '-' || (c >= '0' && c <= '9'))
        return read_number(r, &t->number) ? JSON_TOKEN_NUMBER : JSON_TOKEN_ERROR;
    return read_literal(r, t);
}

/* A member's key at the cursor, and the ':' after it. */
static json_token_type read_key(json_reader *r, json_token *t)
{
    int c = peek(r);
    mark(r, t);
    if (c != '"') {
        if (c < 0)
            perr(r, "unexpected end of input: object key expected");
        else
            perr(r, "object key (a string) expected");
        return JSON_TOKEN_ERROR;
    }
    if (!read_string(r, t)) return JSON_TOKEN_ERROR;
    skip_ws(r);
    if (peek(r) != ':') return perr(r, "':' expected after object key"), JSON_TOKEN_ERROR;
    r->p++;
    skip_ws(r);
    r->expect = EXPECT_VALUE;
    return JSON_TOKEN_KEY;
}

/* After a value: the next member or item, the container's end, or the text's. */
static json_token_type after_value(json_reader *r, json_token *t)
{
    skip_ws(r);
    if (r->depth == 0) {
        if (r->p < r->end) return perr(r, "unexpected data after the JSON value"), JSON_TOKEN_ERROR;
        r->expect = EXPECT_NOTHING;
        mark(r, t);
        return JSON_TOKEN_END;
    }
    bool object = r->nested[r->depth - 1];
    int c = peek(r), close = object ? '}' : ']';
    if (c == ',') {
        r->p++;
        skip_ws(r);
        return object ? read_key(r, t) : read_value(r, t);
    }
    if (c == close) return leave(r, t);
    if (c < 0)
        perr(r, "unexpected end of input: ',' or '%c' expected", close);
    else
        perr(r, "',' or '%c' expected", close);
    return JSON_TOKEN_ERROR;
}

json_token_type otelc__json_next(json_reader *r, json_token *t)
{
    json_token_type type;
    if (r->failed) return t->type = JSON_TOKEN_ERROR;
    switch (r->expect) {
    case EXPECT_VALUE:
        type = read_value(r, t);
        break;
    case EXPECT_VALUE_OR_CLOSE:
        type = peek(r) == ']' ? leave(r, t) : read_value(r, t);
        break;
    case EXPECT_KEY_OR_CLOSE:
        type = peek(r) == '}' ? leave(r, t) : read_key(r, t);
        break;
    case EXPECT_AFTER_VALUE:
        type = after_value(r, t);
        break;
    default:
        mark(r, t);
        type = JSON_TOKEN_END;
    }
    return t->type = type;
}

bool otelc__json_skip(json_reader *r, json_token *t)
{
    if (t->type != JSON_TOKEN_ARRAY_BEGIN && t->type != JSON_TOKEN_OBJECT_BEGIN)
        return t->type != JSON_TOKEN_ERROR;
    unsigned depth = r->depth - 1;
    while (otelc__json_next(r, t) != JSON_TOKEN_ERROR)
        if ((t->type == JSON_TOKEN_ARRAY_END || t->type == JSON_TOKEN_OBJECT_END) &&
            r->depth == depth)
            return true;
    return false;
}

void otelc__json_reader_init(json_reader *r, const char *text, size_t len,
                             const json_options *options)
{
    const unsigned char *start = (const unsigned char *)(text ? text : "");
    *r = (json_reader){
        .p = start,
        .end = start + len,
        .line_start = start,
        .line = 1,
        .max_depth = options && options->max_depth ? options->max_depth : JSON_DEFAULT_MAX_DEPTH,
        .lossy = options && options->lossy_utf8,
        .expect = EXPECT_VALUE,
    };
    size_t max_size = options && options->max_size ? options->max_size : JSON_DEFAULT_MAX_SIZE;
    if (!text && len) {
        r->end = start;
        perr(r, "no input"); /* NULL with 0 is the empty text */
    } else if (len > max_size) {
        perr_limit(r, "input larger than %zu bytes", max_size);
    } else if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        r->p = r->line_start = start + 3;
    }
    skip_ws(r);
}

void otelc__json_reader_free(json_reader *r)
{
    free(r->nested);
    free(r->scratch);
    r->nested = r->scratch = NULL;
    r->nested_cap = r->scratch_cap = 0;
}
