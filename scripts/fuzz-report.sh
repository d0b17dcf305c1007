#!/bin/sh
# fuzz-report.sh [SECONDS [--docs]] - run every libFuzzer target for
# SECONDS (default 30) and report, per target: the seeds in the repository
# (tests/fuzz/corpus/<target>), the executions and their rate, the corpus
# the run ended with (seeds plus build/fuzz/corpus/<target>, kept between
# runs) and crashes. Builds the targets in build/fuzz (clang) first.
#
# FUZZ_GROW=1 then adds to tests/fuzz/corpus/<target> the smallest
# FUZZ_GROW_FILES (default 3) of the inputs of at most FUZZ_MAX_LEN bytes
# (default 256) that reach code its seeds do not (libFuzzer's -merge=1), so
# the repository's corpora grow a little, and stay small, with each run. A crash leaves its input in build/fuzz/crashes/<target>/: keep
# it as a regression seed with the fix. Prints the markdown table; --docs
# also adds the run to the ledger tests/fuzz/ledger.tsv (per target: the
# seconds and executions of every run recorded so far, runs, crashes), whose
# totals the table shows, and puts the table into docs/reliability.md
# between its markers. Exits 1 when a target crashed.
set -eu
seconds=${1:-30}
docs=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=build/fuzz
max_len=${FUZZ_MAX_LEN:-256}
grow_files=${FUZZ_GROW_FILES:-3}
command -v clang >/dev/null || { echo "fuzz-report: needs clang" >&2; exit 2; }
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DOTELC_BUILD_FUZZ=ON \
    -DOTELC_BUILD_TESTS=OFF -DOTELC_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j "${JOBS:-2}" >/dev/null

tmp=$(mktemp -d "${TMPDIR:-/tmp}/otelc-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
ledger=tests/fuzz/ledger.tsv
[ -f "$ledger" ] || printf 'target\tseconds\texecutions\truns\tcrashes\n' >"$ledger"
cp "$ledger" "$tmp/ledger.tsv"
# account NAME SECONDS EXECS CRASHED: the run added to $tmp/ledger.tsv; prints the new totals.
account() {
    awk -F '\t' -v OFS='\t' -v n="$1" -v s="$2" -v e="$3" -v c="$4" '
        NR == 1 { print; next }
        $1 == n { $2 += s; $3 += e; $4 += 1; $5 += c; found = 1 }
        { print }
        END { if (!found) print n, s, e, 1, c }' "$tmp/ledger.tsv" >"$tmp/ledger.new"
    mv "$tmp/ledger.new" "$tmp/ledger.tsv"
    awk -F '\t' -v n="$1" '$1 == n { printf "%d %d %d\n", $2, $3, $4 }' "$tmp/ledger.tsv"
}
duration() {
    if [ "$1" -ge 3600 ]; then
        echo "$(($1 / 3600)) h $(($1 % 3600 / 60)) min"
    elif [ "$1" -ge 60 ]; then
        echo "$(($1 / 60)) min $(($1 % 60)) s"
    else
        echo "$1 s"
    fi
}
{
    echo "| target | seeds | executions in ${seconds} s | per second | corpus after | new seeds kept | crashes | run time, all recorded runs | executions, all recorded runs |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$tmp/table.md"
# grow BIN SEEDS WORK TMP: the smallest few inputs of WORK that add coverage to SEEDS.
grow() {
    mkdir -p "$4/small" "$4/merged"
    find "$3" -type f -size -"$((max_len + 1))"c -exec cp {} "$4/small/" \;
    cp "$2"/* "$4/merged/"
    "$1" -merge=1 "$4/merged" "$4/small" >"$4/merge.log" 2>&1 || return 0
    for f in "$4"/merged/*; do
        [ -e "$2/$(basename "$f")" ] || echo "$(wc -c <"$f") $f"
    done | sort -n | head -n "$grow_files" | while read -r _ f; do cp "$f" "$2/"; done
}

crashed=0
for seeds in tests/fuzz/corpus/*/; do
    name=$(basename "$seeds")
    bin="$build/$name"
    [ -x "$bin" ] || continue
    work="$build/corpus/$name"
    crashes="$build/crashes/$name"
    mkdir -p "$work" "$crashes"
    before=$(find "$seeds" -type f | wc -l)
    status=0
    "$bin" -max_total_time="$seconds" -rss_limit_mb=1024 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$work" "$seeds" >"$tmp/$name.log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/$name.log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$tmp/$name.log")
    corpus=$(find "$work" "$seeds" -type f | wc -l)
    kept=0
    if [ "${FUZZ_GROW:-0}" = 1 ] && [ $status -eq 0 ]; then
        grow "$bin" "$seeds" "$work" "$tmp/grow-$name"
        kept=$(($(find "$seeds" -type f | wc -l) - before))
    fi
    n_crash=0
    [ $status -eq 0 ] || { n_crash=1; crashed=1; }
    # shellcheck disable=SC2046 # three numbers
    set -- $(account "$name" "$seconds" "${execs:-0}" "$n_crash")
    echo "| $name | $before | ${execs:-?} | ${rate:-?} | $corpus | $kept | $n_crash |" \
        "$(duration "$1") in $3 runs | $2 |" >>"$tmp/table.md"
done
cat "$tmp/table.md"
if [ "$docs" = --docs ]; then
    cp "$tmp/ledger.tsv" "$ledger"
    {
        echo "Fuzz run on $(date -u '+%Y-%m-%d %H:%M') UTC ($(git rev-parse --short HEAD)): ${seconds} s per target" \
            "on $(nproc) CPUs shared with other work; seeds are the repository's before the run" \
            "(FUZZ_GROW=${FUZZ_GROW:-0})."
        echo
        cat "$tmp/table.md"
    } >"$tmp/section.md"
    sh scripts/doc-section.sh docs/reliability.md '<!-- fuzz: begin -->' '<!-- fuzz: end -->' "$tmp/section.md"
fi
exit $crashed
