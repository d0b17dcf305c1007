/*
 * A program as a user writes it against an installed otelc: built by
 * tests/integration/install_consumer.sh (cmake --install) and
 * debian_packages.sh (the Debian packages), through pkg-config and through
 * find_package(otelc). Exits 2 when the headers and the library it loaded
 * disagree on the version; its span goes to whatever OTEL_TRACES_EXPORTER says.
 */
#include <string.h>

#include <otelc/otelc.h>

int main(void)
{
    if (strcmp(otelc_version(), OTELC_VERSION) != 0) return 2;
    if (otelc_init(NULL) != OTELC_OK) return 3;
    otelc_span *s =
        otelc_span_start(otelc_tracer_get("consumer", "1"), "installed-span", OTELC_SPAN_INTERNAL);
    otelc_span_set_int(s, "answer", 42);
    otelc_span_end(s);
    otelc_shutdown();
    return 0;
}
