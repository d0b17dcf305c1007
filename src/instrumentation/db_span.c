/*
 * db_span.c - database CLIENT spans with the semantic-convention
 * attributes, shared by the libpq and SQLite instrumentations (and by
 * applications with their own database layer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otelc/instrument/db.h"

/* Sanitize into a heap buffer the size of the input: the output is never longer. */
static char *query_text(const otelc_db_call *call, size_t len, otelc_sql_info *info)
{
    char *text = malloc(len + 1);
    size_t n;
    if (!text) {
        otelc_sql_sanitize(call->query, len, NULL, 0, info);
        return NULL;
    }
    n = otelc_sql_sanitize(call->query, len, text, len + 1, info);
    /* Parameterized text is kept as written: its values travel separately. */
    if (call->parameterized && info->placeholders > 0) {
        memcpy(text, call->query, len);
        n = len;
    }
    text[n] = '\0';
    return text;
}

otelc_span *otelc_db_span_start(otelc_tracer *tracer, const otelc_db_call *call,
                                const otelc_context *parent, uint64_t start_ns)
{
    otelc_sql_info info;
    otelc_attr attrs[9];
    size_t n = 0;
    const char *system = call && call->system ? call->system : "other_sql";
    size_t len = 0;
    char *text = NULL;
    if (call && call->query)
        len = call->query_len == SIZE_MAX ? strlen(call->query) : call->query_len;
    if (call && call->query)
        text = query_text(call, len, &info);
    else
        memset(&info, 0, sizeof(info));

    attrs[n++] = OTELC_ATTR_STR("db.system.name", system);
    if (call && call->db_namespace && *call->db_namespace)
        attrs[n++] = OTELC_ATTR_STR("db.namespace", call->db_namespace);
    if (call && call->server_address && *call->server_address)
        attrs[n++] = OTELC_ATTR_STR("server.address", call->server_address);
    if (call && call->server_port > 0)
        attrs[n++] = OTELC_ATTR_INT("server.port", call->server_port);
    if (text) attrs[n++] = OTELC_ATTR_STR("db.query.text", text);
    if (info.summary[0]) attrs[n++] = OTELC_ATTR_STR("db.query.summary", info.summary);
    if (info.operation[0]) attrs[n++] = OTELC_ATTR_STR("db.operation.name", info.operation);
    if (info.collection[0]) attrs[n++] = OTELC_ATTR_STR("db.collection.name", info.collection);

    otelc_span_options o = {.kind = OTELC_SPAN_CLIENT,
                            .parent = parent,
                            .start_ns = start_ns,
                            .attrs = attrs,
                            .attr_count = n};
    otelc_span *span = otelc_span_start_with(tracer, info.summary[0] ? info.summary : system, &o);
    free(text);
    return span;
}

void otelc_db_span_fail(otelc_span *span, const char *code, const char *fallback_type,
                        const char *description)
{
    int has_code = code && *code;
    if (has_code) otelc_span_set_str(span, "db.response.status_code", code);
    otelc_span_set_str(span, "error.type",
                       has_code ? code
                                : (fallback_type && *fallback_type ? fallback_type : "_OTHER"));
    otelc_span_set_status(span, OTELC_STATUS_ERROR, description);
}
