/*
 * traceql_eval.c - run a compiled query on one trace.
 *
 * Each spanset node yields one byte per span (in the spanset or not). A
 * node's left side is evaluated into the node's own buffer and its right
 * side into the next one, so a query needs as many buffers as its deepest
 * chain of right operands (tql_set.slots), not one per node. Structural
 * operators use the parent of each span, found once per trace by sorting
 * span ids (parent cycles are cut); every walk up the tree is memoised or
 * stops at a span already seen, so the work stays linear in the spans.
 *
 * Comparisons follow Tempo: a field whose value is missing, or of a type
 * the value cannot be compared with, makes every comparison false, '!='
 * and '!~' too; only "= nil" holds for it. Numbers compare across int,
 * float and duration (nanoseconds); strings compare bytewise; an array
 * attribute matches =, =~, <, ... when one of its elements does, and !=,
 * !~ when none does.
 */
#include <stdlib.h>

#include "traceql_ast.h"

#define NONE SIZE_MAX

typedef struct trace_ctx {
    const vw_tql *q;
    const otelc_span_data *const *spans;
    size_t n;
    size_t *parent; /* index of each span's parent, NONE when it is not in the trace */
    size_t *work;   /* n entries of scratch for the structural operators */
    uint8_t *mark;  /* n more */
    size_t root;
    uint64_t trace_ns;
    pcre2_match_data *md;
} trace_ctx;

/* ---- Comparing one value ------------------------------------------------------------- */

static bool apply_order(tql_op op, int order)
{
    switch (op) {
    case TQL_EQ:
        return order == 0;
    case TQL_NEQ:
        return order != 0;
    case TQL_LT:
        return order < 0;
    case TQL_LTE:
        return order <= 0;
    case TQL_GT:
        return order > 0;
    case TQL_GTE:
        return order >= 0;
    default:
        return false;
    }
}

static bool compare_int(tql_op op, int64_t a, int64_t b)
{
    return apply_order(op, (a > b) - (a < b));
}

/* Doubles as C compares them: NaN is unequal to everything (so "!=" holds). */
static bool compare_double(tql_op op, double a, double b)
{
    switch (op) {
    case TQL_EQ:
        return a == b;
    case TQL_NEQ:
        return a != b;
    case TQL_LT:
        return a < b;
    case TQL_LTE:
        return a <= b;
    case TQL_GT:
        return a > b;
    case TQL_GTE:
        return a >= b;
    default:
        return false;
    }
}

static bool is_numeric(tql_lit l)
{
    return l == TQL_L_INT || l == TQL_L_FLOAT || l == TQL_L_DURATION;
}

static bool compare_number(const tql_cmp *c, bool is_int, int64_t i, double d)
{
    if (is_int && c->type != TQL_L_FLOAT) return compare_int(c->op, i, c->i);
    double rhs = c->type == TQL_L_FLOAT ? c->d : (double)c->i;
    return compare_double(c->op, is_int ? (double)i : d, rhs);
}

static bool compare_string(const trace_ctx *t, const tql_cmp *c, const char *s, size_t len)
{
    if (c->op == TQL_RE || c->op == TQL_NRE)
        return vw__tql_regex_full_match(c->re, t->q->match_ctx, t->md, s, len) == (c->op == TQL_RE);
    size_t common = len < c->str_len ? len : c->str_len;
    int order = common ? memcmp(s, c->str, common) : 0;
    if (order == 0) order = (len > c->str_len) - (len < c->str_len);
    return apply_order(c->op, order);
}

/* What an array element is compared as. */
typedef enum elem_kind { ELEM_STRING, ELEM_NUMBER, ELEM_BOOL } elem_kind;

static bool comparable(elem_kind k, tql_lit l)
{
    return (k == ELEM_STRING && l == TQL_L_STR) || (k == ELEM_NUMBER && is_numeric(l)) ||
           (k == ELEM_BOOL && l == TQL_L_BOOL);
}

static bool compare_element(const trace_ctx *t, const tql_cmp *c, const otelc_value *v, size_t k)
{
    switch (v->type) {
    case OTELC_VALUE_STRING_ARRAY: {
        const char *s = ((const char *const *)v->u.array.items)[k];
        return compare_string(t, c, s, s ? strlen(s) : 0);
    }
    case OTELC_VALUE_INT_ARRAY:
        return compare_number(c, true, ((const int64_t *)v->u.array.items)[k], 0);
    case OTELC_VALUE_DOUBLE_ARRAY:
        return compare_number(c, false, 0, ((const double *)v->u.array.items)[k]);
    default: /* OTELC_VALUE_BOOL_ARRAY */
        return compare_int(c->op, ((const bool *)v->u.array.items)[k], c->i);
    }
}

