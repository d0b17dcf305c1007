/*
 * context.c - span-context helpers, context objects and the per-thread
 * current-context stack.
 *
 * The current context is a small per-thread stack. Activating a span pushes
 * the span itself (no allocation: starting a child only needs to read the
 * top); attaching a context pushes the context. A scope token records the
 * depth and a generation number, so exiting a stale or out-of-order scope is
 * detected instead of silently corrupting the stack.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- Span contexts ------------------------------------------------------- */

bool otelc_span_context_is_valid(const otelc_span_context *sc)
{
    return sc && !otelc__is_zero(sc->trace_id, 16) && !otelc__is_zero(sc->span_id, 8);
}

bool otelc_span_context_is_sampled(const otelc_span_context *sc)
{
    return sc && (sc->trace_flags & OTELC_TRACE_FLAG_SAMPLED);
}

char *otelc_trace_id_hex(const otelc_span_context *sc, char out[33])
{
    static const uint8_t zero[16];
    otelc__hex_encode(sc ? sc->trace_id : zero, 16, out);
    out[32] = '\0';
    return out;
}

char *otelc_span_id_hex(const otelc_span_context *sc, char out[17])
{
    static const uint8_t zero[8];
    otelc__hex_encode(sc ? sc->span_id : zero, 8, out);
    out[16] = '\0';
    return out;
}

/* ---- Context objects --------------------------------------------------------- */

/*
 * The context that holds nothing: shared and never freed, so that a request
 * without propagation headers (and every "empty" context) costs no malloc.
 * Contexts are immutable, which is what makes sharing it safe.
 */
otelc_context otelc__empty_context;

static bool is_empty(const otelc_span_context *sc, const char *trace_state, const otelc_baggage *bg)
{
    return (!sc || (otelc__is_zero(sc->trace_id, 16) && otelc__is_zero(sc->span_id, 8) &&
                    !sc->trace_flags && !sc->is_remote)) &&
           (!trace_state || !*trace_state) && !bg;
}

/* The context and a copy of its tracestate in one allocation: one malloc per incoming parent. */
static otelc_context *context_make(const otelc_span_context *sc, const char *trace_state,
                                   const otelc_baggage *bg)
{
    if (is_empty(sc, trace_state, bg)) return &otelc__empty_context;
    size_t ts_len = trace_state ? strlen(trace_state) : 0;
    /* malloc, not calloc: glibc's calloc skips the per-thread cache. */
    otelc_context *ctx = malloc(sizeof(*ctx) + (ts_len ? ts_len + 1 : 0));
    if (!ctx) return NULL;
    atomic_init(&ctx->refs, 1);
    ctx->sc = sc ? *sc : (otelc_span_context){{0}, {0}, 0, false, NULL};
    ctx->sc.trace_state = NULL;
    ctx->trace_state = NULL;
    if (ts_len) {
        ctx->trace_state = memcpy(ctx + 1, trace_state, ts_len + 1);
        ctx->sc.trace_state = ctx->trace_state;
    }
    ctx->baggage = otelc_baggage_retain(bg);
    return ctx;
}

otelc_context *otelc_context_new(const otelc_span_context *sc, const otelc_baggage *bg)
{
    return context_make(sc, sc ? sc->trace_state : NULL, bg);
}

otelc_span_context otelc_context_span_context(const otelc_context *ctx)
{
    if (!ctx) return (otelc_span_context){{0}, {0}, 0, false, NULL};
    return ctx->sc;
}

const otelc_baggage *otelc_context_baggage(const otelc_context *ctx)
{
    return ctx ? ctx->baggage : NULL;
}

otelc_context *otelc_context_with_baggage(const otelc_context *ctx, const otelc_baggage *bg)
{
    return context_make(ctx ? &ctx->sc : NULL, ctx ? ctx->trace_state : NULL, bg);
}

otelc_context *otelc_context_with_span_context(const otelc_context *ctx,
                                               const otelc_span_context *sc)
{
    return context_make(sc, sc ? sc->trace_state : NULL, ctx ? ctx->baggage : NULL);
}

