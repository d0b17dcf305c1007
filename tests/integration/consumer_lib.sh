# Builds and runs the programs of tests/integration/consumer/ against an
# installed otelc, as its users would: sourced by install_consumer.sh (a
# `cmake --install` prefix) and debian_packages.sh (the Debian packages).
#
# The caller defines fail MESSAGE (exits non-zero) and sets consumer_tmp to a
# scratch directory; PKG_CONFIG_PATH, CMAKE_PREFIX_PATH and LD_LIBRARY_PATH
# are the caller's to set when the installation is not in a system directory.

: "${consumer_tmp:?set by the script that sources consumer_lib.sh}"
consumer_src=$(cd "$(dirname "$0")/consumer" && pwd)

# consumer_build_pkg_config: consumer/main.c through `pkg-config otelc`,
# into $consumer_tmp/consumer-pc.
consumer_build_pkg_config() {
    # shellcheck disable=SC2046 # pkg-config's flags are words
    cc "$consumer_src/main.c" -o "$consumer_tmp/consumer-pc" $(pkg-config --cflags --libs otelc) ||
        fail "consumer does not build with pkg-config otelc"
}

# consumer_build_cmake: consumer/ through find_package(otelc), into
# $consumer_tmp/cmake/consumer.
consumer_build_cmake() {
    cmake -S "$consumer_src" -B "$consumer_tmp/cmake" >"$consumer_tmp/cmake.log" 2>&1 ||
        fail "find_package(otelc) configure: $(cat "$consumer_tmp/cmake.log")"
    cmake --build "$consumer_tmp/cmake" >>"$consumer_tmp/cmake.log" 2>&1 ||
        fail "find_package(otelc) build: $(cat "$consumer_tmp/cmake.log")"
}

# consumer_build_sqlite: consumer/sqlite.c through `pkg-config otelc-sqlite`,
# into $consumer_tmp/consumer-sqlite.
consumer_build_sqlite() {
    # shellcheck disable=SC2046
    cc "$consumer_src/sqlite.c" -o "$consumer_tmp/consumer-sqlite" \
        $(pkg-config --cflags --libs otelc-sqlite) ||
        fail "sqlite consumer does not build with pkg-config otelc-sqlite"
}

# consumer_expect PROGRAM TEXT...: runs PROGRAM with the console exporter;
# it must exit 0 and its output hold every TEXT.
consumer_expect() {
    prog=$1
    shift
    rc=0
    OTEL_TRACES_EXPORTER=console "$prog" 2>"$prog.err" || rc=$?
    [ "$rc" = 0 ] || fail "$prog exited $rc: $(cat "$prog.err")"
    for text in "$@"; do
        grep -qF -- "$text" "$prog.err" || fail "$prog exported no '$text': $(cat "$prog.err")"
    done
}

# consumer_check_sdk: both builds of consumer/main.c export their span.
consumer_check_sdk() {
    consumer_build_pkg_config
    consumer_expect "$consumer_tmp/consumer-pc" installed-span answer=42
    consumer_build_cmake
    consumer_expect "$consumer_tmp/cmake/consumer" installed-span answer=42
}

# consumer_check_sqlite: the libotelc-sqlite program exports its statement's span.
consumer_check_sqlite() {
    consumer_build_sqlite
    consumer_expect "$consumer_tmp/consumer-sqlite" 'db.system.name="sqlite"' \
        'db.query.text="SELECT ?"'
}
