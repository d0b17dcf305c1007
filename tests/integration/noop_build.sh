#!/bin/sh
# The compile-time no-op switch: with -DOTELC_NOOP the examples (and a small
# program exercising the whole instrumentation API) must compile with every
# warning as an error, link WITHOUT libotelc, leave no otelc_ symbol
# undefined, and run to exit code 0.
#
# usage: sh tests/integration/noop_build.sh [build-dir]
# (CTest passes its build directory; the binaries go to a private temp dir.)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
CC=${NOOP_CC:-gcc}
CFLAGS="-std=gnu11 -O2 -DOTELC_NOOP -I$src/include -Wall -Wextra -Werror -Wshadow
-Wstrict-prototypes -Wmissing-prototypes"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-noop.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

fail() {
    echo "noop_build: FAIL: $*" >&2
    exit 1
}

# A program touching every no-op'd area; it checks the neutral results itself.
cat >"$tmp/api.c" <<'PROG'
#include <stdio.h>
#include <string.h>

#include <otelc/otelc.h>

static int runs;

static int leave_early(otelc_tracer *t)
{
    OTELC_WITH_SPAN(t, "early")
    {
        runs++;
        return 7;
    }
    return 0;
}

int main(void)
{
    if (otelc_init(NULL) != OTELC_OK) return 1;
    otelc_tracer *t = otelc_tracer_get("noop.test", NULL);
    if (!t) return 2;
    otelc_span *s = otelc_span_start(t, "s", OTELC_SPAN_SERVER);
    if (!s || otelc_span_is_recording(s)) return 3;
    otelc_span_set_str(s, "k", "v");
    otelc_span_set_int(s, "i", 1);
    otelc_span_set_double(s, "d", 1.5);
    otelc_attr attrs[] = {OTELC_ATTR_STR("a", "b"), OTELC_ATTR_BOOL("c", true)};
    otelc_span_add_event(s, "e", attrs, 2);
    otelc_span_set_status(s, OTELC_STATUS_ERROR, "x");
    otelc_span_record_exception(s, "T", "m", NULL);
    otelc_scope sc = otelc_span_activate(s);

    OTELC_WITH_SPAN(t, "block") { runs++; }
    if (runs != 1) return 4;
    for (int i = 0; i < 3; i++) {
        OTELC_WITH_SPAN(t, "loop") { runs++; break; }
    }
    if (runs != 4) return 5;
    if (leave_early(t) != 7 || runs != 5) return 6;

    otelc_span_context c = otelc_span_get_context(s);
    if (otelc_span_context_is_valid(&c)) return 7;
    char tid[33], sid[17];
    if (strcmp(otelc_trace_id_hex(&c, tid), "00000000000000000000000000000000") != 0) return 8;
    if (strcmp(otelc_span_id_hex(&c, sid), "0000000000000000") != 0) return 9;

    otelc_context *ctx = otelc_context_current();
    if (!ctx) return 10;
    otelc_baggage *bg = otelc_baggage_set(NULL, "k", "v", NULL);
    if (otelc_baggage_count(bg) != 0) return 11;
    otelc_scope a = otelc_context_attach(ctx);
    otelc_scope_exit(a);

    otelc_headers h = {0};
    otelc_carrier car = otelc_headers_carrier(&h);
    otelc_inject(NULL, &car);
    otelc_context *ex = otelc_extract(&car);
    if (!ex || otelc_headers_get(&h, "traceparent") != NULL) return 12;
    otelc_context_release(ex);
    otelc_headers_clear(&h);
    char **envp = otelc_envp_copy();
    if (!envp) return 13;
    otelc_envp_free(envp);

    char buf[64];
    if (otelc_context_serialize(ctx, buf, sizeof buf) != 0 || buf[0] != '\0') return 14;
    otelc_context_release(ctx);
    otelc_baggage_release(bg);

    otelc_scope_exit(sc);
    otelc_span_end(s);
    if (otelc_force_flush(100) != OTELC_OK) return 15;
    if (strcmp(otelc_version(), OTELC_VERSION) != 0 || !otelc_strerror(OTELC_ERR_NOMEM)) return 16;
    otelc_shutdown();
    puts("noop api: ok");
    return 0;
}
PROG

check() {
    name=$1
    file=$2
    # shellcheck disable=SC2086
    $CC $CFLAGS "$file" -o "$tmp/$name" -lpthread || fail "$name does not compile without libotelc"
    undef=$(nm -u "$tmp/$name" | grep otelc_ || true)
    [ -z "$undef" ] || fail "$name leaves otelc symbols undefined: $undef"
    rc=0
    (cd "$tmp" && OTEL_TRACES_EXPORTER=console "./$name") >"$tmp/$name.out" 2>&1 || rc=$?
    [ "$rc" = 0 ] || {
        cat "$tmp/$name.out" >&2
        fail "$name exited with $rc"
    }
    echo "noop_build: $name ok ($(head -n 1 "$tmp/$name.out"))"
}

check hello "$src/examples/hello/main.c"
check threads "$src/examples/threads/main.c"
check api "$tmp/api.c"
echo "noop_build: PASS"