/* =, =~, <...: one element matches; != and !~: no element matches = or =~. */
static bool compare_array(const trace_ctx *t, const tql_cmp *c, const otelc_value *v, elem_kind k)
{
    if (!comparable(k, c->type)) return false;
    bool negated = c->op == TQL_NEQ || c->op == TQL_NRE;
    tql_cmp positive = *c;
    if (negated) positive.op = c->op == TQL_NEQ ? TQL_EQ : TQL_RE;
    for (size_t i = 0; i < v->u.array.count; i++)
        if (compare_element(t, &positive, v, i)) return !negated;
    return negated;
}

static bool compare_value(const trace_ctx *t, const tql_cmp *c, const otelc_value *v)
{
    if (c->type == TQL_L_NIL) {
        bool absent = !v || v->type == OTELC_VALUE_EMPTY;
        return c->op == TQL_EQ ? absent : !absent;
    }
    if (!v) return false;
    switch (v->type) {
    case OTELC_VALUE_STRING:
        return c->type == TQL_L_STR && compare_string(t, c, v->u.str.ptr, v->u.str.len);
    case OTELC_VALUE_BOOL:
        return c->type == TQL_L_BOOL && compare_int(c->op, v->u.b, c->i);
    case OTELC_VALUE_INT:
        return is_numeric(c->type) && compare_number(c, true, v->u.i, 0);
    case OTELC_VALUE_DOUBLE:
        return is_numeric(c->type) && compare_number(c, false, 0, v->u.d);
    case OTELC_VALUE_STRING_ARRAY:
        return compare_array(t, c, v, ELEM_STRING);
    case OTELC_VALUE_INT_ARRAY:
    case OTELC_VALUE_DOUBLE_ARRAY:
        return compare_array(t, c, v, ELEM_NUMBER);
    case OTELC_VALUE_BOOL_ARRAY:
        return compare_array(t, c, v, ELEM_BOOL);
    default: /* bytes, arrays of any values, maps, empty: nothing compares with them */
        return false;
    }
}

/* ---- Fields of a span ---------------------------------------------------------------- */

static const otelc_value *attribute(const otelc_span_data *sd, const tql_cmp *c)
{
    const otelc_value *v = NULL;
    if (c->scope != VW_TQL_SCOPE_RESOURCE) v = otelc_attrs_find(sd->attrs, sd->attr_count, c->key);
    if (!v && c->scope != VW_TQL_SCOPE_SPAN) v = otelc_resource_get(sd->resource, c->key);
    return v;
}

static uint64_t span_duration(const otelc_span_data *sd)
{
    return sd->end_ns >= sd->start_ns ? sd->end_ns - sd->start_ns : 0;
}

static int64_t as_int64(uint64_t ns)
{
    return ns > INT64_MAX ? INT64_MAX : (int64_t)ns;
}

static bool compare_text(const trace_ctx *t, const tql_cmp *c, const char *s)
{
    return compare_string(t, c, s ? s : "", s ? strlen(s) : 0);
}

static bool eval_cmp(const trace_ctx *t, const tql_cmp *c, size_t i)
{
    const otelc_span_data *sd = t->spans[i];
    const otelc_span_data *root = t->root != NONE ? t->spans[t->root] : NULL;
    bool nil = c->type == TQL_L_NIL;
    switch (c->field) {
    case TQL_F_ATTR:
        return compare_value(t, c, attribute(sd, c));
    case TQL_F_ROOT_SERVICE:
        return compare_value(t, c,
                             root ? otelc_resource_get(root->resource, "service.name") : NULL);
    default:
        break;
    }
    if (nil) return c->op == TQL_NEQ; /* the other fields are never missing */
    switch (c->field) {
    case TQL_F_NAME:
        return compare_text(t, c, sd->name);
    case TQL_F_STATUS_MESSAGE:
        return compare_text(t, c, sd->status_message);
    case TQL_F_ROOT_NAME:
        return root && compare_text(t, c, root->name);
    case TQL_F_STATUS:
        return compare_int(c->op, sd->status, c->i);
    case TQL_F_KIND:
        return compare_int(c->op, sd->kind, c->i);
    case TQL_F_DURATION:
        return compare_number(c, true, as_int64(span_duration(sd)), 0);
    default: /* TQL_F_TRACE_DURATION */
        return compare_number(c, true, as_int64(t->trace_ns), 0);
    }
}

static bool eval_cond(const trace_ctx *t, const tql_cond *c, size_t i)
{
    switch (c->type) {
    case TQL_C_AND:
        return eval_cond(t, c->lhs, i) && eval_cond(t, c->rhs, i);
    case TQL_C_OR:
        return eval_cond(t, c->lhs, i) || eval_cond(t, c->rhs, i);
    case TQL_C_NOT:
        return !eval_cond(t, c->lhs, i);
    case TQL_C_CONST:
        return c->value;
    default:
        return eval_cmp(t, &c->cmp, i);
    }
}

