/*
 * traceql_parse.c - compile a TraceQL query: recursive descent over the
 * tokens of traceql_lex.c into the tree of traceql_ast.h, then the plan.
 *
 * The grammar, with Tempo's precedence (its expr.y): '&&' and '||' bind
 * equally and group from the left, in filters and between spansets alike;
 * the structural operators bind tighter than both; '!' tighter than a
 * comparison, so it takes a parenthesised condition or a boolean attribute.
 *
 *   query      = spansets EOF
 *   spansets   = structural { ("&&" | "||") structural }
 *   structural = primary { (">" | ">>" | "<" | "<<" | "~") primary }
 *   primary    = "(" spansets ")" | "{" [ condition ] "}"
 *   condition  = unary { ("&&" | "||") unary }
 *   unary      = "!" unary | "(" condition ")" | true | false
 *              | field op value | value op field | attribute
 *
 * Depth (parentheses, braces, '!') and the number of conditions are
 * bounded, so recursion and the tree stay small whatever the input.
 */
#include <stdio.h>
#include <stdlib.h>

#include "traceql_lex.h"

typedef struct parser {
    tql_lexer lx;
    tql_token tok; /* the current token */
    vw_tql *q;
    unsigned depth;
    unsigned conditions;
} parser;

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != OTELC_OK) return rc_;                                                           \
    } while (0)

static int advance(parser *p)
{
    return tql_lex_next(&p->lx, &p->tok);
}

static const char *describe(parser *p, char *buf, size_t size)
{
    return tql_tok_describe(&p->lx, &p->tok, buf, size);
}

/* The source text of a token, for messages ("span.foo", "name", "=~"). */
static int source_len(const tql_token *t)
{
    return (int)(t->end - t->pos);
}

static int enter(parser *p, size_t pos)
{
    if (++p->depth > VW_TQL_MAX_DEPTH)
        return tql_error(&p->lx, pos, "nested deeper than %d levels", VW_TQL_MAX_DEPTH);
    return OTELC_OK;
}

static int count_condition(parser *p, size_t pos)
{
    if (++p->conditions > VW_TQL_MAX_CONDITIONS)
        return tql_error(&p->lx, pos, "more than %d conditions", VW_TQL_MAX_CONDITIONS);
    return OTELC_OK;
}

static void *node(parser *p, size_t size)
{
    void *n = otelc__arena_alloc(&p->q->arena, size, _Alignof(max_align_t));
    if (n) memset(n, 0, size);
    return n;
}

/* ---- Values -------------------------------------------------------------------------- */

/* A literal, with an optional '-' before a number or a duration, into cmp. */
static int parse_value(parser *p, tql_cmp *cmp, const tql_token *op)
{
    char found[64];
    bool neg = false;
    size_t minus = p->tok.pos;
    if (p->tok.type == TQL_T_MINUS) {
        neg = true;
        TRY(advance(p));
        tql_lit l = p->tok.lit;
        if (p->tok.type != TQL_T_LITERAL ||
            (l != TQL_L_INT && l != TQL_L_FLOAT && l != TQL_L_DURATION))
            return tql_error(&p->lx, p->tok.pos,
                             "expected a number or a duration after '-', found %s",
                             describe(p, found, sizeof found));
    }
    if (p->tok.type == TQL_T_FIELD)
        return tql_error(&p->lx, p->tok.pos, "comparing two fields is not supported");
    if (p->tok.type != TQL_T_LITERAL)
        return tql_error(&p->lx, p->tok.pos, "expected a value after '%.*s', found %s",
                         source_len(op), p->lx.q + op->pos, describe(p, found, sizeof found));
    const tql_token *t = &p->tok;
    cmp->type = t->lit;
    switch (t->lit) {
    case TQL_L_INT:
        neg = neg != t->neg;
        if (!neg && t->u > INT64_MAX) return tql_error(&p->lx, minus, "integer out of range");
        cmp->i = neg ? (t->u > INT64_MAX ? INT64_MIN : -(int64_t)t->u) : (int64_t)t->u;
        break;
    case TQL_L_FLOAT:
        cmp->d = neg ? -t->d : t->d;
        break;
    case TQL_L_DURATION:
        cmp->i = neg ? -(int64_t)t->u : (int64_t)t->u;
        break;
    case TQL_L_STR:
        cmp->str = t->text;
        cmp->str_len = t->text_len;
        break;
    default: /* bool, status, kind, nil */
        cmp->i = (int64_t)t->u;
        break;
    }
    return advance(p);
}

