/*
 * json.c - the JSON document parser declared in json.h.
 *
 * A recursive-descent parser over a byte buffer. Recursion is bounded by
 * json_limits.max_depth, so the C stack stays small whatever the input.
 * Every byte is consumed through next(), which keeps the line and column
 * that error messages and json_value positions report.
 */
#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const unsigned char *p, *end;
    unsigned line, column;
    unsigned depth, max_depth;
    json_error *err;
    bool failed;
} parser;

/* A growable byte buffer for decoded strings. */
typedef struct buf {
    char *ptr;
    size_t len, cap;
} buf;

static void perr(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void perr(parser *ps, const char *fmt, ...)
{
    if (ps->failed) return; /* keep the first, innermost error */
    ps->failed = true;
    if (!ps->err) return;
    ps->err->line = ps->line;
    ps->err->column = ps->column;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err->message, sizeof ps->err->message, fmt, ap);
    va_end(ap);
}

static int peek(const parser *ps)
{
    return ps->p < ps->end ? *ps->p : -1;
}

static int next(parser *ps)
{
    if (ps->p >= ps->end) return -1;
    int c = *ps->p++;
    if (c == '\n') {
        ps->line++;
        ps->column = 1;
    } else {
        ps->column++;
    }
    return c;
}

static void skip_ws(parser *ps)
{
    for (int c = peek(ps); c == ' ' || c == '\t' || c == '\n' || c == '\r'; c = peek(ps)) next(ps);
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

static bool buf_put(buf *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->ptr, cap);
        if (!p) return false;
        b->ptr = p;
        b->cap = cap;
    }
    memcpy(b->ptr + b->len, data, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return true;
}

/* ---- Tree nodes ----------------------------------------------------------- */

json_value *json_new(json_type type, unsigned line, unsigned column)
{
    json_value *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->type = type;
    v->line = line;
    v->column = column;
    return v;
}

json_value *json_new_string(const char *s, size_t len, unsigned line, unsigned column)
{
    json_value *v = json_new(JSON_STRING, line, column);
    char *copy = malloc(len + 1);
    if (!v || !copy) {
        free(v);
        free(copy);
        return NULL;
    }
    if (len) memcpy(copy, s, len);
    copy[len] = '\0';
    v->u.string.ptr = copy;
    v->u.string.len = len;
    return v;
}

void json_free(json_value *v)
{
    if (!v) return;
    switch (v->type) {
    case JSON_STRING:
        free(v->u.string.ptr);
        break;
    case JSON_ARRAY:
        for (size_t i = 0; i < v->u.array.count; i++) json_free(v->u.array.items[i]);
        free(v->u.array.items);
        break;
    case JSON_OBJECT:
        for (size_t i = 0; i < v->u.object.count; i++) {
            free(v->u.object.members[i].key);
            json_free(v->u.object.members[i].value);
        }
        free(v->u.object.members);
        break;
    default:
        break;
    }
    free(v);
}

/*
 * Make room for one more item. The capacity is implicit (4, then doubling),
 * so an array is full exactly when its count is 0 or a power of two >= 4.
 */
static bool grow(void **items, size_t count, size_t elem)
{
    if (count != 0 && (count < 4 || (count & (count - 1)))) return true;
    size_t cap = count ? count * 2 : 4;
    if (cap > SIZE_MAX / elem) return false;
    void *p = realloc(*items, cap * elem);
    if (!p) return false;
    *items = p;
    return true;
}

int json_array_push(json_value *array, json_value *item)
{
    if (!array || array->type != JSON_ARRAY || !item) goto bad;
    void *items = array->u.array.items;
    if (!grow(&items, array->u.array.count, sizeof(json_value *))) goto bad;
    array->u.array.items = items;
    array->u.array.items[array->u.array.count++] = item;
    return 0;
bad:
    json_free(item);
    return -1;
}