/* ---- The shape of the trace ---------------------------------------------------------- */

typedef struct span_key {
    uint64_t id;
    size_t index;
} span_key;

static uint64_t id64(const uint8_t id[8])
{
    uint64_t v = 0;
    for (int k = 0; k < 8; k++) v = v << 8 | id[k];
    return v;
}

static int by_id(const void *a, const void *b)
{
    const span_key *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* The first span (in array order) with this id other than self, or NONE. */
static size_t find_span(const span_key *keys, size_t n, uint64_t id, size_t self)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (keys[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < n && keys[lo].id == id; lo++)
        if (keys[lo].index != self) return keys[lo].index;
    return NONE;
}

static bool find_parents(trace_ctx *t)
{
    span_key *keys = malloc(t->n * sizeof *keys);
    if (!keys) return false;
    for (size_t i = 0; i < t->n; i++) keys[i] = (span_key){id64(t->spans[i]->context.span_id), i};
    qsort(keys, t->n, sizeof *keys, by_id);
    for (size_t i = 0; i < t->n; i++) {
        const otelc_span_data *sd = t->spans[i];
        t->parent[i] = sd->has_parent ? find_span(keys, t->n, id64(sd->parent_span_id), i) : NONE;
    }
    free(keys);
    return true;
}

/* The span of a cycle to cut it at: the earliest-starting one (then the first). */
static size_t cut_point(const trace_ctx *t, const size_t *cycle, size_t len)
{
    size_t best = cycle[0];
    for (size_t k = 1; k < len; k++) {
        const otelc_span_data *a = t->spans[cycle[k]], *b = t->spans[best];
        if (a->start_ns < b->start_ns || (a->start_ns == b->start_ns && cycle[k] < best))
            best = cycle[k];
    }
    return best;
}

/*
 * Parent links that go round in a circle (bad data, but possible) are cut
 * at the circle's earliest-starting span, which then has no parent in the
 * trace: every walk up the tree ends. Each span is visited once.
 */
static void break_cycles(trace_ctx *t)
{
    enum { UNSEEN, ON_PATH, DONE };
    uint8_t *state = t->mark;
    size_t *path = t->work;
    memset(state, UNSEEN, t->n);
    for (size_t i = 0; i < t->n; i++) {
        size_t depth = 0, j = i;
        while (j != NONE && state[j] == UNSEEN) {
            state[j] = ON_PATH;
            path[depth++] = j;
            j = t->parent[j];
        }
        if (j != NONE && state[j] == ON_PATH) { /* the path from j on is a cycle */
            size_t from = depth;
            while (path[from - 1] != j) from--;
            t->parent[cut_point(t, path + from - 1, depth - from + 1)] = NONE;
        }
        while (depth) state[path[--depth]] = DONE;
    }
}

/* See vw_tql_match() in traceql.h for the rule (cycles are cut by now). */
static size_t find_root(const trace_ctx *t)
{
    size_t only = NONE, without = 0, best = NONE;
    for (size_t i = 0; i < t->n; i++) {
        uint64_t start = t->spans[i]->start_ns;
        if (!t->spans[i]->has_parent) without++, only = i;
        if (t->parent[i] == NONE && (best == NONE || start < t->spans[best]->start_ns)) best = i;
    }
    return without == 1 ? only : best;
}

static uint64_t trace_duration(const trace_ctx *t)
{
    uint64_t start = UINT64_MAX, end = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->spans[i]->start_ns < start) start = t->spans[i]->start_ns;
        if (t->spans[i]->end_ns > end) end = t->spans[i]->end_ns;
    }
    return end > start ? end - start : 0;
}

/* ---- Spanset operators --------------------------------------------------------------- */

static bool any(const uint8_t *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (set[i]) return true;
    return false;
}

/* mark[i] = 1 when span i has an ancestor in lhs: each walk up stops at a span resolved before. */
static void mark_with_ancestor_in(trace_ctx *t, const uint8_t *lhs)
{
    enum { UNKNOWN, NO, YES };
    uint8_t *state = t->mark;
    size_t *path = t->work;
    memset(state, UNKNOWN, t->n);
    for (size_t i = 0; i < t->n; i++) {
        size_t depth = 0, j = i;
        for (; j != NONE && state[j] == UNKNOWN; j = t->parent[j]) path[depth++] = j;
        bool above = j != NONE && (lhs[j] || state[j] == YES);
        while (depth--) {
            size_t k = path[depth];
            state[k] = above ? YES : NO;
            above = above || lhs[k];
        }
    }
    for (size_t i = 0; i < t->n; i++) state[i] = state[i] == YES;
}