/* ---- Comparisons --------------------------------------------------------------------- */

static bool comparison_op(tql_tok t, tql_op *op)
{
    static const struct {
        tql_tok tok;
        tql_op op;
    } ops[] = {{TQL_T_EQ, TQL_EQ}, {TQL_T_NEQ, TQL_NEQ}, {TQL_T_LT, TQL_LT}, {TQL_T_LTE, TQL_LTE},
               {TQL_T_GT, TQL_GT}, {TQL_T_GTE, TQL_GTE}, {TQL_T_RE, TQL_RE}, {TQL_T_NRE, TQL_NRE}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (ops[i].tok == t) {
            *op = ops[i].op;
            return true;
        }
    }
    return false;
}

static bool is_string_field(tql_field f)
{
    return f == TQL_F_NAME || f == TQL_F_STATUS_MESSAGE || f == TQL_F_ROOT_NAME ||
           f == TQL_F_ROOT_SERVICE;
}

static bool is_numeric_lit(tql_lit l)
{
    return l == TQL_L_INT || l == TQL_L_FLOAT || l == TQL_L_DURATION;
}

/* What is wrong with a comparison, and where: at its operator or at its value. */
typedef struct type_problem {
    const char *why;
    bool about_op;
    bool about_field; /* the message follows the field's name */
} type_problem;

/*
 * Whether field op value makes sense; fields whose type is known (the
 * intrinsics) take only values of that type, as Tempo's validation
 * demands. why is NULL when it does.
 */
static type_problem type_check(const tql_cmp *c)
{
    bool equality = c->op == TQL_EQ || c->op == TQL_NEQ;
    bool regex = c->op == TQL_RE || c->op == TQL_NRE;
    if (c->type == TQL_L_NIL)
        return (type_problem){equality ? NULL : "nil compares only with = or !=", true, false};
    if (regex && c->type != TQL_L_STR)
        return (type_problem){"a regular expression must be a string", false, false};
    if (is_string_field(c->field) && c->type != TQL_L_STR)
        return (type_problem){"compares with a string", false, true};
    switch (c->field) {
    case TQL_F_STATUS:
        if (c->type != TQL_L_STATUS)
            return (type_problem){"compares with ok, error or unset", false, true};
        return (type_problem){equality ? NULL : "compares only with = or !=", true, true};
    case TQL_F_KIND:
        if (c->type != TQL_L_KIND)
            return (type_problem){
                "compares with server, client, producer, consumer, internal or unspecified", false,
                true};
        return (type_problem){equality ? NULL : "compares only with = or !=", true, true};
    case TQL_F_DURATION:
    case TQL_F_TRACE_DURATION:
        if (is_numeric_lit(c->type)) return (type_problem){0};
        return (type_problem){"compares with a duration such as 100ms", false, true};
    case TQL_F_ATTR:
        if (c->type == TQL_L_STATUS)
            return (type_problem){"cannot be compared with a status", false, true};
        if (c->type == TQL_L_KIND)
            return (type_problem){"cannot be compared with a span kind", false, true};
        if (c->type == TQL_L_BOOL && !equality)
            return (type_problem){"booleans compare only with = or !=", true, false};
        return (type_problem){0};
    default:
        return (type_problem){0};
    }
}

