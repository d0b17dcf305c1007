/*
 * db_spans.h - shared by the database instrumentation tests: a global
 * provider exporting into memory, and a scan of everything exported for
 * strings that must never leave the process (literals, passwords).
 */
#ifndef OTELC_TEST_DB_SPANS_H
#define OTELC_TEST_DB_SPANS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otelc/otelc.h"
#include "otelc/testing.h"

/* Make the global provider export synchronously into a new memory store. */
static inline otelc_memory_exporter *db_spans_init(void)
{
    otelc_memory_exporter *mem = NULL;
    otelc_provider *p = otelc_testing_provider_new(&mem);
    if (!p) abort();
    otelc_provider_set_global(p);
    return mem;
}

static inline bool db_spans_mem_has(const char *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; p && k <= n && i <= n - k; i++)
        if (memcmp(p + i, needle, k) == 0) return true;
    return false;
}

static inline bool db_spans_value_has(const otelc_value *v, const char *needle)
{
    if (v->type == OTELC_VALUE_STRING) return db_spans_mem_has(v->u.str.ptr, v->u.str.len, needle);
    if (v->type == OTELC_VALUE_STRING_ARRAY) {
        const char *const *items = v->u.array.items;
        for (size_t i = 0; i < v->u.array.count; i++)
            if (items[i] && strstr(items[i], needle)) return true;
    }
    return false;
}

static inline bool db_spans_attrs_have(const otelc_attr *a, size_t n, const char *needle)
{
    for (size_t i = 0; i < n; i++)
        if (strstr(a[i].key, needle) || db_spans_value_has(&a[i].value, needle)) return true;
    return false;
}

/* The first exported span mentioning needle anywhere, or NULL. */
static inline const otelc_span_data *db_spans_find_leak(otelc_memory_exporter *m,
                                                        const char *needle)
{
    for (size_t i = 0; i < otelc_memory_exporter_count(m); i++) {
        const otelc_span_data *sd = otelc_memory_exporter_get(m, i);
        if (strstr(sd->name, needle) || db_spans_attrs_have(sd->attrs, sd->attr_count, needle) ||
            (sd->status_message && strstr(sd->status_message, needle)))
            return sd;
        for (uint32_t e = 0; e < sd->event_count; e++)
            if (strstr(sd->events[e].name, needle) ||
                db_spans_attrs_have(sd->events[e].attrs, sd->events[e].attr_count, needle))
                return sd;
        for (uint32_t l = 0; l < sd->link_count; l++)
            if (db_spans_attrs_have(sd->links[l].attrs, sd->links[l].attr_count, needle)) return sd;
    }
    return NULL;
}

/* The n-th (0-based) exported span named name, or NULL. */
static inline const otelc_span_data *db_spans_nth(otelc_memory_exporter *m, const char *name,
                                                  size_t n)
{
    for (size_t i = 0; i < otelc_memory_exporter_count(m); i++) {
        const otelc_span_data *sd = otelc_memory_exporter_get(m, i);
        if (strcmp(sd->name, name) == 0 && n-- == 0) return sd;
    }
    return NULL;
}

#endif
