/*
 * traceql_lex.h - the tokens of a TraceQL query (traceql_lex.c), for the
 * parser (traceql_parse.c), and the one way both report an error.
 */
#ifndef OTELC_VIEWER_TRACEQL_LEX_H
#define OTELC_VIEWER_TRACEQL_LEX_H

#include "traceql_ast.h"

typedef enum tql_tok {
    TQL_T_EOF,
    TQL_T_LBRACE,
    TQL_T_RBRACE,
    TQL_T_LPAREN,
    TQL_T_RPAREN,
    TQL_T_AND,   /* && */
    TQL_T_OR,    /* || */
    TQL_T_NOT,   /* !  */
    TQL_T_MINUS, /* -  (before a number or a duration) */
    TQL_T_EQ,
    TQL_T_NEQ,
    TQL_T_LT, /* also the parent operator */
    TQL_T_LTE,
    TQL_T_GT, /* also the child operator */
    TQL_T_GTE,
    TQL_T_RE,
    TQL_T_NRE,     /* !~: also Tempo's not-sibling operator */
    TQL_T_DESC,    /* >> */
    TQL_T_ANCE,    /* << */
    TQL_T_SIBL,    /* ~  */
    TQL_T_PIPE,    /* |  (pipelines: not supported) */
    TQL_T_UNSUP,   /* an operator of Tempo's this subset lacks: !> &>> + * ... */
    TQL_T_LITERAL, /* a value: lit and its fields */
    TQL_T_FIELD,   /* an intrinsic or an attribute: field, scope, text */
    TQL_T_WORD,    /* any other identifier (text is its source) */
} tql_tok;

typedef struct tql_token {
    tql_tok type;
    size_t pos, end; /* its bytes in the query */
    tql_lit lit;     /* TQL_T_LITERAL */
    tql_field field; /* TQL_T_FIELD */
    vw_tql_scope scope;
    const char *text; /* STR literal, attribute name: decoded, NUL-terminated (arena) */
    size_t text_len;
    uint64_t u; /* INT: magnitude (up to 2^63, the parser applies a sign); DURATION: ns */
    bool neg;   /* INT: negative (minInt) */
    double d;   /* FLOAT */
    bool b;     /* BOOL */
} tql_token;

typedef struct tql_lexer {
    const char *q;
    size_t len;
    size_t pos;
    otelc_arena *arena;
    char *err;
    size_t err_size;
} tql_lexer;

/*
 * The next token into *t. OTELC_OK, or OTELC_ERR_PARSE with the message
 * written by tql_error(), or OTELC_ERR_NOMEM.
 */
int tql_lex_next(tql_lexer *lx, tql_token *t);

/*
 * Write "LINE:COLUMN: message" for the byte at pos into lx->err; returns
 * OTELC_ERR_PARSE.
 */
int tql_error(const tql_lexer *lx, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "'}'", "'span.foo'", "end of query": how an error names a token (into buf). */
const char *tql_tok_describe(const tql_lexer *lx, const tql_token *t, char *buf, size_t size);

#endif