static int compile_regex(parser *p, tql_cmp *c, size_t pos)
{
    vw_tql *q = p->q;
    char why[160];
    if (!q->match_ctx && !(q->match_ctx = vw__tql_regex_limits())) return OTELC_ERR_NOMEM;
    int rc = vw__tql_regex_compile(c->str, c->str_len, &c->re, why, sizeof why);
    if (rc == OTELC_ERR_PARSE) return tql_error(&p->lx, pos, "invalid regular expression: %s", why);
    if (rc != OTELC_OK) return rc;
    q->regex[q->regex_count++] = c->re;
    return OTELC_OK;
}

/* The meaning of "value op field" written as "field op' value". */
static tql_op mirror(tql_op op)
{
    switch (op) {
    case TQL_LT:
        return TQL_GT;
    case TQL_LTE:
        return TQL_GTE;
    case TQL_GT:
        return TQL_LT;
    case TQL_GTE:
        return TQL_LTE;
    default:
        return op;
    }
}

static void set_field(vw_tql *q, tql_cmp *c, const tql_token *field)
{
    c->field = field->field;
    c->scope = field->scope;
    c->key = field->text;
    if (c->field == TQL_F_ROOT_NAME || c->field == TQL_F_ROOT_SERVICE) q->needs_root = true;
    if (c->field == TQL_F_TRACE_DURATION) q->needs_trace_duration = true;
}

/* Where the parts of a comparison are, for its errors. */
typedef struct cmp_source {
    const tql_token *field;
    size_t op_pos, value_pos;
} cmp_source;

/* Type check and regex compilation of a parsed comparison. */
static int finish_comparison(parser *p, tql_cmp *c, const cmp_source *src)
{
    type_problem t = type_check(c);
    size_t at = t.about_op ? src->op_pos : src->value_pos;
    if (t.why && t.about_field)
        return tql_error(&p->lx, at, "'%.*s' %s", source_len(src->field), p->lx.q + src->field->pos,
                         t.why);
    if (t.why) return tql_error(&p->lx, at, "%s", t.why);
    if (c->op == TQL_RE || c->op == TQL_NRE) return compile_regex(p, c, src->value_pos);
    return OTELC_OK;
}

/* field op value; p->tok is the operator, field the token before it. */
static int parse_comparison(parser *p, const tql_token *field, tql_cond *c)
{
    tql_token op = p->tok;
    comparison_op(op.type, &c->cmp.op);
    set_field(p->q, &c->cmp, field);
    TRY(advance(p));
    cmp_source src = {field, op.pos, p->tok.pos};
    TRY(parse_value(p, &c->cmp, &op));
    return finish_comparison(p, &c->cmp, &src);
}

/* value op field: p->tok is the value. */
static int parse_reversed_comparison(parser *p, tql_cond *c)
{
    char found[64];
    size_t value_pos = p->tok.pos;
    tql_token value_tok = p->tok;
    TRY(parse_value(p, &c->cmp, &value_tok));
    tql_token op = p->tok;
    if (!comparison_op(op.type, &c->cmp.op)) {
        if (c->cmp.type == TQL_L_BOOL) { /* a constant: { true }, { false } */
            c->type = TQL_C_CONST;
            c->value = c->cmp.i != 0;
            return OTELC_OK;
        }
        return tql_error(&p->lx, op.pos, "expected a comparison operator after a value, found %s",
                         describe(p, found, sizeof found));
    }
    if (c->cmp.op == TQL_RE || c->cmp.op == TQL_NRE)
        return tql_error(&p->lx, op.pos, "the pattern goes on the right of '%.*s'", source_len(&op),
                         p->lx.q + op.pos);
    TRY(advance(p));
    if (p->tok.type != TQL_T_FIELD)
        return tql_error(&p->lx, p->tok.pos, "expected a field after '%.*s', found %s",
                         source_len(&op), p->lx.q + op.pos, describe(p, found, sizeof found));
    c->cmp.op = mirror(c->cmp.op);
    set_field(p->q, &c->cmp, &p->tok);
    tql_token field = p->tok;
    cmp_source src = {&field, op.pos, value_pos};
    TRY(advance(p));
    return finish_comparison(p, &c->cmp, &src);
}

/* ---- Conditions ---------------------------------------------------------------------- */

