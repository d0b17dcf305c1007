#!/bin/sh
# Put the figures of one `make bench` run into docs/performance.md.
#
# usage: sh bench/report.sh LOG [DOC]      (make bench runs it; DOC defaults
#                                          to docs/performance.md)
#
# LOG is what bench/run.sh printed. Every line of the form
#   NAME VALUE UNIT [NOTE...]          (NAME dotted, VALUE a number)
# is a figure. bench/targets names the figures of the summary table, in
# its order, with a label and a target; the table, the run's header (date,
# commit, machine, load) and the complete list of figures replace the part
# of DOC between the two "make bench" markers. A LOG without run.sh's last
# line ("== make bench: done") is refused: a run cut short would replace
# good figures with missing ones.
set -eu

log=$1
doc=${2:-docs/performance.md}
targets="$(dirname "$0")/targets"
begin='<!-- make bench: begin (bench/report.sh writes this part; edit bench/targets instead) -->'
end='<!-- make bench: end -->'

if ! grep -q '^== make bench: done' "$log"; then
    echo "report.sh: $log is not a complete bench/run.sh run; $doc left as it is" >&2
    exit 1
fi
if ! grep -qF "$begin" "$doc" || ! grep -qF "$end" "$doc"; then
    echo "report.sh: $doc has no make bench markers" >&2
    exit 1
fi

tmp=$(mktemp "${TMPDIR:-/tmp}/otelc-report.XXXXXX")
trap 'rm -f "$tmp"' EXIT

# The generated part: header, summary table, every figure.
awk -v targets="$targets" '
    function num(v) { return v ~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/ }
    # 1234567 -> 1,234,567; 2197700.5 (an average of two medians) -> 2,197,700; smaller as printed
    function group(v,   s, out) {
        if (v ~ /^-?[0-9]+\.[0-9]+$/ && (v + 0 < 0 ? -v : v + 0) >= 10000) v = sprintf("%.0f", v)
        if (v !~ /^-?[0-9]+$/ || length(v) < 5) return v
        s = v; out = ""
        while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
        return s out
    }
    function met(v, op, t) {
        if (op == "<=") return v + 0 <= t + 0
        if (op == ">=") return v + 0 >= t + 0
        if (op == "==") return v + 0 == t + 0
        return -1
    }
    FNR == NR {
        if ($0 ~ /^[a-z]+: / && !(($1) in head)) { h = $0; sub(/^[a-z]+: +/, "", h); head[$1] = h }
        if ($1 ~ /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/ && num($2) && NF >= 3) {
            value[$1] = $2; unit[$1] = $3
            all[++n] = $0
        }
        next
    }
    { lines[++t] = $0 }
    END {
        print "`make bench` (`sh bench/run.sh build/bench`, then `sh bench/report.sh`), " head["date:"] ","
        print "commit `" head["commit:"] "`."
        print ""
        print "    machine:   " head["machine:"]
        print "    cpu:       " head["cpu:"]
        print "    compiler:  " head["compiler:"]
        print "    load:      " head["load:"]
        print ""
        print "| figure | value | target | |"
        print "|---|---:|---:|---|"
        for (i = 1; i <= t; i++) {
            line = lines[i]
            if (line ~ /^[ \t]*$/) continue
            if (line ~ /^## /) { sub(/^## /, "", line); print "| **" line "** | | | |"; continue }
            if (line ~ /^#/) continue
            split(line, f, /[ \t]*\|[ \t]*/)
            name = f[1]; label = f[2]; op = f[3]; goal = f[4]
            sym = op == "<=" ? "≤" : op == ">=" ? "≥" : op == "==" ? "=" : ""
            want = op == "" ? "" : sym " " group(goal)
            if (!(name in value)) { print "| " label " | not measured in this run | " want " | |"; continue }
            shown = group(value[name]) " " unit[name]
            if (op == "") { print "| " label " | " shown " | | |"; continue }
            print "| " label " | " shown " | " want " | " (met(value[name], op, goal) ? "met" : "**missed**") " |"
        }
        print ""
        print "<details><summary>Every figure of this run (" n ")</summary>"
        print ""
        print "```text"
        for (i = 1; i <= n; i++) print all[i]
        print "```"
        print ""
        print "</details>"
    }' "$log" "$targets" >"$tmp"

sh "$(dirname "$0")/../scripts/doc-section.sh" "$doc" "$begin" "$end" "$tmp"
echo "report.sh: $doc updated from $log"
