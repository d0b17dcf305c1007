#!/bin/sh
# doc-section.sh DOC BEGIN END FILE - put FILE's text between the lines BEGIN
# and END of DOC (both kept, exactly as given), in place. The generated parts
# of docs/performance.md (bench/report.sh) and docs/reliability.md (the soak,
# fuzz report and secrets audit) are written this way. Fails, leaving DOC as
# it was, when either marker is missing.
set -eu
doc=$1 begin=$2 end=$3 gen=$4
if ! grep -qxF "$begin" "$doc" || ! grep -qxF "$end" "$doc"; then
    echo "doc-section.sh: $doc lacks the lines '$begin' and '$end'" >&2
    exit 1
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
awk -v begin="$begin" -v end="$end" -v gen="$gen" '
    $0 == begin { print; while ((getline l < gen) > 0) print l; skip = 1; next }
    $0 == end { skip = 0 }
    !skip { print }' "$doc" >"$tmp"
cat "$tmp" >"$doc"
