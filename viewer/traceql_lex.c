/*
 * traceql_lex.c - cut a TraceQL query into tokens, as Tempo's lexer does:
 * Go-style string literals ("..." with escapes, `...` raw), integers,
 * floats, durations (a number and a unit, "1.5s", "1h30m"), attribute
 * names that run to the next operator or space (span.http.request.method,
 * with "quoted parts" for anything else), and maximal munch on operators
 * (">>" before ">").
 */
#define _GNU_SOURCE /* strtod_l */
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "traceql_lex.h"

int tql_error(const tql_lexer *lx, size_t pos, const char *fmt, ...)
{
    unsigned line = 1, col = 1;
    for (size_t i = 0; i < pos && i < lx->len; i++) {
        unsigned char c = (unsigned char)lx->q[i];
        if (c == '\n') {
            line++, col = 1;
        } else if ((c & 0xC0) != 0x80) { /* count characters, not continuation bytes */
            col++;
        }
    }
    if (!lx->err || lx->err_size == 0) return OTELC_ERR_PARSE;
    int n = snprintf(lx->err, lx->err_size, "%u:%u: ", line, col);
    if (n >= 0 && (size_t)n < lx->err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(lx->err + n, lx->err_size - (size_t)n, fmt, ap);
        va_end(ap);
    }
    /* A message cut short by the buffer ends with whole characters. */
    size_t len = strlen(lx->err), last = len;
    while (last > 0 && ((unsigned char)lx->err[last - 1] & 0xC0) == 0x80) last--;
    if (last > 0 && (unsigned char)lx->err[last - 1] >= 0x80 &&
        otelc__utf8_seq_len((const unsigned char *)lx->err + last - 1, len - last + 1) == 0)
        lx->err[last - 1] = '\0';
    return OTELC_ERR_PARSE;
}

const char *tql_tok_describe(const tql_lexer *lx, const tql_token *t, char *buf, size_t size)
{
    if (t->type == TQL_T_EOF) {
        snprintf(buf, size, "end of query");
        return buf;
    }
    size_t n = t->end - t->pos, max = 32;
    const char *s = lx->q + t->pos;
    bool cut = n > max;
    if (cut) { /* keep whole characters */
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    }
    char text[40];
    for (size_t i = 0; i < n; i++) text[i] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
    snprintf(buf, size, "'%.*s%s'", (int)n, text, cut ? "..." : "");
    return buf;
}

/* ---- Characters ---------------------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_word_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_word_char(char c)
{
    return is_word_start(c) || is_digit(c);
}

/* Tempo's attribute names run to a space or to one of these. */
static bool is_attr_char(char c)
{
    return c != '\0' && !is_space(c) && !strchr("{}()=~!<>&|^,", c);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static char *arena_buf(tql_lexer *lx, size_t size)
{
    return otelc__arena_alloc(lx->arena, size, 1);
}

/* ---- Operators ----------------------------------------------------------------------- */

static const struct {
    const char *text;
    tql_tok type;
} operators[] = {
    /* longest first: maximal munch */
    {"!>>", TQL_T_UNSUP}, {"!<<", TQL_T_UNSUP}, {"&>>", TQL_T_UNSUP}, {"&<<", TQL_T_UNSUP},
    {"&&", TQL_T_AND},    {"||", TQL_T_OR},     {"!=", TQL_T_NEQ},    {"!~", TQL_T_NRE},
    {"=~", TQL_T_RE},     {">=", TQL_T_GTE},    {"<=", TQL_T_LTE},    {">>", TQL_T_DESC},
    {"<<", TQL_T_ANCE},   {"!>", TQL_T_UNSUP},  {"!<", TQL_T_UNSUP},  {"&>", TQL_T_UNSUP},
    {"&<", TQL_T_UNSUP},  {"&~", TQL_T_UNSUP},  {"{", TQL_T_LBRACE},  {"}", TQL_T_RBRACE},
    {"(", TQL_T_LPAREN},  {")", TQL_T_RPAREN},  {"!", TQL_T_NOT},     {"-", TQL_T_MINUS},
    {"=", TQL_T_EQ},      {"<", TQL_T_LT},      {">", TQL_T_GT},      {"~", TQL_T_SIBL},
    {"|", TQL_T_PIPE},    {"+", TQL_T_UNSUP},   {"*", TQL_T_UNSUP},   {"/", TQL_T_UNSUP},
    {"%", TQL_T_UNSUP},   {"^", TQL_T_UNSUP},   {",", TQL_T_UNSUP},
};

static bool lex_operator(tql_lexer *lx, tql_token *t)
{
    size_t left = lx->len - lx->pos;
    for (size_t i = 0; i < sizeof operators / sizeof operators[0]; i++) {
        size_t n = strlen(operators[i].text);
        if (n <= left && memcmp(lx->q + lx->pos, operators[i].text, n) == 0) {
            t->type = operators[i].type;
            lx->pos += n;
            return true;
        }
    }
    return false;
}

/* ---- Numbers and durations ----------------------------------------------------------- */

static const struct {
    const char *name;
    uint64_t ns;
} duration_units[] = {
    /* "ms" before "m" */
    {"ns", 1ULL},
    {"us", 1000ULL},
    {"\xC2\xB5s", 1000ULL}, /* U+00B5 micro sign */
    {"\xCE\xBCs", 1000ULL}, /* U+03BC Greek mu */
    {"ms", 1000000ULL},
    {"s", 1000000000ULL},
    {"m", 60000000000ULL},
    {"h", 3600000000000ULL},
    {"d", 86400000000000ULL},
    {"w", 604800000000000ULL},
    {"y", 31536000000000000ULL},
};

static size_t duration_unit(const char *s, size_t n, uint64_t *ns)
{
    for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++) {
        size_t len = strlen(duration_units[i].name);
        if (len <= n && memcmp(s, duration_units[i].name, len) == 0) {
            *ns = duration_units[i].ns;
            return len;
        }
    }
    return 0;
}

