/*
 * hello - the smallest traced program: one span, printed on the console.
 *
 *   OTEL_TRACES_EXPORTER=console ./example_hello
 */
#include <stdio.h>

#include <otelc/otelc.h>

int main(void)
{
    otelc_init(NULL); /* configured by the OTEL_* environment variables */
    otelc_tracer *tracer = otelc_tracer_get("example.hello", "1.0.0");

    otelc_span *span = otelc_span_start(tracer, "say-hello", OTELC_SPAN_INTERNAL);
    otelc_span_set_str(span, "greeting", "hello, world");
    otelc_span_set_int(span, "greeting.length", 12);

    otelc_span_context sc = otelc_span_get_context(span);
    char trace_id[33];
    printf("hello, world (trace %s)\n", otelc_trace_id_hex(&sc, trace_id));

    otelc_span_end(span);
    otelc_shutdown(); /* flushes what is queued */
    return 0;
}
