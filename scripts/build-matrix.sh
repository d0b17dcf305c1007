#!/bin/sh
# Build every CMake build type with gcc and clang, warnings as errors, tests
# and examples included: what users build must build.
#
# usage: sh scripts/build-matrix.sh [BUILD_ROOT]     (default build/matrix)
#
# Each configuration is built in BUILD_ROOT/<compiler>-<type> (kept, so a
# second run is incremental); its log is BUILD_ROOT/<compiler>-<type>.log.
# Prints one line per configuration and exits 1 when any fails. Not part of
# `make check` (eight full builds); `make check` builds gcc Debug and
# Release and clang Debug under the sanitizers.
set -u

root=${1:-build/matrix}
jobs=${JOBS:-$(nproc)}
mkdir -p "$root"
failed=0
for cc in gcc clang; do
    for type in Debug Release RelWithDebInfo MinSizeRel; do
        dir="$root/$cc-$type"
        if cmake -S . -B "$dir" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE="$type" \
            -DOTELC_WERROR=ON >"$dir.log" 2>&1 &&
            cmake --build "$dir" -j "$jobs" >>"$dir.log" 2>&1; then
            echo "$cc $type: ok"
        else
            echo "$cc $type: FAILED (log: $dir.log)"
            grep -m 5 -E 'error|warning' "$dir.log" | sed 's/^/    /'
            failed=1
        fi
    done
done
exit $failed
