/*
 * traceql_plan.c - the conditions every trace a query matches satisfies
 * (the plan of traceql.h), derived from the compiled query, and the
 * in-memory check of a plan against a trace.
 *
 * Soundness is the whole point: the store drops the traces that fail the
 * plan without evaluating them, so a condition is only emitted when the
 * query implies it. Bottom up:
 *
 *   - a comparison "name = x", "status = error", "span.k = 5",
 *     "duration > 1s"... implies a fact about the span it holds for
 *     ("rootName = x" one about the root span, "traceDuration > 1s" one
 *     about the trace); '!=', '=~', '!', booleans and floats imply nothing
 *     the plan can say;
 *   - a && b implies what either side does; a || b only what both sides
 *     do (the atoms common to both, the hull of both duration ranges);
 *   - a filter that matches implies some span with its facts (and a root
 *     span with the root facts);
 *   - {A} && {B} and every structural operator need both sides non-empty:
 *     they imply both sides' requirements; {A} || {B} implies, for each
 *     pair of requirements of A and of B, the atoms they share.
 */
#include <stdlib.h>

#include "traceql_ast.h"

/* An inclusive range of nanoseconds; lo > hi is empty. */
typedef struct range {
    bool has;
    int64_t lo, hi;
} range;

/* Atoms one span satisfies together (the span field of vw_tql_cond is unused here). */
typedef struct group {
    vw_tql_cond *atoms;
    size_t count;
    range duration;
} group;

/* What a filter condition implies of the span it holds for. */
typedef struct facts {
    group span;  /* of that span */
    group root;  /* of the trace's root span */
    range trace; /* of the trace's duration */
} facts;

/* What a spanset implies of the trace: some span per group, and the duration. */
typedef struct reqs {
    group *groups;
    size_t count;
    range trace;
} reqs;

#define MAX_GROUPS 64 /* beyond it, '||' drops requirements: weaker, still sound */

typedef struct planner {
    otelc_arena scratch;
} planner;

static void *alloc(planner *pl, size_t size)
{
    return otelc__arena_alloc(&pl->scratch, size ? size : 1, _Alignof(max_align_t));
}

/* ---- Atoms and ranges ---------------------------------------------------------------- */

static bool same_atom(const vw_tql_cond *a, const vw_tql_cond *b)
{
    return a->kind == b->kind && a->scope == b->scope && a->i == b->i && a->str_len == b->str_len &&
           (a->str_len == 0 || memcmp(a->str, b->str, a->str_len) == 0) &&
           (a->key == b->key || (a->key && b->key && strcmp(a->key, b->key) == 0));
}

static bool has_atom(const group *g, const vw_tql_cond *a)
{
    for (size_t i = 0; i < g->count; i++)
        if (same_atom(&g->atoms[i], a)) return true;
    return false;
}

static range intersect(range a, range b)
{
    if (!a.has) return b;
    if (!b.has) return a;
    return (range){true, a.lo > b.lo ? a.lo : b.lo, a.hi < b.hi ? a.hi : b.hi};
}

static range hull(range a, range b)
{
    if (!a.has || !b.has) return (range){0};
    return (range){true, a.lo < b.lo ? a.lo : b.lo, a.hi > b.hi ? a.hi : b.hi};
}

static bool group_empty(const group *g)
{
    return g->count == 0 && !g->duration.has;
}

/* a and b together (both hold on the span). */
static bool group_and(planner *pl, const group *a, const group *b, group *out)
{
    out->atoms = alloc(pl, (a->count + b->count) * sizeof *out->atoms);
    if (!out->atoms) return false;
    out->count = 0;
    for (size_t i = 0; i < a->count + b->count; i++) {
        const vw_tql_cond *atom = i < a->count ? &a->atoms[i] : &b->atoms[i - a->count];
        if (!has_atom(out, atom)) out->atoms[out->count++] = *atom;
    }
    out->duration = intersect(a->duration, b->duration);
    return true;
}

/* What holds on the span whichever of a or b does. */
static bool group_or(planner *pl, const group *a, const group *b, group *out)
{
    out->atoms = alloc(pl, a->count * sizeof *out->atoms);
    if (!out->atoms) return false;
    out->count = 0;
    for (size_t i = 0; i < a->count; i++)
        if (has_atom(b, &a->atoms[i]) && !has_atom(out, &a->atoms[i]))
            out->atoms[out->count++] = a->atoms[i];
    out->duration = hull(a->duration, b->duration);
    return true;
}