int json_object_add(json_value *object, const char *key, size_t key_len, json_value *value)
{
    char *copy = NULL;
    if (!object || object->type != JSON_OBJECT || !value) goto bad;
    copy = malloc(key_len + 1);
    if (!copy) goto bad;
    if (key_len) memcpy(copy, key, key_len);
    copy[key_len] = '\0';
    void *members = object->u.object.members;
    if (!grow(&members, object->u.object.count, sizeof(json_member))) goto bad;
    object->u.object.members = members;
    object->u.object.members[object->u.object.count++] = (json_member){copy, key_len, value};
    return 0;
bad:
    free(copy);
    json_free(value);
    return -1;
}

const json_value *json_object_get(const json_value *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT || !key) return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < obj->u.object.count; i++) {
        const json_member *m = &obj->u.object.members[i];
        if (m->key_len == n && memcmp(m->key, key, n) == 0) return m->value;
    }
    return NULL;
}

const char *json_type_name(json_type type)
{
    static const char *const names[] = {"null", "boolean", "number", "string", "array", "object"};
    return (unsigned)type < sizeof names / sizeof names[0] ? names[type] : "?";
}

/* ---- Strings -------------------------------------------------------------- */

static int hex4(parser *ps)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = peek(ps), d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        next(ps);
        v = v * 16 + d;
    }
    return v;
}

static size_t utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* After the backslash and 'u': one code point, a surrogate pair taking two escapes. */
static bool parse_unicode_escape(parser *ps, buf *b)
{
    int hi = hex4(ps);
    if (hi < 0) return perr(ps, "invalid \\u escape: four hex digits expected"), false;
    uint32_t cp = (uint32_t)hi;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return perr(ps, "unpaired low surrogate in \\u escape"), false;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (next(ps) != '\\' || next(ps) != 'u')
            return perr(ps, "high surrogate not followed by a \\u low surrogate"), false;
        int lo = hex4(ps);
        if (lo < 0xDC00 || lo > 0xDFFF)
            return perr(ps, "high surrogate not followed by a \\u low surrogate"), false;
        cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
    }
    char out[4];
    size_t n = utf8_encode(cp, out);
    return buf_put(b, out, n) || (perr(ps, "out of memory"), false);
}

static bool parse_escape(parser *ps, buf *b)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    int c = peek(ps);
    const char *hit = c > 0 && c != 'u' ? strchr(from, c) : NULL;
    if (c != 'u' && !hit) return perr(ps, "invalid escape sequence in string"), false;
    next(ps);
    if (c == 'u') return parse_unicode_escape(ps, b);
    return buf_put(b, &to[hit - from], 1) || (perr(ps, "out of memory"), false);
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629), or 0. */
static size_t utf8_valid(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0; /* overlong */
        if (c == 0xED) hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90; /* overlong */
        if (c == 0xF4) hi = 0x8F; /* above U+10FFFF */
    } else
        return 0;
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return n;
}

/* A string at the opening quote: decoded into *out (malloc'd) and *len. */
static bool parse_string_raw(parser *ps, char **out, size_t *len)
{
    buf b = {0};
    next(ps); /* the opening quote */
    for (;;) {
        int c = peek(ps);
        if (c < 0) {
            perr(ps, "unterminated string");
            break;
        }
        if (c == '"') {
            next(ps);
            if (!b.ptr && !buf_put(&b, "", 0)) break;
            *out = b.ptr;
            *len = b.len;
            return true;
        }
        if (c == '\\') {
            next(ps);
            if (!parse_escape(ps, &b)) break;
            continue;
        }
        if (c < 0x20) {
            perr(ps, "control character 0x%02x in string (escape it)", (unsigned)c);
            break;
        }
        size_t n = c < 0x80 ? 1 : utf8_valid(ps->p, ps->end);
        if (!n) {
            perr(ps, "invalid UTF-8 in string");
            break;
        }
        if (!buf_put(&b, ps->p, n)) {
            perr(ps, "out of memory");
            break;
        }
        for (size_t i = 0; i < n; i++) next(ps);
    }
    free(b.ptr);
    return false;
}

/* ---- Scalars -------------------------------------------------------------- */

