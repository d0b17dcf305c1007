/*
 * sql_sanitize.c - db.query.text without literal values, and the query
 * summary (operations and their tables) used as the span name.
 *
 * A single forward pass splits the text into tokens; a writer copies them
 * with literals turned into '?', and a small state machine notes the
 * operations and the table names that follow FROM, JOIN, INTO, UPDATE and
 * TABLE. It is not an SQL parser: when unsure it redacts more (an
 * unterminated string swallows the rest) and summarises less.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "otelc/instrument/db.h"

typedef enum tok_type {
    TOK_END,
    TOK_SPACE,  /* white space and comments */
    TOK_WORD,   /* unquoted identifier or keyword */
    TOK_QUOTED, /* "identifier" or `identifier` */
    TOK_LITERAL,
    TOK_PARAM,
    TOK_PUNCT,
} tok_type;

typedef struct lexer {
    const char *s;
    size_t len;
    size_t pos;
} lexer;

typedef struct token {
    tok_type type;
    const char *p;
    size_t n;
} token;

static int is_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static int is_ident_char(unsigned char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_space(unsigned char c)
{
    /* NUL counts as space so that the output is always one C string. */
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == 0;
}

static unsigned char peek(const lexer *lx, size_t ahead)
{
    return lx->pos + ahead < lx->len ? (unsigned char)lx->s[lx->pos + ahead] : 0;
}

/* The previous byte is part of a word: a quote or digit there does not start a literal. */
static int after_ident(const lexer *lx)
{
    return lx->pos > 0 && is_ident_char((unsigned char)lx->s[lx->pos - 1]);
}

/*
 * Skip a quoted run opened at pos; a doubled quote or a backslash escapes.
 * Returns false when the text ends before the closing quote.
 */
static bool skip_quoted(lexer *lx, char q, int backslash)
{
    lx->pos++;
    while (lx->pos < lx->len) {
        char c = lx->s[lx->pos++];
        if (backslash && c == '\\') {
            if (lx->pos < lx->len) lx->pos++;
        } else if (c == q) {
            if (peek(lx, 0) != (unsigned char)q) return true;
            lx->pos++;
        }
    }
    return false;
}

/* Skip a block comment; PostgreSQL nests them, and nesting is harmless elsewhere. */
static void skip_block_comment(lexer *lx)
{
    int depth = 0;
    while (lx->pos < lx->len) {
        if (peek(lx, 0) == '/' && peek(lx, 1) == '*') {
            depth++;
            lx->pos += 2;
        } else if (peek(lx, 0) == '*' && peek(lx, 1) == '/') {
            lx->pos += 2;
            if (--depth == 0) return;
        } else {
            lx->pos++;
        }
    }
}

/* Length of a dollar-quote tag ($$ or $name$) at pos, or 0. */
static size_t dollar_tag_len(const lexer *lx)
{
    size_t i = 1;
    if (peek(lx, 1) == '$') return 2;
    if (!is_ident_start(peek(lx, 1))) return 0;
    while (lx->pos + i < lx->len && is_ident_char(peek(lx, i)) && peek(lx, i) != '$') i++;
    return peek(lx, i) == '$' ? i + 1 : 0;
}

static void skip_dollar_quoted(lexer *lx, size_t tag_len)
{
    const char *tag = lx->s + lx->pos;
    lx->pos += tag_len;
    while (lx->pos < lx->len) {
        if (lx->s[lx->pos] == '$' && lx->len - lx->pos >= tag_len &&
            memcmp(lx->s + lx->pos, tag, tag_len) == 0) {
            lx->pos += tag_len;
            return;
        }
        lx->pos++;
    }
}

static void skip_number(lexer *lx)
{
    if (peek(lx, 0) == '0' && (peek(lx, 1) == 'x' || peek(lx, 1) == 'X')) {
        lx->pos += 2;
        while (is_ident_char(peek(lx, 0))) lx->pos++;
        return;
    }
    while (is_digit(peek(lx, 0)) || peek(lx, 0) == '.' || peek(lx, 0) == '_') lx->pos++;
    if (peek(lx, 0) == 'e' || peek(lx, 0) == 'E') {
        size_t k = (peek(lx, 1) == '+' || peek(lx, 1) == '-') ? 2 : 1;
        if (is_digit(peek(lx, k))) {
            lx->pos += k;
            while (is_digit(peek(lx, 0))) lx->pos++;
        }
    }
}

/* A one-letter string prefix (E'', B'', X'', N'') or U&'' right before a quote. */
static size_t string_prefix_len(const lexer *lx)
{
    unsigned char c = peek(lx, 0);
    if (after_ident(lx)) return 0;
    if (c && strchr("eEbBxXnN", c) && peek(lx, 1) == '\'') return 1;
    if ((c == 'u' || c == 'U') && peek(lx, 1) == '&' && peek(lx, 2) == '\'') return 2;
    return 0;
}

static tok_type lex_dollar(lexer *lx)
{
    size_t tag = dollar_tag_len(lx);
    if (after_ident(lx)) { /* a$b is one PostgreSQL identifier */
        lx->pos++;
        while (is_ident_char(peek(lx, 0))) lx->pos++;
        return TOK_WORD;
    }
    if (tag) {
        skip_dollar_quoted(lx, tag);
        return TOK_LITERAL;
    }
    size_t start = ++lx->pos;
    while (is_ident_char(peek(lx, 0)) && peek(lx, 0) != '$') lx->pos++;
    return lx->pos > start ? TOK_PARAM : TOK_PUNCT; /* $1 or SQLite's $name */
}

static tok_type lex_named_param(lexer *lx)
{
    /* :name and @name are SQLite parameters; "::" is a PostgreSQL cast. */
    unsigned char c = peek(lx, 0);
    if (c == ':' && (peek(lx, 1) == ':' || (lx->pos > 0 && lx->s[lx->pos - 1] == ':'))) {
        lx->pos++;
        return TOK_PUNCT;
    }
    if (!is_ident_start(peek(lx, 1)) || after_ident(lx)) {
        lx->pos++;
        return TOK_PUNCT;
    }
    lx->pos++;
    while (is_ident_char(peek(lx, 0))) lx->pos++;
    return TOK_PARAM;
}

static tok_type lex_word(lexer *lx)
{
    size_t start = lx->pos;
    while (is_ident_char(peek(lx, 0))) lx->pos++;
    size_t n = lx->pos - start;
    if ((n == 4 && strncasecmp(lx->s + start, "true", 4) == 0) ||
        (n == 5 && strncasecmp(lx->s + start, "false", 5) == 0))
        return TOK_LITERAL;
    return TOK_WORD;
}

static tok_type lex_one(lexer *lx)
{
    unsigned char c = peek(lx, 0);
    size_t pre;
    if (is_space(c)) {
        while (lx->pos < lx->len && is_space(peek(lx, 0))) lx->pos++;
        return TOK_SPACE;
    }
    if (c == '-' && peek(lx, 1) == '-') {
        while (lx->pos < lx->len && lx->s[lx->pos] != '\n') lx->pos++;
        return TOK_SPACE;
    }
    if (c == '/' && peek(lx, 1) == '*') {
        skip_block_comment(lx);
        return TOK_SPACE;
    }
    if ((pre = string_prefix_len(lx)) != 0) {
        lx->pos += pre;
        skip_quoted(lx, '\'', 1);
        return TOK_LITERAL;
    }
    if (c == '\'') {
        skip_quoted(lx, '\'', 1);
        return TOK_LITERAL;
    }
    if (c == '"' || c == '`') {
        /* Unterminated, it would carry the rest of the text verbatim: redact it. */
        size_t start = lx->pos;
        if (!skip_quoted(lx, (char)c, 0)) return TOK_LITERAL;
        return memchr(lx->s + start, 0, lx->pos - start) ? TOK_LITERAL : TOK_QUOTED;
    }
    if (c == '$') return lex_dollar(lx);
    if ((is_digit(c) || (c == '.' && is_digit(peek(lx, 1)))) && !after_ident(lx)) {
        skip_number(lx);
        return TOK_LITERAL;
    }
    if (c == '?') {
        lx->pos++;
        while (is_digit(peek(lx, 0))) lx->pos++;
        return TOK_PARAM;
    }
    if (c == ':' || c == '@') return lex_named_param(lx);
    if (is_ident_char(c)) return lex_word(lx);
    lx->pos++;
    return TOK_PUNCT;
}

static token next_token(lexer *lx)
{
    token t = {TOK_END, lx->s + lx->pos, 0};
    if (lx->pos >= lx->len) return t;
    t.type = lex_one(lx);
    t.n = (size_t)(lx->s + lx->pos - t.p);
    return t;
}

/* ---- Output ------------------------------------------------------------ */

typedef struct writer {
    char *out;
    size_t cap; /* usable bytes, excluding the NUL */
    size_t n;
    int full;
    int pending_space;
} writer;

/* Back off to a UTF-8 character boundary so a cut never splits a character. */
static size_t utf8_cut(const char *s, size_t n)
{
    size_t k = n;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
    return k;
}

static void w_put(writer *w, const char *p, size_t n)
{
    if (w->full || !w->out) return;
    if (w->pending_space && w->n > 0) {
        w->pending_space = 0;
        w_put(w, " ", 1);
        if (w->full) return;
    }
    w->pending_space = 0;
    if (n > w->cap - w->n) {
        size_t room = w->cap - w->n;
        memcpy(w->out + w->n, p, room);
        w->n += utf8_cut(p, room);
        w->full = 1;
        return;
    }
    memcpy(w->out + w->n, p, n);
    w->n += n;
}

static void w_token(writer *w, const token *t)
{
    if (t->type == TOK_SPACE) {
        w->pending_space = 1;
        return;
    }
    if (t->type == TOK_LITERAL) {
        w_put(w, "?", 1);
        return;
    }
    w_put(w, t->p, t->n);
}

/* ---- Summary ----------------------------------------------------------- */

typedef enum expect {
    EXPECT_NOTHING,
    EXPECT_TABLE,      /* after FROM, JOIN, INTO, UPDATE */
    EXPECT_DDL_OBJECT, /* after CREATE, ALTER, DROP, TRUNCATE */
    EXPECT_DDL_NAME,   /* after TABLE or VIEW in DDL */
} expect;

typedef struct summarizer {
    otelc_sql_info *info;
    expect want;
    int from_list;   /* inside FROM a, b: a comma expects another table */
    int stmt_start;  /* no keyword seen yet in this statement */
    int prev_for_on; /* previous word was FOR, ON or DO: UPDATE/DELETE there are not operations */
    int ops;
    int tables;
    size_t summary_len;
    int summary_full;
    char ddl_verb[16];
} summarizer;

static int word_is(const token *t, const char *kw)
{
    return t->type == TOK_WORD && strlen(kw) == t->n && strncasecmp(t->p, kw, t->n) == 0;
}

static int word_in(const token *t, const char *const *list)
{
    for (; *list; list++)
        if (word_is(t, *list)) return 1;
    return 0;
}

static const char *const dml_ops[] = {"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", NULL};
static const char *const start_ops[] = {
    "BEGIN",  "COMMIT", "ROLLBACK",   "CALL",    "SET",     "SHOW",    "VACUUM",    "ANALYZE",
    "COPY",   "GRANT",  "REVOKE",     "PRAGMA",  "REPLACE", "EXPLAIN", "PREPARE",   "EXECUTE",
    "LISTEN", "NOTIFY", "LOCK",       "ATTACH",  "DETACH",  "REINDEX", "SAVEPOINT", "RELEASE",
    "START",  "END",    "DEALLOCATE", "DISCARD", "VALUES",  "TABLE",   NULL};
static const char *const ddl_verbs[] = {"CREATE", "ALTER", "DROP", "TRUNCATE", NULL};
static const char *const ddl_objects[] = {"TABLE",     "VIEW",     "INDEX",   "SCHEMA", "DATABASE",
                                          "SEQUENCE",  "FUNCTION", "TRIGGER", "TYPE",   "EXTENSION",
                                          "PROCEDURE", "ROLE",     "USER",    NULL};
static const char *const ddl_modifiers[] = {
    "OR",     "REPLACE", "TEMP",         "TEMPORARY", "UNLOGGED", "UNIQUE",  "IF",           "NOT",
    "EXISTS", "ONLY",    "MATERIALIZED", "GLOBAL",    "LOCAL",    "VIRTUAL", "CONCURRENTLY", NULL};
/* Words after a table name that end a FROM list or are not aliases. */
static const char *const clause_words[] = {
    "WHERE",   "GROUP",     "ORDER",   "LIMIT", "OFFSET",    "HAVING", "JOIN",   "INNER",
    "LEFT",    "RIGHT",     "FULL",    "CROSS", "NATURAL",   "ON",     "USING",  "UNION",
    "EXCEPT",  "INTERSECT", "WINDOW",  "FOR",   "RETURNING", "SET",    "VALUES", "SELECT",
    "DEFAULT", "OUTER",     "LATERAL", "FETCH", "INDEXED",   "NOT",    NULL};

/* Append a word to the summary, whole or not at all. */
static void summary_add(summarizer *sm, const char *p, size_t n)
{
    size_t need = n + (sm->summary_len ? 1 : 0);
    if (sm->summary_full || sm->summary_len + need > OTELC_SQL_SUMMARY_MAX) {
        sm->summary_full = 1; /* later words would misrepresent the order */
        return;
    }
    if (sm->summary_len) sm->info->summary[sm->summary_len++] = ' ';
    memcpy(sm->info->summary + sm->summary_len, p, n);
    sm->summary_len += n;
    sm->info->summary[sm->summary_len] = '\0';
}

static void copy_field(char *dst, size_t cap, const char *p, size_t n)
{
    if (n >= cap) n = utf8_cut(p, cap - 1);
    memcpy(dst, p, n);
    dst[n] = '\0';
}

static void note_operation(summarizer *sm, const char *p, size_t n)
{
    summary_add(sm, p, n);
    if (sm->ops++ == 0) copy_field(sm->info->operation, sizeof(sm->info->operation), p, n);
}

static void note_table(summarizer *sm, const char *p, size_t n)
{
    summary_add(sm, p, n);
    if (sm->tables++ == 0) copy_field(sm->info->collection, sizeof(sm->info->collection), p, n);
}

/*
 * A table name: words and quoted identifiers joined by dots (public.users,
 * "My Schema"."T"), read ahead from the lexer without consuming what
 * follows. Returns the length, or 0 when a '(' follows a FROM item (a
 * function call or a subquery is not a table).
 */
static size_t read_table_name(lexer *lx, const token *first, int from_item)
{
    lexer ahead = *lx;
    const char *end = first->p + first->n;
    for (;;) {
        lexer save = ahead;
        token dot = next_token(&ahead);
        if (dot.type != TOK_PUNCT || dot.n != 1 || dot.p[0] != '.') {
            ahead = save;
            break;
        }
        token part = next_token(&ahead);
        if (part.type != TOK_WORD && part.type != TOK_QUOTED) {
            ahead = save;
            break;
        }
        end = part.p + part.n;
    }
    lexer look = ahead;
    token t;
    do t = next_token(&look);
    while (t.type == TOK_SPACE);
    if (from_item && t.type == TOK_PUNCT && t.p[0] == '(') return 0;
    lx->pos = (size_t)(end - lx->s);
    return (size_t)(end - first->p);
}

static void upper_copy(char *dst, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = (p[i] >= 'a' && p[i] <= 'z') ? (char)(p[i] - 32) : p[i];
}

/*
 * After CREATE/ALTER/DROP/TRUNCATE: the object word joins the verb in the
 * operation name ("CREATE TABLE"); a TABLE or VIEW name that follows is the
 * collection. TRUNCATE may name its table directly.
 */
static void on_ddl_word(summarizer *sm, lexer *lx, const token *t)
{
    if (word_in(t, ddl_modifiers)) return; /* OR REPLACE, TEMP, IF NOT EXISTS */
    size_t vn = strlen(sm->ddl_verb);
    if (!word_in(t, ddl_objects)) {
        note_operation(sm, sm->ddl_verb, vn);
        sm->want = EXPECT_NOTHING;
        if (strcmp(sm->ddl_verb, "TRUNCATE") == 0) {
            size_t n = read_table_name(lx, t, 0);
            if (n) note_table(sm, t->p, n);
        }
        return;
    }
    char op[sizeof(sm->ddl_verb) + 16];
    memcpy(op, sm->ddl_verb, vn);
    op[vn] = ' ';
    upper_copy(op + vn + 1, t->p, t->n); /* ddl_objects are at most 10 bytes */
    note_operation(sm, op, vn + 1 + t->n);
    sm->want = (word_is(t, "TABLE") || word_is(t, "VIEW")) ? EXPECT_DDL_NAME : EXPECT_NOTHING;
}

static void on_word(summarizer *sm, lexer *lx, const token *t)
{
    int start = sm->stmt_start;
    sm->stmt_start = 0;
    if (sm->want == EXPECT_DDL_OBJECT ||
        (sm->want == EXPECT_DDL_NAME && word_in(t, ddl_modifiers))) {
        on_ddl_word(sm, lx, t);
        return;
    }
    if (sm->want == EXPECT_TABLE || sm->want == EXPECT_DDL_NAME) {
        if (word_is(t, "ONLY") || word_is(t, "LATERAL")) return;
        int from_item = sm->from_list;
        sm->want = EXPECT_NOTHING;
        if (!word_in(t, clause_words)) {
            size_t n = read_table_name(lx, t, from_item);
            if (n) note_table(sm, t->p, n);
            return;
        }
    }
    int for_on = sm->prev_for_on;
    sm->prev_for_on = word_is(t, "FOR") || word_is(t, "ON") || word_is(t, "DO");
    if (word_in(t, dml_ops) && !(for_on && (word_is(t, "UPDATE") || word_is(t, "DELETE")))) {
        note_operation(sm, t->p, t->n);
        sm->from_list = 0;
        if (word_is(t, "UPDATE")) sm->want = EXPECT_TABLE;
        return;
    }
    if (start && word_in(t, ddl_verbs)) {
        upper_copy(sm->ddl_verb, t->p, t->n); /* ddl_verbs are at most 8 bytes */
        sm->ddl_verb[t->n] = '\0';
        sm->want = EXPECT_DDL_OBJECT;
        return;
    }
    if (start && word_in(t, start_ops)) {
        note_operation(sm, t->p, t->n);
        return;
    }
    if (word_is(t, "FROM") || word_is(t, "JOIN")) {
        sm->want = EXPECT_TABLE;
        sm->from_list = word_is(t, "FROM");
        return;
    }
    if (word_is(t, "INTO")) {
        sm->want = EXPECT_TABLE;
        sm->from_list = 0;
        return;
    }
    if (word_in(t, clause_words)) sm->from_list = 0;
}

static void on_token(summarizer *sm, lexer *lx, const token *t)
{
    if (t->type == TOK_SPACE) return;
    if (t->type == TOK_WORD) {
        on_word(sm, lx, t);
        return;
    }
    if (t->type == TOK_QUOTED && (sm->want == EXPECT_TABLE || sm->want == EXPECT_DDL_NAME)) {
        int from_item = sm->from_list;
        sm->want = EXPECT_NOTHING;
        size_t n = read_table_name(lx, t, from_item);
        if (n) note_table(sm, t->p, n);
        return;
    }
    sm->prev_for_on = 0;
    if (t->type == TOK_PUNCT && t->p[0] == ';') {
        sm->stmt_start = 1;
        sm->want = EXPECT_NOTHING;
        sm->from_list = 0;
        return;
    }
    if (t->type == TOK_PUNCT && t->p[0] == ',' && sm->from_list) {
        sm->want = EXPECT_TABLE;
        return;
    }
    if (t->type == TOK_PUNCT && (t->p[0] == '(' || t->p[0] == ')')) {
        sm->from_list = 0;
        sm->want = EXPECT_NOTHING;
        sm->stmt_start = t->p[0] == '(';
    }
}

/* ---- Entry point ------------------------------------------------------- */

static void count_token(otelc_sql_info *info, const token *t, int *stmt_has_content)
{
    if (t->type == TOK_PARAM) info->placeholders++;
    if (t->type == TOK_LITERAL) info->literals++;
    if (t->type == TOK_PUNCT && t->p[0] == ';') {
        *stmt_has_content = 0;
    } else if (t->type != TOK_SPACE && !*stmt_has_content) {
        *stmt_has_content = 1;
        info->statements++;
    }
}

size_t otelc_sql_sanitize(const char *sql, size_t len, char *out, size_t out_size,
                          otelc_sql_info *info)
{
    otelc_sql_info scratch;
    lexer lx = {sql ? sql : "", sql ? len : 0, 0};
    writer w = {out, out_size ? out_size - 1 : 0, 0, out_size == 0, 0};
    if (!info) info = &scratch;
    memset(info, 0, sizeof(*info));
    summarizer sm = {.info = info, .stmt_start = 1};
    int has_content = 0;
    for (;;) {
        size_t before = lx.pos;
        token t = next_token(&lx);
        if (t.type == TOK_END) break;
        count_token(info, &t, &has_content);
        on_token(&sm, &lx, &t);
        if (lx.pos != before + t.n) t.n = lx.pos - before; /* a table name read ahead */
        w_token(&w, &t);
    }
    if (sm.ops != 1) info->operation[0] = '\0';
    if (sm.tables != 1) info->collection[0] = '\0';
    if (out && out_size) out[w.n] = '\0';
    return w.n;
}