/* The values v can be for "value op v" to hold, for an integer comparison. */
static range range_of(tql_op op, int64_t v)
{
    switch (op) {
    case TQL_EQ:
        return (range){true, v, v};
    case TQL_GT:
        return v == INT64_MAX ? (range){true, 1, 0} : (range){true, v + 1, INT64_MAX};
    case TQL_GTE:
        return (range){true, v, INT64_MAX};
    case TQL_LT:
        return v == INT64_MIN ? (range){true, 1, 0} : (range){true, INT64_MIN, v - 1};
    case TQL_LTE:
        return (range){true, INT64_MIN, v};
    default:
        return (range){0};
    }
}

/* ---- What a filter condition implies ------------------------------------------------- */

static bool add_atom(planner *pl, group *g, vw_tql_cond atom)
{
    if (has_atom(g, &atom)) return true;
    vw_tql_cond *grown = alloc(pl, (g->count + 1) * sizeof *grown);
    if (!grown) return false;
    if (g->count) memcpy(grown, g->atoms, g->count * sizeof *grown);
    grown[g->count++] = atom;
    g->atoms = grown;
    return true;
}

static vw_tql_cond text_atom(vw_tql_cond_kind kind, const tql_cmp *c)
{
    return (vw_tql_cond){.kind = kind, .str = c->str, .str_len = c->str_len};
}

/* An equality on an attribute (the service name has its own condition). */
static bool attribute_facts(planner *pl, const tql_cmp *c, facts *f)
{
    if (c->type == TQL_L_STR && c->scope == VW_TQL_SCOPE_RESOURCE &&
        strcmp(c->key, "service.name") == 0)
        return add_atom(pl, &f->span, text_atom(VW_TQL_COND_SERVICE, c));
    vw_tql_cond atom = {.scope = c->scope, .key = c->key};
    if (c->type == TQL_L_STR) {
        atom.kind = VW_TQL_COND_ATTR_STR;
        atom.str = c->str;
        atom.str_len = c->str_len;
    } else if (c->type == TQL_L_INT || c->type == TQL_L_DURATION) {
        atom.kind = VW_TQL_COND_ATTR_INT;
        atom.i = c->i;
    } else {
        return true; /* floats, booleans, nil: nothing to say */
    }
    return add_atom(pl, &f->span, atom);
}

static bool comparison_facts(planner *pl, const tql_cmp *c, facts *f)
{
    bool integral = c->type == TQL_L_INT || c->type == TQL_L_DURATION;
    if (c->field == TQL_F_DURATION && integral) {
        f->span.duration = range_of(c->op, c->i);
        return true;
    }
    if (c->field == TQL_F_TRACE_DURATION && integral) {
        f->trace = range_of(c->op, c->i);
        return true;
    }
    if (c->op != TQL_EQ || c->type == TQL_L_NIL) return true;
    switch (c->field) {
    case TQL_F_NAME:
        return add_atom(pl, &f->span, text_atom(VW_TQL_COND_NAME, c));
    case TQL_F_ROOT_NAME:
        return add_atom(pl, &f->root, text_atom(VW_TQL_COND_NAME, c));
    case TQL_F_ROOT_SERVICE:
        return c->type != TQL_L_STR || add_atom(pl, &f->root, text_atom(VW_TQL_COND_SERVICE, c));
    case TQL_F_STATUS:
        return add_atom(pl, &f->span, (vw_tql_cond){.kind = VW_TQL_COND_STATUS, .i = c->i});
    case TQL_F_KIND:
        return add_atom(pl, &f->span, (vw_tql_cond){.kind = VW_TQL_COND_KIND, .i = c->i});
    case TQL_F_ATTR:
        return attribute_facts(pl, c, f);
    default:
        return true;
    }
}

static bool condition_facts(planner *pl, const tql_cond *c, facts *f)
{
    memset(f, 0, sizeof *f);
    if (!c || c->type == TQL_C_NOT || c->type == TQL_C_CONST) return true;
    if (c->type == TQL_C_CMP) return comparison_facts(pl, &c->cmp, f);
    facts a, b;
    if (!condition_facts(pl, c->lhs, &a) || !condition_facts(pl, c->rhs, &b)) return false;
    if (c->type == TQL_C_AND) {
        f->trace = intersect(a.trace, b.trace);
        return group_and(pl, &a.span, &b.span, &f->span) &&
               group_and(pl, &a.root, &b.root, &f->root);
    }
    f->trace = hull(a.trace, b.trace);
    return group_or(pl, &a.span, &b.span, &f->span) && group_or(pl, &a.root, &b.root, &f->root);
}