static bool skip_digits(parser *ps)
{
    bool any = false;
    while (peek(ps) >= '0' && peek(ps) <= '9') {
        next(ps);
        any = true;
    }
    return any;
}

static json_value *parse_number(parser *ps, unsigned line, unsigned column)
{
    const unsigned char *start = ps->p;
    if (peek(ps) == '-') next(ps);
    if (peek(ps) == '0')
        next(ps);
    else if (!skip_digits(ps))
        return perr(ps, "invalid number: digit expected"), NULL;
    if (peek(ps) == '.') {
        next(ps);
        if (!skip_digits(ps)) return perr(ps, "invalid number: digit expected after '.'"), NULL;
    }
    if (peek(ps) == 'e' || peek(ps) == 'E') {
        next(ps);
        if (peek(ps) == '+' || peek(ps) == '-') next(ps);
        if (!skip_digits(ps)) return perr(ps, "invalid number: digit expected in exponent"), NULL;
    }
    /* strtod needs a terminated copy; the grammar above already vouched for it. */
    size_t n = (size_t)(ps->p - start);
    char small[64], *text = n < sizeof small ? small : malloc(n + 1);
    if (!text) return perr(ps, "out of memory"), NULL;
    memcpy(text, start, n);
    text[n] = '\0';
    double d = strtod(text, NULL);
    if (text != small) free(text);
    if (!isfinite(d)) return perr(ps, "number out of range"), NULL;
    json_value *v = json_new(JSON_NUMBER, line, column);
    if (!v) return perr(ps, "out of memory"), NULL;
    v->u.number = d;
    return v;
}

static json_value *parse_literal(parser *ps, unsigned line, unsigned column)
{
    static const struct {
        const char *word;
        json_type type;
        bool value;
    } words[] = {
        {"true", JSON_BOOL, true}, {"false", JSON_BOOL, false}, {"null", JSON_NULL, false}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i].word);
        if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, words[i].word, n) != 0) continue;
        for (size_t k = 0; k < n; k++) next(ps);
        json_value *v = json_new(words[i].type, line, column);
        if (!v) return perr(ps, "out of memory"), NULL;
        v->u.boolean = words[i].value;
        return v;
    }
    perr_unexpected(ps);
    return NULL;
}

/* ---- Containers ----------------------------------------------------------- */

static json_value *parse_value(parser *ps);

static bool enter(parser *ps)
{
    if (ps->depth >= ps->max_depth) {
        perr(ps, "nesting deeper than %u levels", ps->max_depth);
        return false;
    }
    ps->depth++;
    next(ps); /* the opening bracket */
    skip_ws(ps);
    return true;
}

/* After an element: true to continue, false at the closing bracket or an error. */
static bool more(parser *ps, int close, bool *ok)
{
    skip_ws(ps);
    int c = peek(ps);
    if (c == ',') {
        next(ps);
        skip_ws(ps);
        return true;
    }
    if (c == close) {
        next(ps);
        ps->depth--;
        *ok = true;
        return false;
    }
    if (c < 0)
        perr(ps, "unexpected end of input: ',' or '%c' expected", close);
    else
        perr(ps, "',' or '%c' expected", close);
    return false;
}

static json_value *parse_array(parser *ps, json_value *arr)
{
    if (!enter(ps)) return json_free(arr), NULL;
    if (peek(ps) == ']') {
        next(ps);
        ps->depth--;
        return arr;
    }
    bool ok = false;
    do {
        json_value *item = parse_value(ps);
        if (!item) break;
        if (json_array_push(arr, item) < 0) {
            perr(ps, "out of memory");
            break;
        }
    } while (more(ps, ']', &ok));
    if (ok) return arr;
    json_free(arr);
    return NULL;
}

static bool parse_member(parser *ps, json_value *obj)
{
    if (peek(ps) != '"') {
        if (peek(ps) < 0)
            perr(ps, "unexpected end of input: object key expected");
        else
            perr(ps, "object key (a string) expected");
        return false;
    }
    char *key;
    size_t key_len;
    if (!parse_string_raw(ps, &key, &key_len)) return false;
    skip_ws(ps);
    if (peek(ps) != ':') {
        free(key);
        perr(ps, "':' expected after object key");
        return false;
    }
    next(ps);
    skip_ws(ps);
    json_value *v = parse_value(ps);
    int rc = v ? json_object_add(obj, key, key_len, v) : -1;
    free(key);
    if (v && rc < 0) perr(ps, "out of memory");
    return rc == 0;
}