static int parse_condition(parser *p, tql_cond **out);
static int parse_unary(parser *p, tql_cond **out, size_t not_pos);

/* A field: a comparison, or (attributes only) a boolean test: { span.cache.hit }. */
static int parse_field_condition(parser *p, tql_cond *c, size_t not_pos)
{
    char found[64];
    tql_token field = p->tok;
    TRY(advance(p));
    tql_op op;
    if (comparison_op(p->tok.type, &op)) {
        if (not_pos != SIZE_MAX)
            return tql_error(&p->lx, not_pos, "'!' binds tighter than '%.*s': write !( ... )",
                             source_len(&p->tok), p->lx.q + p->tok.pos);
        return parse_comparison(p, &field, c);
    }
    if (field.field != TQL_F_ATTR)
        return tql_error(&p->lx, p->tok.pos,
                         "expected a comparison operator after '%.*s', found %s",
                         source_len(&field), p->lx.q + field.pos, describe(p, found, sizeof found));
    /* Tempo reads a lone attribute as "attribute = true". */
    set_field(p->q, &c->cmp, &field);
    c->cmp.op = TQL_EQ;
    c->cmp.type = TQL_L_BOOL;
    c->cmp.i = 1;
    return OTELC_OK;
}

static int unknown_field(parser *p)
{
    int n = source_len(&p->tok);
    const char *w = p->lx.q + p->tok.pos;
    return tql_error(
        &p->lx, p->tok.pos,
        "unknown field '%.*s': attributes are written span.%.*s, resource.%.*s or .%.*s", n, w, n,
        w, n, w, n, w);
}

/* "!" unary: what follows learns where the '!' was, for the error it may cause. */
static int parse_not(parser *p, tql_cond **out)
{
    size_t at = p->tok.pos;
    tql_cond *c = node(p, sizeof *c);
    if (!c) return OTELC_ERR_NOMEM;
    c->type = TQL_C_NOT;
    *out = c;
    TRY(enter(p, at));
    TRY(advance(p));
    TRY(parse_unary(p, &c->lhs, at));
    p->depth--;
    return OTELC_OK;
}

static int parse_parenthesised(parser *p, tql_cond **out)
{
    char found[64];
    TRY(enter(p, p->tok.pos));
    TRY(advance(p));
    TRY(parse_condition(p, out));
    if (p->tok.type != TQL_T_RPAREN)
        return tql_error(&p->lx, p->tok.pos, "expected '&&', '||' or ')', found %s",
                         describe(p, found, sizeof found));
    p->depth--;
    return advance(p);
}

/* A comparison, a boolean test or a constant: one condition. */
static int parse_leaf(parser *p, tql_cond **out, size_t not_pos)
{
    static const char negated[] = "'!' binds tighter than a comparison: write !( ... )";
    tql_cond *c = node(p, sizeof *c);
    if (!c) return OTELC_ERR_NOMEM;
    c->type = TQL_C_CMP;
    *out = c;
    TRY(count_condition(p, p->tok.pos));
    if (p->tok.type == TQL_T_FIELD) return parse_field_condition(p, c, not_pos);
    TRY(parse_reversed_comparison(p, c));
    if (not_pos != SIZE_MAX && c->type != TQL_C_CONST)
        return tql_error(&p->lx, not_pos, "%s", negated);
    return OTELC_OK;
}

/* unary = "!" unary | "(" condition ")" | comparison | attribute | true | false */
static int parse_unary(parser *p, tql_cond **out, size_t not_pos)
{
    char found[64];
    switch (p->tok.type) {
    case TQL_T_NOT:
        return parse_not(p, out);
    case TQL_T_LPAREN:
        return parse_parenthesised(p, out);
    case TQL_T_FIELD:
    case TQL_T_LITERAL:
    case TQL_T_MINUS:
        return parse_leaf(p, out, not_pos);
    case TQL_T_WORD:
        return unknown_field(p);
    default:
        return tql_error(&p->lx, p->tok.pos, "expected a condition, found %s",
                         describe(p, found, sizeof found));
    }
}