/* ---- What a spanset implies ---------------------------------------------------------- */

static bool filter_reqs(planner *pl, const tql_set *s, reqs *r)
{
    facts f;
    if (!condition_facts(pl, s->filter, &f)) return false;
    r->groups = alloc(pl, 2 * sizeof *r->groups);
    if (!r->groups) return false;
    if (!group_empty(&f.span)) r->groups[r->count++] = f.span;
    if (!group_empty(&f.root)) r->groups[r->count++] = f.root;
    r->trace = f.trace;
    return true;
}

/* Both a and b hold. */
static bool reqs_and(planner *pl, const reqs *a, const reqs *b, reqs *out)
{
    out->groups = alloc(pl, (a->count + b->count) * sizeof *out->groups);
    if (!out->groups) return false;
    if (a->count) memcpy(out->groups, a->groups, a->count * sizeof *out->groups);
    if (b->count) memcpy(out->groups + a->count, b->groups, b->count * sizeof *out->groups);
    out->count = a->count + b->count;
    out->trace = intersect(a->trace, b->trace);
    return true;
}

/* a or b holds: for any requirement of each, some span has what the two share. */
static bool reqs_or(planner *pl, const reqs *a, const reqs *b, reqs *out)
{
    out->groups = alloc(pl, MAX_GROUPS * sizeof *out->groups);
    if (!out->groups) return false;
    for (size_t i = 0; i < a->count; i++) {
        for (size_t j = 0; j < b->count && out->count < MAX_GROUPS; j++) {
            group g;
            if (!group_or(pl, &a->groups[i], &b->groups[j], &g)) return false;
            if (!group_empty(&g)) out->groups[out->count++] = g;
        }
    }
    out->trace = hull(a->trace, b->trace);
    return true;
}

static bool spanset_reqs(planner *pl, const tql_set *s, reqs *r)
{
    memset(r, 0, sizeof *r);
    if (s->type == TQL_S_FILTER) return filter_reqs(pl, s, r);
    reqs a, b;
    if (!spanset_reqs(pl, s->lhs, &a) || !spanset_reqs(pl, s->rhs, &b)) return false;
    /* Every operator but '||' yields spans only when both sides have some. */
    return s->type == TQL_S_OR ? reqs_or(pl, &a, &b, r) : reqs_and(pl, &a, &b, r);
}

/* ---- The plan ------------------------------------------------------------------------ */

static void set_range(range r, uint64_t *min, uint64_t *max)
{
    if (r.hi < 0 || r.lo > r.hi) { /* no duration is negative: nothing matches */
        *min = 1, *max = 0;
        return;
    }
    *min = r.lo < 0 ? 0 : (uint64_t)r.lo;
    *max = (uint64_t)r.hi;
}

/* A range every duration is in says nothing. */
static bool trivial(range r)
{
    return !r.has || (r.lo <= 0 && r.hi == INT64_MAX);
}

/* The conditions of one span number, appended at conds[*k]. */
static void write_group(const group *g, uint32_t number, vw_tql_cond *conds, size_t *k)
{
    for (size_t a = 0; a < g->count; a++) {
        conds[*k] = g->atoms[a];
        conds[(*k)++].span = number;
    }
    if (!trivial(g->duration)) {
        conds[*k] = (vw_tql_cond){.kind = VW_TQL_COND_DURATION, .span = number};
        set_range(g->duration, &conds[*k].min_ns, &conds[*k].max_ns);
        (*k)++;
    }
}

static bool write_plan(vw_tql_plan *plan, const reqs *r)
{
    size_t total = 0, k = 0;
    for (size_t i = 0; i < r->count; i++)
        total += r->groups[i].count + !trivial(r->groups[i].duration);
    vw_tql_cond *conds = calloc(total ? total : 1, sizeof *conds);
    if (!conds) return false;
    uint32_t numbers = 0;
    for (size_t i = 0; i < r->count; i++) {
        if (r->groups[i].count == 0 && trivial(r->groups[i].duration)) continue;
        write_group(&r->groups[i], numbers++, conds, &k);
    }
    plan->conds = conds;
    plan->cond_count = k;
    plan->span_count = numbers;
    plan->has_trace_duration = !trivial(r->trace);
    if (plan->has_trace_duration) set_range(r->trace, &plan->trace_min_ns, &plan->trace_max_ns);
    return true;
}