/*
 * A sequence of number-unit pairs ("300ms", "1.5h", "1h30m"), the union of
 * Go's time.ParseDuration and Prometheus' units (d, w, y) that Tempo
 * accepts. Exact: fractions are scaled in integers. At most INT64_MAX ns.
 */
static bool parse_duration(const char *s, size_t n, uint64_t *out)
{
    unsigned __int128 total = 0;
    size_t i = 0;
    while (i < n) {
        uint64_t whole = 0, frac = 0, scale = 1, unit;
        bool digits = false;
        for (; i < n && is_digit(s[i]); i++, digits = true) {
            if (whole > (UINT64_MAX - 9) / 10) return false;
            whole = whole * 10 + (uint64_t)(s[i] - '0');
        }
        if (i < n && s[i] == '.') {
            for (i++; i < n && is_digit(s[i]); i++, digits = true) {
                if (scale >= 1000000000000000000ULL) continue; /* beyond 1e-18 of a unit */
                frac = frac * 10 + (uint64_t)(s[i] - '0');
                scale *= 10;
            }
        }
        size_t unit_len = digits ? duration_unit(s + i, n - i, &unit) : 0;
        if (unit_len == 0) return false;
        i += unit_len;
        total += (unsigned __int128)whole * unit + (unsigned __int128)frac * unit / scale;
        if (total > INT64_MAX) return false;
    }
    *out = (uint64_t)total;
    return n > 0;
}

/* The length of the duration character at s[0..n) (a digit, '.', a letter, µ or μ), or 0. */
static size_t duration_char(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0], c2 = n > 1 ? (unsigned char)s[1] : 0;
    if (is_digit(s[0]) || s[0] == '.' || (unsigned)((c | 0x20) - 'a') < 26u) return 1;
    return (c == 0xC2 && c2 == 0xB5) || (c == 0xCE && c2 == 0xBC) ? 2 : 0;
}

static int lex_float(tql_lexer *lx, tql_token *t, size_t start, size_t end)
{
    char *text = arena_buf(lx, end - start + 1);
    if (!text) return OTELC_ERR_NOMEM;
    memcpy(text, lx->q + start, end - start);
    text[end - start] = '\0';
    /* The query's '.' is a decimal point whatever the program's locale says. */
    locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (!c_locale) return OTELC_ERR_NOMEM;
    t->d = strtod_l(text, NULL, c_locale);
    freelocale(c_locale);
    if (t->d > 1.7976931348623157e308) return tql_error(lx, start, "number out of range");
    t->lit = TQL_L_FLOAT;
    return OTELC_OK;
}

