/*
 * self_export.h - whether an exporter endpoint names the viewer itself.
 *
 * `otelc view` traces its own queries when OTEL_* asks for it; a shell in
 * which OTEL_EXPORTER_OTLP_ENDPOINT points at the viewer (so that the
 * programs run there export to it) would then make the viewer export its
 * own spans into itself. main.c checks every endpoint the SDK would use
 * against the viewer's ports and leaves self-tracing off when one matches.
 */
#ifndef OTELC_VIEWER_SELF_EXPORT_H
#define OTELC_VIEWER_SELF_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when endpoint (a URL "scheme://host[:port][/path]", or "host:port"
 * as gRPC endpoints may be given) names a host this machine answers as
 * (localhost, NAME.localhost, 127.0.0.0/8, ::1, the wildcards 0.0.0.0 and
 * ::, or bind) on one of ports[0..n). A URL without a port uses its
 * scheme's (80, 443). False for NULL and for what cannot be read.
 */
bool vw_endpoint_is_self(const char *endpoint, const char *bind, const unsigned *ports, size_t n);

#endif