/* condition = unary { ("&&" | "||") unary }, grouped from the left. */
static int parse_condition(parser *p, tql_cond **out)
{
    TRY(parse_unary(p, out, SIZE_MAX));
    while (p->tok.type == TQL_T_AND || p->tok.type == TQL_T_OR) {
        tql_cond *c = node(p, sizeof *c);
        if (!c) return OTELC_ERR_NOMEM;
        c->type = p->tok.type == TQL_T_AND ? TQL_C_AND : TQL_C_OR;
        c->lhs = *out;
        TRY(advance(p));
        TRY(parse_unary(p, &c->rhs, SIZE_MAX));
        *out = c;
    }
    return OTELC_OK;
}

/* ---- Spansets ------------------------------------------------------------------------ */

static tql_set *new_set(parser *p, tql_set_type type, tql_set *lhs, tql_set *rhs)
{
    tql_set *s = node(p, sizeof *s);
    if (!s) return NULL;
    s->type = type;
    s->lhs = lhs;
    s->rhs = rhs;
    /* The left side is evaluated into this node's buffer, the right into the next ones. */
    s->slots = 1;
    if (lhs && lhs->slots > s->slots) s->slots = lhs->slots;
    if (rhs && rhs->slots + 1 > s->slots) s->slots = rhs->slots + 1;
    if (type >= TQL_S_CHILD) p->q->needs_parents = true;
    return s;
}

static int parse_spansets(parser *p, tql_set **out);

static int parse_filter(parser *p, tql_set **out)
{
    char found[64];
    TRY(count_condition(p, p->tok.pos));
    TRY(enter(p, p->tok.pos));
    TRY(advance(p));
    tql_cond *cond = NULL;
    if (p->tok.type != TQL_T_RBRACE) TRY(parse_condition(p, &cond));
    if (p->tok.type != TQL_T_RBRACE)
        return tql_error(&p->lx, p->tok.pos, "expected '&&', '||' or '}', found %s",
                         describe(p, found, sizeof found));
    p->depth--;
    *out = new_set(p, TQL_S_FILTER, NULL, NULL);
    if (!*out) return OTELC_ERR_NOMEM;
    (*out)->filter = cond;
    return advance(p);
}

/* primary = "(" spansets ")" | "{" [ condition ] "}" */
static int parse_primary(parser *p, tql_set **out)
{
    char found[64];
    if (p->tok.type == TQL_T_LBRACE) return parse_filter(p, out);
    if (p->tok.type != TQL_T_LPAREN)
        return tql_error(&p->lx, p->tok.pos, "expected '{' or '(', found %s",
                         describe(p, found, sizeof found));
    TRY(enter(p, p->tok.pos));
    TRY(advance(p));
    TRY(parse_spansets(p, out));
    if (p->tok.type != TQL_T_RPAREN)
        return tql_error(&p->lx, p->tok.pos, "expected ')', found %s",
                         describe(p, found, sizeof found));
    p->depth--;
    return advance(p);
}

static bool structural_op(tql_tok t, tql_set_type *type)
{
    switch (t) {
    case TQL_T_GT:
        *type = TQL_S_CHILD;
        return true;
    case TQL_T_DESC:
        *type = TQL_S_DESC;
        return true;
    case TQL_T_LT:
        *type = TQL_S_PARENT;
        return true;
    case TQL_T_ANCE:
        *type = TQL_S_ANCE;
        return true;
    case TQL_T_SIBL:
        *type = TQL_S_SIBL;
        return true;
    default:
        return false;
    }
}

/* structural = primary { (">" | ">>" | "<" | "<<" | "~") primary } */
static int parse_structural(parser *p, tql_set **out)
{
    tql_set_type type;
    TRY(parse_primary(p, out));
    while (structural_op(p->tok.type, &type)) {
        tql_set *rhs;
        TRY(advance(p));
        TRY(parse_primary(p, &rhs));
        *out = new_set(p, type, *out, rhs);
        if (!*out) return OTELC_ERR_NOMEM;
    }
    return OTELC_OK;
}