static int lex_number(tql_lexer *lx, tql_token *t)
{
    const char *q = lx->q;
    size_t start = lx->pos, i = start, n = lx->len;
    bool is_float = false;
    while (i < n && is_digit(q[i])) i++;
    if (i + 1 < n && q[i] == '.' && is_digit(q[i + 1])) {
        for (i++; i < n && is_digit(q[i]); i++) {
        }
        is_float = true;
    }
    if (i < n && (q[i] == 'e' || q[i] == 'E')) {
        size_t e = i + 1;
        if (e < n && (q[e] == '+' || q[e] == '-')) e++;
        if (e < n && is_digit(q[e])) {
            for (i = e; i < n && is_digit(q[i]); i++) {
            }
            is_float = true;
        }
    }
    t->type = TQL_T_LITERAL;
    /* A unit (or a second fraction) follows: a duration, or a malformed one. */
    if (i < n && duration_char(q + i, n - i) && (q[i] != '.' || is_float)) {
        for (size_t k; i < n && (k = duration_char(q + i, n - i)) != 0;) i += k;
        lx->pos = i;
        t->lit = TQL_L_DURATION;
        if (!parse_duration(q + start, i - start, &t->u))
            return tql_error(lx, start,
                             "invalid duration '%.*s' (units: ns, us, ms, s, m, h, d, w, y)",
                             (int)(i - start), q + start);
        return OTELC_OK;
    }
    lx->pos = i;
    if (is_float) return lex_float(lx, t, start, i);
    t->lit = TQL_L_INT;
    t->u = 0;
    for (size_t k = start; k < i; k++) {
        if (t->u > (UINT64_MAX - 9) / 10) return tql_error(lx, start, "integer out of range");
        t->u = t->u * 10 + (uint64_t)(q[k] - '0');
    }
    if (t->u > (uint64_t)INT64_MAX + 1) return tql_error(lx, start, "integer out of range");
    return OTELC_OK;
}

/* ---- Strings ------------------------------------------------------------------------- */

static size_t put_utf8(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6)), out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12)), out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18)), out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* digits hex digits (or octal ones when base is 8) at q[at..] into *v. */
static bool read_digits(const tql_lexer *lx, size_t at, int digits, int base, uint32_t *v)
{
    *v = 0;
    if (lx->len - at < (size_t)digits) return false;
    for (int k = 0; k < digits; k++) {
        int d = hex_value(lx->q[at + (size_t)k]);
        if (d < 0 || d >= base) return false;
        *v = *v * (uint32_t)base + (uint32_t)d;
    }
    return true;
}

/*
 * One escape sequence of a Go string literal at lx->pos (the backslash);
 * its bytes are appended to out. Go's set: \a \b \f \n \r \t \v \\ \" and
 * \xHH, \OOO (octal), \uHHHH, \UHHHHHHHH.
 */
static int lex_escape(tql_lexer *lx, char *out, size_t *out_len)
{
    size_t at = lx->pos;
    char c = at + 1 < lx->len ? lx->q[at + 1] : '\0';
    const char *simple = strchr("abfnrtv\\\"", c);
    uint32_t v;
    if (c != '\0' && simple) {
        out[(*out_len)++] = "\a\b\f\n\r\t\v\\\""[simple - "abfnrtv\\\""];
        lx->pos += 2;
        return OTELC_OK;
    }
    if (c == 'x' || (c >= '0' && c <= '7')) {
        bool hex = c == 'x';
        if (!read_digits(lx, at + (hex ? 2 : 1), hex ? 2 : 3, hex ? 16 : 8, &v) || v > 255)
            return tql_error(lx, at, "invalid escape sequence in string");
        out[(*out_len)++] = (char)v;
        lx->pos += 4; /* \xHH or \OOO */
        return OTELC_OK;
    }
    if (c == 'u' || c == 'U') {
        int digits = c == 'u' ? 4 : 8;
        if (!read_digits(lx, at + 2, digits, 16, &v) || v > 0x10FFFF ||
            (v >= 0xD800 && v <= 0xDFFF))
            return tql_error(lx, at, "invalid escape sequence in string");
        *out_len += put_utf8(out + *out_len, v);
        lx->pos += 2 + (size_t)digits;
        return OTELC_OK;
    }
    return tql_error(lx, at, "unknown escape sequence in string");
}

static int lex_string(tql_lexer *lx, tql_token *t)
{
    size_t start = lx->pos, len = 0;
    char quote = lx->q[start];
    /* The decoded text is never longer than the literal. */
    char *out = arena_buf(lx, lx->len - start + 1);
    if (!out) return OTELC_ERR_NOMEM;
    lx->pos++;
    for (;;) {
        if (lx->pos >= lx->len) return tql_error(lx, start, "unterminated string");
        char c = lx->q[lx->pos];
        if (c == quote) break;
        if (quote == '"' && c == '\n') return tql_error(lx, start, "newline in string");
        if (quote == '"' && c == '\\') {
            int rc = lex_escape(lx, out, &len);
            if (rc != OTELC_OK) return rc;
            continue;
        }
        if (c != '\r') out[len++] = c; /* Go drops carriage returns from raw strings */
        lx->pos++;
    }
    lx->pos++;
    out[len] = '\0';
    t->type = TQL_T_LITERAL;
    t->lit = TQL_L_STR;
    t->text = out;
    t->text_len = len;
    return OTELC_OK;
}

