/*
 * junit_write.c - a JUnit XML report (junit_write.h).
 */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "junit_write.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

/* The character entity for c, or NULL when c goes out as it is. */
static const char *xml_entity(unsigned char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&apos;";
    /* In attributes a parser would turn them into spaces; as references they survive. */
    case '\t':
        return "&#9;";
    case '\n':
        return "&#10;";
    case '\r':
        return "&#13;";
    default:
        return NULL;
    }
}

/* U+FFFE and U+FFFF are not XML characters, though well-formed UTF-8. */
static bool is_xml_nonchar(const unsigned char *p, size_t len)
{
    return len == 3 && p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf);
}

/* s escaped for an attribute value or element text (NULL writes nothing). */
static void xml_text(otelc_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p);
    while (n > 0) {
        const char *entity = xml_entity(*p);
        size_t len = entity ? 1 : otelc__utf8_seq_len(p, n);
        if (entity) {
            otelc__buf_puts(b, entity);
        } else if (len == 0 || (*p < 0x20) || is_xml_nonchar(p, len)) {
            otelc__buf_puts(b, REPLACEMENT);
            len = len ? len : 1;
        } else {
            otelc__buf_append(b, p, len);
        }
        p += len;
        n -= len;
    }
}

static void xml_attr(otelc_buf *b, const char *name, const char *value)
{
    otelc__buf_printf(b, " %s=\"", name);
    xml_text(b, value);
    otelc__buf_append(b, "\"", 1);
}

/* Seconds with millisecond precision, as xs:decimal. */
static void xml_seconds(otelc_buf *b, uint64_t ns)
{
    otelc__buf_printf(b, " time=\"%" PRIu64 ".%03" PRIu64 "\"", ns / 1000000000u,
                      ns / 1000000u % 1000u);
}

/* The schema's timestamp: local time, whole seconds, no zone (as Surefire writes it). */
static void xml_timestamp(otelc_buf *b, uint64_t ns)
{
    time_t t = (time_t)(ns / 1000000000u);
    struct tm tm;
    char text[32] = "1970-01-01T00:00:00";
    if (localtime_r(&t, &tm)) strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    xml_attr(b, "timestamp", text);
}

static size_t failures(const vw_junit_suite *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->case_count; i++) n += s->cases[i].failure != NULL;
    return n;
}

static void write_case(otelc_buf *b, const vw_junit_suite *s, const vw_junit_case *c)
{
    otelc__buf_puts(b, "  <testcase");
    xml_attr(b, "name", c->name);
    xml_attr(b, "classname", c->classname && *c->classname ? c->classname : s->name);
    otelc__buf_puts(b, " time=\"0\"");
    if (!c->failure) {
        otelc__buf_puts(b, "/>\n");
        return;
    }
    otelc__buf_puts(b, ">\n    <failure");
    xml_attr(b, "message", c->failure);
    otelc__buf_puts(b, " type=\"AssertionError\">");
    xml_text(b, c->failure);
    otelc__buf_puts(b, "</failure>\n  </testcase>\n");
}

void vw_junit_write(otelc_buf *out, const vw_junit_suite *s)
{
    otelc__buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite");
    xml_attr(out, "name", s->name);
    xml_timestamp(out, s->timestamp_ns);
    xml_attr(out, "hostname", s->hostname && *s->hostname ? s->hostname : "localhost");
    otelc__buf_printf(out, " tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\"",
                      s->case_count, failures(s));
    xml_seconds(out, s->duration_ns);
    otelc__buf_puts(out, ">\n  <properties>\n");
    for (size_t i = 0; i < s->property_count; i++) {
        otelc__buf_puts(out, "    <property");
        xml_attr(out, "name", s->properties[i].name);
        xml_attr(out, "value", s->properties[i].value);
        otelc__buf_puts(out, "/>\n");
    }
    otelc__buf_puts(out, "  </properties>\n");
    for (size_t i = 0; i < s->case_count; i++) write_case(out, s, &s->cases[i]);
    otelc__buf_puts(out, "  <system-out/>\n  <system-err/>\n</testsuite>\n");
}
