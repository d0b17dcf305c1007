# shellcheck shell=sh
# figures.sh - sourced by the bench/*.sh scripts: the medians of figures
# collected over repeated runs, and the process helpers they share.

# medians FILE RUNS: for each figure in FILE (lines "name value unit note",
# as bench_export prints them), one line with the median of its values,
# each run's value and the first run's note. Comment lines (#) are passed
# through once.
medians() {
    awk -v runs="$2" '
        /^#/ { if (!seen[$0]++) print; next }
        NF >= 3 {
            if (!($1 in n)) {
                order[++k] = $1; unit[$1] = $3
                note = $0; sub(/^ *[^ ]+ +[^ ]+ +[^ ]+ */, "", note); first[$1] = note
            }
            v[$1, ++n[$1]] = $2
        }
        END {
            for (j = 1; j <= k; j++) {
                f = order[j]; m = n[f]
                for (a = 1; a <= m; a++) s[a] = v[f, a]
                for (a = 1; a <= m; a++)
                    for (b = a + 1; b <= m; b++)
                        if (s[b] + 0 < s[a] + 0) { t = s[a]; s[a] = s[b]; s[b] = t }
                # An average is printed whole: awk would print 2197778.5 as 2.19778e+06.
                med = m % 2 ? s[(m + 1) / 2] : sprintf("%.10g", (s[m / 2] + s[m / 2 + 1]) / 2)
                note = "median of " m ":"
                for (a = 1; a <= m; a++) note = note " " v[f, a]
                if (first[f] != "") note = note "; run 1: " first[f]
                printf "%-40s %14s %-10s %s\n", f, med, unit[f], note
            }
        }' "$1"
}

# figure NAME VALUE UNIT NOTE: one line as bench_export prints it.
figure() {
    printf '%-40s %14s %-10s %s\n' "$1" "$2" "$3" "$4"
}

# stop_pid PID: SIGTERM, then wait for it (it prints its counters on the way out).
stop_pid() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# wait_port FILE [SECONDS]: until the program writing FILE has written its
# port (default 5 s), then print it; fails when it does not come.
wait_port() {
    i=0
    while [ ! -s "$1" ]; do
        i=$((i + 1))
        [ $i -le $((${2:-5} * 20)) ] || {
            echo "$(basename "$0"): no port in $1" >&2
            exit 1
        }
        sleep 0.05
    done
    cat "$1"
}