/* mark[i] = 1 when span i has a descendant in lhs: each span is marked once. */
static void mark_with_descendant_in(trace_ctx *t, const uint8_t *lhs)
{
    memset(t->mark, 0, t->n);
    for (size_t i = 0; i < t->n; i++) {
        if (!lhs[i]) continue;
        for (size_t j = t->parent[i]; j != NONE && !t->mark[j]; j = t->parent[j]) t->mark[j] = 1;
    }
}

/* mark[i] = 1 when span i has a sibling (another child of its parent) in lhs. */
static void mark_with_sibling_in(trace_ctx *t, const uint8_t *lhs)
{
    size_t *in_lhs = t->work; /* per parent: its children in lhs */
    memset(in_lhs, 0, t->n * sizeof *in_lhs);
    for (size_t i = 0; i < t->n; i++)
        if (lhs[i] && t->parent[i] != NONE) in_lhs[t->parent[i]]++;
    for (size_t i = 0; i < t->n; i++)
        t->mark[i] = t->parent[i] != NONE && in_lhs[t->parent[i]] > (lhs[i] ? 1u : 0u);
}

static void combine(trace_ctx *t, tql_set_type type, uint8_t *out, const uint8_t *rhs)
{
    size_t n = t->n;
    const uint8_t *lhs = out;
    switch (type) {
    case TQL_S_AND: /* both sides non-empty: the spans of both */
    case TQL_S_OR:
        if (type == TQL_S_AND && (!any(lhs, n) || !any(rhs, n))) {
            memset(out, 0, n);
            return;
        }
        for (size_t i = 0; i < n; i++) out[i] = lhs[i] | rhs[i];
        return;
    case TQL_S_CHILD:
        for (size_t i = 0; i < n; i++) t->mark[i] = t->parent[i] != NONE && lhs[t->parent[i]];
        break;
    case TQL_S_DESC:
        mark_with_ancestor_in(t, lhs);
        break;
    case TQL_S_PARENT:
        memset(t->mark, 0, n);
        for (size_t i = 0; i < n; i++)
            if (lhs[i] && t->parent[i] != NONE) t->mark[t->parent[i]] = 1;
        break;
    case TQL_S_ANCE:
        mark_with_descendant_in(t, lhs);
        break;
    default: /* TQL_S_SIBL */
        mark_with_sibling_in(t, lhs);
        break;
    }
    /* Structural operators keep the right side's spans that stand in the relation. */
    for (size_t i = 0; i < n; i++) out[i] = rhs[i] && t->mark[i];
}

/* Evaluate s into buffer number slot (and the ones after it, as scratch). */
static void eval_set(trace_ctx *t, uint8_t *buffers, const tql_set *s, unsigned slot)
{
    uint8_t *out = buffers + (size_t)slot * t->n;
    if (s->type == TQL_S_FILTER) {
        for (size_t i = 0; i < t->n; i++) out[i] = !s->filter || eval_cond(t, s->filter, i);
        return;
    }
    eval_set(t, buffers, s->lhs, slot);
    eval_set(t, buffers, s->rhs, slot + 1);
    combine(t, s->type, out, out + t->n);
}

/* ---- The API ------------------------------------------------------------------------- */

static bool prepare(trace_ctx *t)
{
    const vw_tql *q = t->q;
    if (q->needs_parents) {
        if (t->n > SIZE_MAX / (2 * sizeof(size_t) + 1)) return false;
        t->parent = malloc(t->n * sizeof *t->parent);
        t->work = malloc(t->n * sizeof *t->work);
        t->mark = malloc(t->n);
        if (!t->parent || !t->work || !t->mark || !find_parents(t)) return false;
        break_cycles(t);
    }
    t->root = q->needs_root ? find_root(t) : NONE;
    if (q->needs_trace_duration) t->trace_ns = trace_duration(t);
    if (q->regex_count) {
        t->md = pcre2_match_data_create(1, NULL);
        if (!t->md) return false;
    }
    return true;
}

bool vw_tql_match(const vw_tql *q, const otelc_span_data *const *spans, size_t n, bool *matched)
{
    trace_ctx t = {.q = q, .spans = spans, .n = n, .root = NONE};
    uint8_t *buffers = NULL;
    bool found = false;
    if (matched) memset(matched, 0, n * sizeof *matched);
    if (n == 0 || n > SIZE_MAX / q->root->slots) return false;
    buffers = malloc(n * q->root->slots);
    if (buffers && prepare(&t)) {
        eval_set(&t, buffers, q->root, 0);
        for (size_t i = 0; i < n; i++) {
            if (matched) matched[i] = buffers[i];
            found = found || buffers[i];
        }
    }
    free(buffers);
    free(t.parent);
    free(t.work);
    free(t.mark);
    pcre2_match_data_free(t.md);
    return found;
}