/* spansets = structural { ("&&" | "||") structural }, grouped from the left. */
static int parse_spansets(parser *p, tql_set **out)
{
    TRY(parse_structural(p, out));
    while (p->tok.type == TQL_T_AND || p->tok.type == TQL_T_OR) {
        tql_set_type type = p->tok.type == TQL_T_AND ? TQL_S_AND : TQL_S_OR;
        tql_set *rhs;
        TRY(advance(p));
        TRY(parse_structural(p, &rhs));
        *out = new_set(p, type, *out, rhs);
        if (!*out) return OTELC_ERR_NOMEM;
    }
    return OTELC_OK;
}

/* What follows a complete query: the end, or the name of what is wrong. */
static int expect_end(parser *p)
{
    char found[64];
    const tql_token *t = &p->tok;
    switch (t->type) {
    case TQL_T_EOF:
        return OTELC_OK;
    case TQL_T_PIPE:
        return tql_error(&p->lx, t->pos, "pipelines ('|') are not supported");
    case TQL_T_UNSUP:
    case TQL_T_NRE:
        return tql_error(&p->lx, t->pos, "the '%.*s' operator is not supported", source_len(t),
                         p->lx.q + t->pos);
    default:
        return tql_error(&p->lx, t->pos,
                         "expected '&&', '||', '>', '>>', '<', '<<', '~' or the end, found %s",
                         describe(p, found, sizeof found));
    }
}

/* ---- The API ------------------------------------------------------------------------- */

/* Length limit, valid UTF-8 and no NUL byte, before any token is cut. */
static int check_text(const tql_lexer *lx)
{
    if (lx->len > VW_TQL_MAX_QUERY_BYTES)
        return tql_error(lx, 0, "query longer than %d bytes", VW_TQL_MAX_QUERY_BYTES);
    const unsigned char *s = (const unsigned char *)lx->q;
    for (size_t i = 0; i < lx->len;) {
        size_t n = otelc__utf8_seq_len(s + i, lx->len - i);
        if (n == 0) return tql_error(lx, i, "invalid UTF-8");
        if (s[i] == 0) return tql_error(lx, i, "NUL byte in query");
        i += n;
    }
    return OTELC_OK;
}

static int compile(parser *p)
{
    TRY(check_text(&p->lx));
    TRY(advance(p));
    TRY(parse_spansets(p, &p->q->root));
    TRY(expect_end(p));
    if (p->q->needs_root) p->q->needs_parents = true;
    return vw__tql_plan_build(p->q) ? OTELC_OK : OTELC_ERR_NOMEM;
}

int vw_tql_compile(const char *q, size_t len, vw_tql **out, char *err, size_t err_size)
{
    *out = NULL;
    if (err && err_size) err[0] = '\0';
    vw_tql *tq = calloc(1, sizeof *tq);
    if (!tq) {
        if (err && err_size) snprintf(err, err_size, "out of memory");
        return OTELC_ERR_NOMEM;
    }
    parser p = {.lx = {.q = q ? q : "",
                       .len = q ? len : 0,
                       .arena = &tq->arena,
                       .err = err,
                       .err_size = err_size},
                .q = tq};
    int rc = compile(&p);
    if (rc != OTELC_OK) {
        vw_tql_free(tq);
        if (rc == OTELC_ERR_NOMEM && err && err_size) snprintf(err, err_size, "out of memory");
        return rc;
    }
    *out = tq;
    return OTELC_OK;
}

void vw_tql_free(vw_tql *q)
{
    if (!q) return;
    for (size_t i = 0; i < q->regex_count; i++) pcre2_code_free(q->regex[i]);
    pcre2_match_context_free(q->match_ctx);
    free((void *)q->plan.conds);
    otelc__arena_free(&q->arena);
    free(q);
}

const vw_tql_plan *vw_tql_get_plan(const vw_tql *q)
{
    return &q->plan;
}