/* ---- Attribute names ----------------------------------------------------------------- */

/* A quoted part of an attribute name: only \" and \\ are escapes (as in Tempo). */
static int lex_quoted_name(tql_lexer *lx, char *out, size_t *len)
{
    size_t start = lx->pos++;
    for (;;) {
        if (lx->pos >= lx->len) return tql_error(lx, start, "unterminated quoted attribute name");
        char c = lx->q[lx->pos];
        if (c == '"') break;
        if (c == '\\') {
            char e = lx->pos + 1 < lx->len ? lx->q[lx->pos + 1] : '\0';
            if (e != '"' && e != '\\')
                return tql_error(lx, lx->pos,
                                 "invalid escape in attribute name (only \\\" and \\\\)");
            c = e;
            lx->pos++;
        }
        out[(*len)++] = c;
        lx->pos++;
    }
    lx->pos++;
    return OTELC_OK;
}

/* The name after "span.", "resource." or ".": lx->pos is past the dot. */
static int lex_attribute(tql_lexer *lx, tql_token *t, vw_tql_scope scope)
{
    size_t len = 0;
    char *out = arena_buf(lx, lx->len - lx->pos + 1);
    if (!out) return OTELC_ERR_NOMEM;
    while (lx->pos < lx->len) {
        char c = lx->q[lx->pos];
        if (c == '"') {
            int rc = lex_quoted_name(lx, out, &len);
            if (rc != OTELC_OK) return rc;
        } else if (is_attr_char(c)) {
            out[len++] = c;
            lx->pos++;
        } else {
            break;
        }
    }
    if (len == 0) return tql_error(lx, lx->pos, "expected an attribute name after '.'");
    out[len] = '\0'; /* no NUL inside: the query has none, and escapes only make '"' and '\\' */
    t->type = TQL_T_FIELD;
    t->field = TQL_F_ATTR;
    t->scope = scope;
    t->text = out;
    t->text_len = len;
    return OTELC_OK;
}

/* ---- Words --------------------------------------------------------------------------- */

static bool word_is(const char *w, size_t n, const char *s)
{
    return strlen(s) == n && memcmp(w, s, n) == 0;
}

static const struct {
    const char *word;
    tql_field field;
} unscoped_intrinsics[] =
    {
        {"name", TQL_F_NAME},
        {"status", TQL_F_STATUS},
        {"statusMessage", TQL_F_STATUS_MESSAGE},
        {"kind", TQL_F_KIND},
        {"duration", TQL_F_DURATION},
        {"traceDuration", TQL_F_TRACE_DURATION},
        {"rootName", TQL_F_ROOT_NAME},
        {"rootServiceName", TQL_F_ROOT_SERVICE},
},
  scoped_intrinsics[] = {
      {"span:name", TQL_F_NAME},
      {"span:status", TQL_F_STATUS},
      {"span:statusMessage", TQL_F_STATUS_MESSAGE},
      {"span:kind", TQL_F_KIND},
      {"span:duration", TQL_F_DURATION},
      {"trace:duration", TQL_F_TRACE_DURATION},
      {"trace:rootName", TQL_F_ROOT_NAME},
      {"trace:rootService", TQL_F_ROOT_SERVICE},
};

static const struct {
    const char *word;
    tql_lit lit;
    int64_t value;
} keywords[] = {
    {"true", TQL_L_BOOL, 1},
    {"false", TQL_L_BOOL, 0},
    {"nil", TQL_L_NIL, 0},
    {"ok", TQL_L_STATUS, OTELC_STATUS_OK},
    {"error", TQL_L_STATUS, OTELC_STATUS_ERROR},
    {"unset", TQL_L_STATUS, OTELC_STATUS_UNSET},
    {"unspecified", TQL_L_KIND, 0},
    {"internal", TQL_L_KIND, OTELC_SPAN_INTERNAL},
    {"server", TQL_L_KIND, OTELC_SPAN_SERVER},
    {"client", TQL_L_KIND, OTELC_SPAN_CLIENT},
    {"producer", TQL_L_KIND, OTELC_SPAN_PRODUCER},
    {"consumer", TQL_L_KIND, OTELC_SPAN_CONSUMER},
    {"minInt", TQL_L_INT, INT64_MIN},
    {"maxInt", TQL_L_INT, INT64_MAX},
};

