/*
 * stats.c - self-telemetry counters.
 *
 * Counters are bumped on every span start and end from any thread, so they
 * must cost next to nothing. Each of the first OTELC_STAT_OWNED_SHARDS
 * threads of the process owns a cache-line-sized shard of every counter
 * block and is its only writer: a relaxed load and store, no locked
 * instruction. Threads beyond that share the last shard with atomic adds.
 * Readers sum the shards with relaxed loads.
 */
#include <string.h>

#include "internal.h"

static _Atomic uint32_t next_thread_number;
OTELC_HOT_TLS uint32_t otelc__stats_shard = UINT32_MAX;

static uint32_t shard_index(void)
{
    if (OTELC_UNLIKELY(otelc__stats_shard == UINT32_MAX)) {
        uint32_t n = atomic_fetch_add_explicit(&next_thread_number, 1, memory_order_relaxed);
        otelc__stats_shard = n < OTELC_STAT_OWNED_SHARDS ? n : OTELC_STAT_OWNED_SHARDS;
    }
    return otelc__stats_shard;
}

void otelc__stats_add(otelc_stats_block *b, enum otelc_stat which, uint64_t n)
{
    if (!b) return;
    uint32_t i = shard_index();
    _Atomic uint64_t *v = &b->shard[i].v[which];
    if (OTELC_LIKELY(i < OTELC_STAT_OWNED_SHARDS))
        atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + n,
                              memory_order_relaxed);
    else
        atomic_fetch_add_explicit(v, n, memory_order_relaxed);
}

static uint64_t stat_sum(const otelc_stats_block *b, enum otelc_stat which)
{
    uint64_t sum = 0;
    for (int i = 0; i < OTELC_STAT_SHARDS; i++)
        sum += atomic_load_explicit(&b->shard[i].v[which], memory_order_relaxed);
    return sum;
}

void otelc__stats_read(const otelc_stats_block *b, otelc_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!b) return;
    out->spans_started = stat_sum(b, OTELC_STAT_STARTED);
    out->spans_ended = stat_sum(b, OTELC_STAT_ENDED);
    out->spans_sampled_out = stat_sum(b, OTELC_STAT_SAMPLED_OUT);
    out->spans_dropped = stat_sum(b, OTELC_STAT_DROPPED);
    out->spans_exported = stat_sum(b, OTELC_STAT_EXPORTED);
    out->spans_export_failed = stat_sum(b, OTELC_STAT_EXPORT_FAILED_SPANS);
    out->export_failures = stat_sum(b, OTELC_STAT_EXPORT_FAILURES);
    out->propagation_errors = stat_sum(b, OTELC_STAT_PROPAGATION_ERRORS);
}

void otelc__stats_global_add(enum otelc_stat which, uint64_t n)
{
    otelc_provider *p = otelc_provider_global();
    if (p) otelc__stats_add(&p->stats, which, n);
}

void otelc_provider_stats(const otelc_provider *p, otelc_stats *out)
{
    otelc__stats_read(p ? &p->stats : NULL, out);
}

void otelc_stats_get(otelc_stats *out)
{
    otelc_provider_stats(otelc_provider_global(), out);
}

void otelc__count_export(otelc_stats_block *stats, otelc_export_result r, size_t spans)
{
    if (r == OTELC_EXPORT_SUCCESS) {
        otelc__stats_add(stats, OTELC_STAT_EXPORTED, spans);
    } else {
        otelc__stats_add(stats, OTELC_STAT_EXPORT_FAILED_SPANS, spans);
        otelc__stats_add(stats, OTELC_STAT_EXPORT_FAILURES, 1);
    }
}
