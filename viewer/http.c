/*
 * http.c - helpers for handlers' responses (http.h).
 */
#include <stdio.h>
#include <string.h>

#include "http.h"

void vw_response_header(vw_response *rs, const char *name, const char *value)
{
    if (rs->header_count == VW_RESPONSE_HEADERS) return;
    rs->headers[rs->header_count].name = name;
    snprintf(rs->headers[rs->header_count].value, sizeof rs->headers[0].value, "%s", value);
    rs->header_count++;
}

void vw_response_error(vw_response *rs, unsigned status, const char *message)
{
    rs->status = status;
    rs->content_type = "application/json";
    otelc__buf_reset(&rs->body);
    otelc__buf_puts(&rs->body, "{\"error\":");
    otelc__buf_json_str(&rs->body, message, strlen(message));
    otelc__buf_puts(&rs->body, "}\n");
}