static json_value *parse_object(parser *ps, json_value *obj)
{
    if (!enter(ps)) return json_free(obj), NULL;
    if (peek(ps) == '}') {
        next(ps);
        ps->depth--;
        return obj;
    }
    bool ok = false;
    do {
        if (!parse_member(ps, obj)) break;
    } while (more(ps, '}', &ok));
    if (ok) return obj;
    json_free(obj);
    return NULL;
}

static json_value *parse_value(parser *ps)
{
    unsigned line = ps->line, column = ps->column;
    int c = peek(ps);
    if (c == '{' || c == '[') {
        json_value *v = json_new(c == '{' ? JSON_OBJECT : JSON_ARRAY, line, column);
        if (!v) return perr(ps, "out of memory"), NULL;
        return c == '{' ? parse_object(ps, v) : parse_array(ps, v);
    }
    if (c == '"') {
        json_value *v = json_new(JSON_STRING, line, column);
        if (!v) return perr(ps, "out of memory"), NULL;
        if (!parse_string_raw(ps, &v->u.string.ptr, &v->u.string.len)) return free(v), NULL;
        return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(ps, line, column);
    return parse_literal(ps, line, column);
}

json_value *json_parse(const char *text, size_t len, const json_limits *limits, json_error *err)
{
    parser ps = {
        .p = (const unsigned char *)text,
        .end = (const unsigned char *)text + len,
        .line = 1,
        .column = 1,
        .max_depth = limits && limits->max_depth ? limits->max_depth : JSON_DEFAULT_MAX_DEPTH,
        .err = err,
    };
    size_t max_size = limits && limits->max_size ? limits->max_size : JSON_DEFAULT_MAX_SIZE;
    if (err) *err = (json_error){0};
    if (!text && len) return perr(&ps, "no input"), NULL;
    if (len > max_size) return perr(&ps, "input larger than %zu bytes", max_size), NULL;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) ps.p += 3; /* byte order mark */
    skip_ws(&ps);
    json_value *root = parse_value(&ps);
    if (!root) return NULL;
    skip_ws(&ps);
    if (ps.p < ps.end) {
        perr(&ps, "unexpected data after the JSON value");
        json_free(root);
        return NULL;
    }
    return root;
}

/* ---- Writing -------------------------------------------------------------- */

void json_write_string(FILE *f, const char *s, size_t len)
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

static void write_number(FILE *f, double d)
{
    /* Integers up to 2^53 are exact in a double: print them without an exponent. */
    if (d == floor(d) && fabs(d) < 9007199254740992.0)
        fprintf(f, "%.0f", d);
    else
        fprintf(f, "%.17g", d);
}

void json_write(FILE *f, const json_value *v)
{
    switch (v->type) {
    case JSON_NULL:
        fputs("null", f);
        break;
    case JSON_BOOL:
        fputs(v->u.boolean ? "true" : "false", f);
        break;
    case JSON_NUMBER:
        write_number(f, v->u.number);
        break;
    case JSON_STRING:
        json_write_string(f, v->u.string.ptr, v->u.string.len);
        break;
    case JSON_ARRAY:
        fputc('[', f);
        for (size_t i = 0; i < v->u.array.count; i++) {
            if (i) fputc(',', f);
            json_write(f, v->u.array.items[i]);
        }
        fputc(']', f);
        break;
    case JSON_OBJECT:
        fputc('{', f);
        for (size_t i = 0; i < v->u.object.count; i++) {
            const json_member *m = &v->u.object.members[i];
            if (i) fputc(',', f);
            json_write_string(f, m->key, m->key_len);
            fputc(':', f);
            json_write(f, m->value);
        }
        fputc('}', f);
        break;
    }
}