static bool lex_keyword(tql_token *t, const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
        if (!word_is(w, n, keywords[i].word)) continue;
        t->type = TQL_T_LITERAL;
        t->lit = keywords[i].lit;
        t->b = keywords[i].value != 0;
        t->neg = keywords[i].value < 0;
        /* minInt, maxInt: a magnitude and a sign, as a number literal */
        t->u = t->neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)keywords[i].value;
        return true;
    }
    return false;
}

/* "span:duration", "trace:rootService": lx->pos is at the colon. */
static int lex_scoped_intrinsic(tql_lexer *lx, tql_token *t)
{
    size_t i = lx->pos + 1;
    while (i < lx->len && is_word_char(lx->q[i])) i++;
    const char *w = lx->q + t->pos;
    size_t n = i - t->pos;
    lx->pos = i;
    for (size_t k = 0; k < sizeof scoped_intrinsics / sizeof scoped_intrinsics[0]; k++) {
        if (word_is(w, n, scoped_intrinsics[k].word)) {
            t->type = TQL_T_FIELD;
            t->field = scoped_intrinsics[k].field;
            return OTELC_OK;
        }
    }
    return tql_error(lx, t->pos, "'%.*s' is not supported", (int)n, w);
}

static int lex_word(tql_lexer *lx, tql_token *t)
{
    const char *w = lx->q + lx->pos;
    size_t n = 0, left = lx->len - lx->pos;
    while (n < left && is_word_char(w[n])) n++;
    lx->pos += n;
    char next = n < left ? w[n] : '\0';
    if (next == '.' && (word_is(w, n, "span") || word_is(w, n, "resource"))) {
        lx->pos++;
        return lex_attribute(lx, t,
                             word_is(w, n, "span") ? VW_TQL_SCOPE_SPAN : VW_TQL_SCOPE_RESOURCE);
    }
    if (next == '.' && (word_is(w, n, "event") || word_is(w, n, "link") ||
                        word_is(w, n, "parent") || word_is(w, n, "instrumentation")))
        return tql_error(lx, t->pos, "'%.*s.' attributes are not supported", (int)n, w);
    if (next == ':') return lex_scoped_intrinsic(lx, t);
    for (size_t k = 0; k < sizeof unscoped_intrinsics / sizeof unscoped_intrinsics[0]; k++) {
        if (word_is(w, n, unscoped_intrinsics[k].word)) {
            t->type = TQL_T_FIELD;
            t->field = unscoped_intrinsics[k].field;
            return OTELC_OK;
        }
    }
    if (lex_keyword(t, w, n)) return OTELC_OK;
    /* Anything else, with a dotted tail ("http.method"), for the parser to name. */
    while (lx->pos < lx->len && next == '.' && is_attr_char(lx->q[lx->pos])) lx->pos++;
    t->type = TQL_T_WORD;
    return OTELC_OK;
}

/* ---- The next token ------------------------------------------------------------------ */

int tql_lex_next(tql_lexer *lx, tql_token *t)
{
    while (lx->pos < lx->len && is_space(lx->q[lx->pos])) lx->pos++;
    memset(t, 0, sizeof *t);
    t->pos = lx->pos;
    int rc = OTELC_OK;
    char c = lx->pos < lx->len ? lx->q[lx->pos] : '\0';
    char c2 = lx->pos + 1 < lx->len ? lx->q[lx->pos + 1] : '\0';
    if (lx->pos >= lx->len) {
        t->type = TQL_T_EOF;
    } else if (c == '"' || c == '`') {
        rc = lex_string(lx, t);
    } else if (is_digit(c) || (c == '.' && is_digit(c2))) {
        rc = lex_number(lx, t);
    } else if (c == '.') {
        lx->pos++;
        rc = lex_attribute(lx, t, VW_TQL_SCOPE_ANY);
    } else if (is_word_start(c)) {
        rc = lex_word(lx, t);
    } else if (!lex_operator(lx, t)) {
        size_t n = otelc__utf8_seq_len((const unsigned char *)lx->q + lx->pos, lx->len - lx->pos);
        return tql_error(lx, lx->pos, "unexpected character '%.*s'", (int)(n ? n : 1),
                         lx->q + lx->pos);
    }
    t->end = lx->pos;
    return rc;
}