bool vw__tql_plan_build(vw_tql *q)
{
    planner pl = {0};
    reqs r;
    bool ok = spanset_reqs(&pl, q->root, &r) && write_plan(&q->plan, &r);
    otelc__arena_free(&pl.scratch);
    return ok;
}

/* ---- Checking a plan in memory ------------------------------------------------------- */

static bool text_is(const vw_tql_cond *c, const char *s, size_t len)
{
    return s && len == c->str_len && memcmp(s, c->str, len) == 0;
}

static bool array_holds(const vw_tql_cond *c, const otelc_value *v)
{
    for (size_t k = 0; k < v->u.array.count; k++) {
        const void *items = v->u.array.items;
        if (v->type == OTELC_VALUE_STRING_ARRAY && c->kind == VW_TQL_COND_ATTR_STR) {
            const char *s = ((const char *const *)items)[k];
            if (text_is(c, s, s ? strlen(s) : 0)) return true;
        }
        if (v->type == OTELC_VALUE_INT_ARRAY && c->kind == VW_TQL_COND_ATTR_INT &&
            ((const int64_t *)items)[k] == c->i)
            return true;
        if (v->type == OTELC_VALUE_DOUBLE_ARRAY && c->kind == VW_TQL_COND_ATTR_INT &&
            ((const double *)items)[k] == (double)c->i)
            return true;
    }
    return false;
}

static bool value_holds(const vw_tql_cond *c, const otelc_value *v)
{
    if (!v) return false;
    switch (v->type) {
    case OTELC_VALUE_STRING:
        return c->kind == VW_TQL_COND_ATTR_STR && text_is(c, v->u.str.ptr, v->u.str.len);
    case OTELC_VALUE_INT:
        return c->kind == VW_TQL_COND_ATTR_INT && v->u.i == c->i;
    case OTELC_VALUE_DOUBLE:
        return c->kind == VW_TQL_COND_ATTR_INT && v->u.d == (double)c->i;
    case OTELC_VALUE_STRING_ARRAY:
    case OTELC_VALUE_INT_ARRAY:
    case OTELC_VALUE_DOUBLE_ARRAY:
        return array_holds(c, v);
    default:
        return false;
    }
}

static bool cond_holds(const vw_tql_cond *c, const otelc_span_data *sd)
{
    const otelc_value *v;
    switch (c->kind) {
    case VW_TQL_COND_NAME:
        return text_is(c, sd->name, sd->name ? strlen(sd->name) : 0);
    case VW_TQL_COND_SERVICE:
        v = otelc_resource_get(sd->resource, "service.name");
        return v && v->type == OTELC_VALUE_STRING && text_is(c, v->u.str.ptr, v->u.str.len);
    case VW_TQL_COND_STATUS:
        return (int64_t)sd->status == c->i;
    case VW_TQL_COND_KIND:
        return (int64_t)sd->kind == c->i;
    case VW_TQL_COND_DURATION: {
        uint64_t d = sd->end_ns >= sd->start_ns ? sd->end_ns - sd->start_ns : 0;
        return d >= c->min_ns && d <= c->max_ns;
    }
    default: /* ATTR_STR, ATTR_INT */
        if (c->scope != VW_TQL_SCOPE_RESOURCE &&
            value_holds(c, otelc_attrs_find(sd->attrs, sd->attr_count, c->key)))
            return true;
        return c->scope != VW_TQL_SCOPE_SPAN &&
               value_holds(c, otelc_resource_get(sd->resource, c->key));
    }
}

static bool span_number_holds(const vw_tql_plan *plan, uint32_t number,
                              const otelc_span_data *const *spans, size_t n)
{
    for (size_t s = 0; s < n; s++) {
        bool all = true;
        for (size_t c = 0; c < plan->cond_count && all; c++)
            if (plan->conds[c].span == number) all = cond_holds(&plan->conds[c], spans[s]);
        if (all) return true;
    }
    return false;
}

bool vw_tql_plan_holds(const vw_tql_plan *plan, const otelc_span_data *const *spans, size_t n)
{
    if (plan->has_trace_duration) {
        uint64_t start = UINT64_MAX, end = 0;
        for (size_t i = 0; i < n; i++) {
            if (spans[i]->start_ns < start) start = spans[i]->start_ns;
            if (spans[i]->end_ns > end) end = spans[i]->end_ns;
        }
        uint64_t d = end > start ? end - start : 0;
        if (d < plan->trace_min_ns || d > plan->trace_max_ns) return false;
    }
    for (uint32_t g = 0; g < plan->span_count; g++)
        if (!span_number_holds(plan, g, spans, n)) return false;
    return true;
}
