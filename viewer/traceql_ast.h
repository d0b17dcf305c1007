/*
 * traceql_ast.h - the compiled form of a TraceQL query, shared by the
 * parser that builds it (traceql_parse.c), the evaluator that runs it
 * (traceql_eval.c) and the planner that derives the store's plan from it
 * (traceql_plan.c). Nothing outside those three files sees it.
 *
 * A query is a tree of spanset operations whose leaves are filters; a
 * filter is a tree of boolean conditions whose leaves are comparisons of
 * one field of a span with one literal value.
 */
#ifndef OTELC_VIEWER_TRACEQL_AST_H
#define OTELC_VIEWER_TRACEQL_AST_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "internal.h"
#include "traceql.h"

/* What a comparison reads from a span. */
typedef enum tql_field {
    TQL_F_NAME,           /* name, span:name */
    TQL_F_STATUS,         /* status, span:status */
    TQL_F_STATUS_MESSAGE, /* statusMessage, span:statusMessage */
    TQL_F_KIND,           /* kind, span:kind */
    TQL_F_DURATION,       /* duration, span:duration */
    TQL_F_TRACE_DURATION, /* traceDuration, trace:duration */
    TQL_F_ROOT_NAME,      /* rootName, trace:rootName */
    TQL_F_ROOT_SERVICE,   /* rootServiceName, trace:rootService */
    TQL_F_ATTR,           /* span.x, resource.x, .x */
} tql_field;

typedef enum tql_op { TQL_EQ, TQL_NEQ, TQL_LT, TQL_LTE, TQL_GT, TQL_GTE, TQL_RE, TQL_NRE } tql_op;

typedef enum tql_lit {
    TQL_L_STR,
    TQL_L_INT,
    TQL_L_FLOAT,
    TQL_L_BOOL,
    TQL_L_DURATION, /* nanoseconds in i */
    TQL_L_STATUS,   /* otelc_status_code in i */
    TQL_L_KIND,     /* otelc_span_kind in i, 0 for unspecified */
    TQL_L_NIL,
} tql_lit;

/* field op literal (the parser turns "literal op field" around). */
typedef struct tql_cmp {
    tql_field field;
    vw_tql_scope scope; /* TQL_F_ATTR */
    const char *key;    /* TQL_F_ATTR: NUL-terminated */
    tql_op op;
    tql_lit type;
    const char *str; /* TQL_L_STR: str_len bytes, NUL-terminated (may hold NULs) */
    size_t str_len;
    int64_t i;      /* INT, DURATION, STATUS, KIND, BOOL (0 or 1) */
    double d;       /* FLOAT */
    pcre2_code *re; /* TQL_RE, TQL_NRE: the pattern, anchored at the start */
} tql_cmp;

/* A filter's boolean expression. */
typedef enum tql_cond_type { TQL_C_AND, TQL_C_OR, TQL_C_NOT, TQL_C_CMP, TQL_C_CONST } tql_cond_type;

typedef struct tql_cond {
    tql_cond_type type;
    bool value;                 /* TQL_C_CONST */
    struct tql_cond *lhs, *rhs; /* AND, OR; NOT uses lhs */
    tql_cmp cmp;                /* TQL_C_CMP */
} tql_cond;

/* Spanset operations; the structural ones keep the right side's spans. */
typedef enum tql_set_type {
    TQL_S_FILTER, /* { cond }: the spans for which cond holds */
    TQL_S_AND,    /* both sides non-empty: the spans of both */
    TQL_S_OR,     /* the spans of either side */
    TQL_S_CHILD,  /* >  rhs spans whose parent is in lhs */
    TQL_S_DESC,   /* >> rhs spans with an ancestor in lhs */
    TQL_S_PARENT, /* <  rhs spans with a child in lhs */
    TQL_S_ANCE,   /* << rhs spans with a descendant in lhs */
    TQL_S_SIBL,   /* ~  rhs spans with a sibling (same parent, not itself) in lhs */
} tql_set_type;

typedef struct tql_set {
    tql_set_type type;
    struct tql_set *lhs, *rhs;
    tql_cond *filter; /* TQL_S_FILTER; NULL for { } (every span) */
    unsigned slots;   /* span buffers its evaluation needs (see traceql_eval.c) */
} tql_set;

struct vw_tql {
    otelc_arena arena; /* every node and string of the query */
    tql_set *root;
    pcre2_code *regex[VW_TQL_MAX_CONDITIONS];
    size_t regex_count;
    pcre2_match_context *match_ctx; /* limits for every regex match; NULL without regexes */
    bool needs_parents;             /* structural operators or root intrinsics */
    bool needs_root;
    bool needs_trace_duration;
    vw_tql_plan plan;
};

/* Derive q->plan from q->root (traceql_plan.c); false when out of memory. */
bool vw__tql_plan_build(vw_tql *q);

/*
 * Compile a pattern of RE2 syntax (traceql_regex.c) into *out, to release
 * with pcre2_code_free(). OTELC_OK; OTELC_ERR_PARSE with the reason in msg
 * (beyond RE2, or invalid); OTELC_ERR_NOMEM.
 */
int vw__tql_regex_compile(const char *pattern, size_t len, pcre2_code **out, char *msg,
                          size_t msg_size);

/* The limits every match runs under (to free with pcre2_match_context_free()); NULL: no memory. */
pcre2_match_context *vw__tql_regex_limits(void);

/* Whether s[0..len) matches re in full; md holds one match (pcre2_match_data_create(1, NULL)). */
bool vw__tql_regex_full_match(const pcre2_code *re, pcre2_match_context *limits,
                              pcre2_match_data *md, const char *s, size_t len);

#endif
