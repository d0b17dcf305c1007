#!/bin/sh
# man3.sh - write otelc's section 3 manual pages into OUTDIR/man3, from the
# contract comments of the public headers (docs/man/man3.awk reads them;
# DEVELOPERS.md says which conventions it relies on). OUTDIR/man3 is
# replaced as a whole, so a function deleted from a header loses its page.
#
# usage: sh docs/man/man3.sh SRCDIR OUTDIR
#
# The pages are dated by SOURCE_DATE_EPOCH when it is set (reproducible
# builds), else by today's date.
set -eu

src=$1
out=$2
inc=$src/include/otelc

# The version is written once, as common.h's three numbers (CMake reads them too).
part() { sed -n "s/^#define OTELC_VERSION_$1 *\([0-9][0-9]*\)\$/\1/p" "$inc/common.h"; }
version=$(part MAJOR).$(part MINOR).$(part PATCH)
case $version in
[0-9]*.[0-9]*.[0-9]*) ;;
*) echo "man3.sh: no OTELC_VERSION_MAJOR/MINOR/PATCH in $inc/common.h" >&2; exit 1 ;;
esac
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
    date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)
else
    date=$(date -u +%Y-%m-%d)
fi

# otelc.h first, then the headers it includes in its order, then the rest
# (a new header is picked up without being named here).
first="otelc.h common.h context.h trace.h propagation.h sdk.h exporters.h"
set --
for h in $first; do set -- "$@" "$inc/$h"; done
for h in "$inc"/*.h "$inc"/instrument/*.h; do
    case " $first " in *" ${h#"$inc"/} "*) continue ;; esac
    set -- "$@" "$h"
done

# Instrumentation headers whose library is libotelc-NAME (the others, such
# as server.h, are in libotelc itself).
instrumented=""
for d in "$src"/instrument/*/CMakeLists.txt; do
    [ -f "$d" ] || continue
    name=${d%/CMakeLists.txt}
    instrumented="$instrumented ${name##*/}"
done

mkdir -p "$out"
rm -rf "$out/man3.new"
mkdir "$out/man3.new"
awk -f "$src/docs/man/man3.awk" -v outdir="$out/man3.new" -v version="$version" \
    -v date="$date" -v families="$src/docs/man/families" -v instrumented="$instrumented" "$@"
rm -rf "$out/man3"
mv "$out/man3.new" "$out/man3"