otelc_context *otelc_context_retain(const otelc_context *ctx)
{
    otelc_context *c = (otelc_context *)(uintptr_t)ctx;
    if (c && c != &otelc__empty_context)
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void otelc_context_release(const otelc_context *ctx)
{
    otelc_context *c = (otelc_context *)(uintptr_t)ctx;
    if (!c || c == &otelc__empty_context ||
        atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
        return;
    otelc_baggage_release(c->baggage);
    free(c); /* trace_state too: it follows the context */
}

/* ---- The per-thread stack -------------------------------------------------------- */

#define INLINE_DEPTH 32

/*
 * The stack's first entries, 768 bytes, are ordinary TLS, reached only
 * when the stack is set up or grows: that much initial-exec TLS could keep
 * a program from dlopen()ing libotelc.
 */
OTELC_HOT_TLS struct otelc_ctx_stack otelc__ctx_stack;
static __thread otelc_ctx_entry inline_entries[INLINE_DEPTH];
static pthread_key_t stack_key;
static pthread_once_t stack_key_once = PTHREAD_ONCE_INIT;

/* What a popped entry held; out of line, so that popping a borrowed one calls nothing. */
static __attribute__((noinline)) void refs_release(struct otelc_span *span, otelc_context *ctx)
{
    otelc__span_release(span);
    otelc_context_release(ctx);
}

static void entry_release(const otelc_ctx_entry *e)
{
    if (e->borrowed) return;
    refs_release(e->span, e->ctx);
}

/* Thread exit: whatever is still current is released, and a grown stack freed. */
static void stack_destroy(void *arg)
{
    struct otelc_ctx_stack *st = arg;
    while (st->depth > 0) entry_release(&st->entries[--st->depth]);
    if (st->entries != inline_entries) free(st->entries);
    st->entries = NULL;
    st->cap = 0;
}

static void stack_key_create(void)
{
    pthread_key_create(&stack_key, stack_destroy);
}

/* The thread's first push, or a stack deeper than it has room for: out of the push's line. */
static __attribute__((noinline)) bool stack_grow(void)
{
    if (otelc__ctx_stack.entries == NULL) {
        pthread_once(&stack_key_once, stack_key_create);
        pthread_setspecific(stack_key, &otelc__ctx_stack);
        otelc__ctx_stack.entries = inline_entries;
        otelc__ctx_stack.cap = INLINE_DEPTH;
    }
    if (otelc__ctx_stack.depth < otelc__ctx_stack.cap) return true;
    uint32_t cap = otelc__ctx_stack.cap * 2;
    otelc_ctx_entry *grown = malloc(cap * sizeof(*grown));
    if (!grown) return false;
    memcpy(grown, otelc__ctx_stack.entries, otelc__ctx_stack.depth * sizeof(*grown));
    if (otelc__ctx_stack.entries != inline_entries) free(otelc__ctx_stack.entries);
    otelc__ctx_stack.entries = grown;
    otelc__ctx_stack.cap = cap;
    return true;
}

/* stack_push() when the stack must grow first: out of line, so the usual push calls nothing. */
static __attribute__((noinline)) otelc_scope push_grown(struct otelc_span *span, otelc_context *ctx,
                                                        bool borrowed)
{
    if (stack_grow()) return otelc__ctx_push(span, ctx, borrowed);
    otelc__log(OTELC_LOG_ERROR, "out of memory growing the current-context stack");
    if (!borrowed) refs_release(span, ctx);
    return (otelc_scope){0, 0};
}

static inline otelc_scope stack_push(struct otelc_span *span, otelc_context *ctx, bool borrowed)
{
    /* cap is 0 before the thread's first push. */
    if (OTELC_LIKELY(otelc__ctx_stack.depth < otelc__ctx_stack.cap))
        return otelc__ctx_push(span, ctx, borrowed);
    return push_grown(span, ctx, borrowed);
}

otelc_scope otelc_span_activate(otelc_span *span)
{
    if (!span) return (otelc_scope){0, 0};
    otelc__span_retain(span);
    return stack_push(span, NULL, false);
}

otelc_scope otelc_context_attach(const otelc_context *ctx)
{
    otelc_context *c = otelc_context_retain(ctx);
    if (!c) c = otelc__context_empty(); /* attaching "nothing" hides what was current */
    if (!c) return (otelc_scope){0, 0};
    return stack_push(NULL, c, false);
}

/*
 * One entry for both: readers take the span from the top entry and baggage
 * from the nearest entry with a context, so this reads exactly as attaching
 * ctx and then activating span, at half the pushes and pops and without
 * touching either's reference count.
 */
otelc_scope otelc__activate_in(otelc_span *span, const otelc_context *ctx)
{
    /* No context: the shared empty one, never freed. */
    otelc_context *c = ctx ? (otelc_context *)(uintptr_t)ctx : &otelc__empty_context;
    return stack_push(span, c, true);
}

/* A scope that is not the top one: stale, foreign, or exited out of order. */
static __attribute__((noinline)) void scope_exit_other(otelc_scope scope)
{
    if (scope.depth > otelc__ctx_stack.depth ||
        otelc__ctx_stack.entries[scope.depth - 1].generation != scope.generation) {
        otelc__log(OTELC_LOG_WARN, "scope exited twice or on another thread; ignored");
        return;
    }
    if (scope.depth != otelc__ctx_stack.depth)
        otelc__log(OTELC_LOG_WARN, "scopes exited out of order; unwinding %u inner scope(s)",
                   (unsigned)(otelc__ctx_stack.depth - scope.depth));
    while (otelc__ctx_stack.depth >= scope.depth)
        entry_release(&otelc__ctx_stack.entries[--otelc__ctx_stack.depth]);
}

void otelc_scope_exit(otelc_scope scope)
{
    if (scope.depth == 0) return;
    if (OTELC_LIKELY(otelc__ctx_is_top(scope))) {
        /* The usual case: the top one. Its slot stays intact until the next push. */
        entry_release(&otelc__ctx_stack.entries[--otelc__ctx_stack.depth]);
        return;
    }
    scope_exit_other(scope);
}

static const otelc_ctx_entry *stack_top(void)
{
    return otelc__ctx_stack.depth ? &otelc__ctx_stack.entries[otelc__ctx_stack.depth - 1] : NULL;
}

bool otelc__current_span_context(otelc_span_context *sc)
{
    const otelc_ctx_entry *top = stack_top();
    if (!top) return false;
    *sc = top->span ? otelc_span_get_context(top->span) : top->ctx->sc;
    return true;
}

otelc_span *otelc_span_current(void)
{
    const otelc_ctx_entry *top = stack_top();
    return top ? top->span : NULL;
}

const otelc_baggage *otelc_baggage_current(void)
{
    /* Spans do not carry baggage: the nearest attached context decides. */
    for (uint32_t i = otelc__ctx_stack.depth; i > 0; i--)
        if (otelc__ctx_stack.entries[i - 1].ctx)
            return otelc__ctx_stack.entries[i - 1].ctx->baggage;
    return NULL;
}

otelc_context *otelc_context_current(void)
{
    otelc_span_context sc;
    if (!otelc__current_span_context(&sc)) memset(&sc, 0, sizeof(sc));
    return otelc_context_new(&sc, otelc_baggage_current());
}
