# man3.awk - otelc's section 3 manual pages, from the contract comments of
# the public headers (run by man3.sh, which documents the arguments).
#
# What it relies on in a header (DEVELOPERS.md, "Manual pages"):
#   - the file opens with a comment "otelc/x.h - title." and optional
#     paragraphs that apply to every function of the header (NOTES);
#   - a function is a prototype starting in column 0 whose name begins
#     with otelc_ (otelc__ names are internal and skipped);
#   - the comment that ends on the line just above a prototype is its
#     contract; prototypes on the following lines, with no blank line
#     between, share it (one "block");
#   - a comment after the ';' of a prototype is a note on that function;
#   - "/* ---- Title ---- */" starts a section (the SEE ALSO siblings).
# Comment text: a line " *" alone separates paragraphs; lines indented
# further than " * " are kept as they are (code); sentences that say what is
# returned ("Returns ...", "... is returned", "Never returns NULL") are the
# RETURN VALUE; without one, a comment that opens with a noun phrase ("The
# value of key, or NULL.") describes the result by its first sentence.
#
# Pages: one per block, named after its first function, unless the
# families file puts blocks together; every other function of a page gets a
# link page (".so man3/PAGE.3"). A public function without a contract
# comment, or a family naming a function no header declares, is an error.

function fail(msg) {
    printf "man3: %s\n", msg | "cat 1>&2"
    failed = 1
}

function trim(s) {
    sub(/^[ \t]+/, "", s)
    sub(/[ \t]+$/, "", s)
    return s
}

# ---- Reading the headers ---------------------------------------------------

function start_header(path,    h) {
    h = ++nh
    hdr_name[h] = path
    sub(/^.*\/include\//, "", hdr_name[h])
    hdr_path[h] = path
    section = ""
    pending = ""
    adjacent = 0
    seen_code = 0
    return h
}

# One comment line without its frame: "/*", " * " or " *", "*/".
function comment_line(line) {
    sub(/^\/\* ?/, "", line)
    sub(/^ \*\/$/, "", line)
    sub(/ *\*\/ *$/, "", line)
    if (line ~ /^ \*( |$)/) line = substr(line, 4)
    sub(/[ \t]+$/, "", line)
    return line
}

# The comment starting at the current line; returns its text, lines
# separated by "\n", and leaves the last line of the comment in $0.
function read_comment(    text, line, done) {
    text = ""
    done = ($0 ~ /\*\//)
    line = comment_line($0)
    if (line != "") text = line
    while (!done && (getline) > 0) {
        done = ($0 ~ /\*\//)
        line = comment_line($0)
        if (done && line == "") break
        text = (text == "" ? line : text "\n" line)
    }
    return text
}

# The preamble's first sentence is "otelc/x.h - title."; the rest is notes.
function set_preamble(h, text,    p, first, sent, n) {
    p = index(text, "\n\n")
    first = p ? substr(text, 1, p - 1) : text
    hdr_notes[h] = p ? substr(text, p + 2) : ""
    gsub(/\n/, " ", first)
    if (first !~ /^otelc\/[a-z\/]+\.h - /)
        fail(hdr_path[h] ": the opening comment should start \"" hdr_name[h] " - \"")
    n = sentences(first, sent)
    if (n > 1) {
        first = substr(first, length(sent[1]) + 2)
        hdr_notes[h] = first (hdr_notes[h] == "" ? "" : "\n\n" hdr_notes[h])
    }
    first = sent[1]
    sub(/^[^ ]+ - /, "", first)
    sub(/\.$/, "", first)
    hdr_title[h] = first
}

# A prototype from the current line to its ';'.
function read_prototype(h,    proto, name, note, f, b, head, p) {
    proto = $0
    while (proto !~ /;/ && (getline) > 0) proto = proto "\n" $0
    note = ""
    p = index(proto, ";")
    if (substr(proto, p) ~ /\/\*/) {
        note = substr(proto, p + 1)
        sub(/^[ \t]*\/\*[ \t]*/, "", note)
        sub(/[ \t]*\*\/[ \t]*$/, "", note)
    }
    proto = substr(proto, 1, p)
    match(proto, /[A-Za-z_][A-Za-z0-9_]*\(/)
    name = substr(proto, RSTART, RLENGTH - 1)
    head = trim(substr(proto, 1, RSTART - 1))
    if (name !~ /^otelc_/ || name ~ /^otelc__/) {
        pending = ""
        adjacent = 0
        return
    }
    if (name in fn_index) {
        fail(hdr_path[h] ":" FNR ": " name " is declared twice")
        return
    }
    if (adjacent) {
        b = nb
    } else if (pending != "") {
        b = ++nb
        blk_text[b] = pending
        blk_hdr[b] = h
        blk_sec[b] = h SUBSEP section
        blk_nfn[b] = 0
    } else {
        fail(hdr_path[h] ":" FNR ": " name " has no contract comment just above it")
        adjacent = 0
        return
    }
    f = ++nfn
    fn_name[f] = name
    fn_index[name] = f
    fn_void[f] = (head == "void")
    fn_note[f] = note
    fn_block[f] = b
    fn_proto[f] = proto
    blk_fn[b, ++blk_nfn[b]] = f
    pending = ""
    adjacent = 1
}

FNR == 1 { cur = start_header(FILENAME) }

/^\/\*/ {
    start = FNR
    text = read_comment()
    if (!seen_code && start == 1) {
        set_preamble(cur, text)
    } else if (text ~ /^-+ .* -+$/) {
        section = text
        sub(/^-+ /, "", section)
        sub(/ -+$/, "", section)
        pending = ""
    } else {
        pending = text
    }
    adjacent = 0
    next
}

/^[ \t]*$/ {
    pending = ""
    adjacent = 0
    next
}

/^[A-Za-z_].*[A-Za-z0-9_]\(/ && !/^(static|typedef|extern|#|OTELC__INLINE)/ {
    seen_code = 1
    read_prototype(cur)
    next
}

{
    seen_code = 1
    pending = ""
    adjacent = 0
}

# ---- Text helpers ----------------------------------------------------------

# Roff for one line of running text: escapes, otelc_x() in bold, and a
# break point after each '/' (words are never hyphenated, see th()).
function roff_text(s,    out, m) {
    gsub(/\\/, "\\e", s)
    gsub(/\//, "/\\:", s)
    out = ""
    while (match(s, /otelc_[A-Za-z0-9_]+\(\)/)) {
        m = substr(s, RSTART, RLENGTH - 2)
        out = out substr(s, 1, RSTART - 1) "\\fB" m "\\fR()"
        s = substr(s, RSTART + RLENGTH)
    }
    out = out s
    if (out ~ /^[.']/) out = "\\&" out
    return out
}

# Roff for a comment: paragraphs, and indented lines kept as code.
function roff_block(text,    n, i, line, out, code, indent, macro) {
    n = split(text, lines, "\n")
    out = ""
    macro = ""
    code = 0
    for (i = 1; i <= n; i++) {
        line = lines[i]
        if (line == "") {
            if (code) out = out ".fi\n.RE\n"
            code = 0
            macro = ".PP"
            continue
        }
        if (line ~ /^  /) {
            if (!code) {
                match(line, /^ +/)
                indent = RLENGTH
                out = out (macro != "" ? macro "\n" : "") ".RS 4\n.nf\n"
                code = 1
                macro = ""
            }
            line = substr(line, indent + 1)
            gsub(/\\/, "\\e", line)
            if (line ~ /^[.']/) line = "\\&" line
            out = out line "\n"
            continue
        }
        if (code) {
            out = out ".fi\n.RE\n"
            code = 0
            macro = ".PP"
        }
        if (macro != "") out = out macro "\n"
        macro = ""
        out = out roff_text(line) "\n"
    }
    if (code) out = out ".fi\n.RE\n"
    return out
}

# The paragraphs of a comment, each joined into one line, code left out.
function prose_paragraphs(text, paras,    n, i, np, line, cur) {
    n = split(text, lines, "\n")
    np = 0
    cur = ""
    for (i = 1; i <= n + 1; i++) {
        line = (i <= n ? lines[i] : "")
        if (line == "" || line ~ /^  /) {
            if (cur != "") paras[++np] = cur
            cur = ""
            continue
        }
        cur = (cur == "" ? line : cur " " line)
    }
    return np
}

# Split a paragraph into sentences: at a '.' followed by a space, unless
# it ends an abbreviation ("e.g. ").
function sentences(para, out,    n, rest, cut, head) {
    n = 0
    cut = 0
    rest = para
    while (match(rest, /\.  */)) {
        head = substr(rest, 1, RSTART)
        cut += RSTART + RLENGTH - 1
        rest = substr(rest, RSTART + RLENGTH)
        if (head ~ /(^|[ (])(e\.g|i\.e|etc|vs)\.$/ || rest == "") continue
        out[++n] = trim(substr(para, 1, cut))
        para = substr(para, cut + 1)
        cut = 0
    }
    if (trim(para) != "") out[++n] = trim(para)
    return n
}

# What the comment of block b says is returned, as one paragraph: an
# opening noun phrase, then every sentence about returning (or never
# returning NULL).
function return_text(b,    paras, np, i, sent, ns, j, s, out) {
    np = prose_paragraphs(blk_text[b], paras)
    out = ""
    for (i = 1; i <= np; i++) {
        ns = sentences(paras[i], sent)
        for (j = 1; j <= ns; j++) {
            s = sent[j]
            # "otelc_x() returns" speaks of another function.
            gsub(/\(\) returns/, "() RETURNS_OTHER", s)
            if (s ~ /[Rr]eturn|[Nn]ever NULL/ ||
                (i == 1 && j == 1 && s ~ /^(The|A|An|True|Number|How many|Its) /))
                out = (out == "" ? sent[j] : out " " sent[j])
        }
    }
    return out
}

# The NAME line's description: the first sentence of the page's own block
# without its parentheses, and beyond 30 characters cut at a ':', ';' or ','.
function summary(b,    paras, np, sent, s, n) {
    np = prose_paragraphs(blk_text[b], paras)
    if (np == 0) return ""
    sentences(paras[1], sent)
    s = sent[1]
    gsub(/\(\)/, "\001", s)
    do n = gsub(/ \([^()]*\)/, "", s); while (n > 0)
    gsub(/\001/, "()", s)
    sub(/\.$/, "", s)
    if (match(substr(s, 31), /[:;,] /)) s = substr(s, 1, 30 + RSTART - 1)
    return s
}

# A prototype on one line, then wrapped at commas to fit 72 columns, with
# the function's name in bold.
function synopsis(f,    p, open, indent, parts, n, i, line, out, name) {
    p = fn_proto[f]
    gsub(/[ \t\n]+/, " ", p)
    gsub(/\( /, "(", p)
    name = fn_name[f]
    open = index(p, name "(") + length(name)
    indent = open > 40 ? 8 : open
    n = split(p, parts, ", ")
    out = ""
    line = parts[1]
    if (length(line) > 72 && !(n == 1 && p ~ /\(void\);$/)) {
        out = substr(line, 1, open) "\n"
        indent = 8
        line = sprintf("%8s", "") substr(line, open + 1)
    }
    for (i = 2; i <= n; i++) {
        if (length(line) + 2 + length(parts[i]) > 72) {
            out = out line ",\n"
            line = sprintf("%" indent "s", "") parts[i]
        } else {
            line = line ", " parts[i]
        }
    }
    out = out line
    gsub(/\\/, "\\e", out)
    sub(name "\\(", "\\fB" name "\\fP(", out)
    return out
}

# ---- Pages -----------------------------------------------------------------

function read_families(file,    line, n, i, k, parts) {
    while ((getline line < file) > 0) {
        sub(/#.*/, "", line)
        n = split(line, parts, " ")
        if (n == 0) continue
        k = ++nfam
        fam_page[k] = parts[1]
        for (i = 1; i <= n; i++) {
            if (parts[i] in fam_of) fail(file ": " parts[i] " is in two families")
            fam_of[parts[i]] = k
        }
    }
    close(file)
}

function assign_pages(    b, i, k, kb, name, p, f) {
    for (name in fam_of) {
        if (!(name in fn_index)) fail(families ": " name " is declared in no header")
    }
    for (b = 1; b <= nb; b++) {
        kb = 0
        for (i = 1; i <= blk_nfn[b]; i++) {
            name = fn_name[blk_fn[b, i]]
            if (!(name in fam_of)) continue
            k = fam_of[name]
            if (kb && k != kb)
                fail(name " shares a comment with functions of another family")
            kb = k
        }
        if (kb && (kb in fam_pageno)) {
            p = fam_pageno[kb]
        } else {
            p = ++npage
            page_name[p] = kb ? fam_page[kb] : fn_name[blk_fn[b, 1]]
            page_nblk[p] = 0
            if (kb) fam_pageno[kb] = p
        }
        page_blk[p, ++page_nblk[p]] = b
        blk_page[b] = p
    }
    for (p = 1; p <= npage; p++) {
        f = fn_index[page_name[p]]
        page_home[p] = fn_block[f]
    }
}

function page_functions(p, sep,    j, i, b, out) {
    out = ""
    for (j = 1; j <= page_nblk[p]; j++) {
        b = page_blk[p, j]
        for (i = 1; i <= blk_nfn[b]; i++)
            out = (out == "" ? "" : out sep) fn_name[blk_fn[b, i]]
    }
    return out
}

function block_title(b,    i, out) {
    out = ""
    for (i = 1; i <= blk_nfn[b]; i++)
        out = (out == "" ? "" : out ", ") fn_name[blk_fn[b, i]] "()"
    return out
}

# The NAME line's list: the page's own name first, then header order.
function name_list(p,    names) {
    names = ", " page_functions(p, ", ") ", "
    sub(", " page_name[p] ", ", ", ", names)
    names = page_name[p] substr(names, 1, length(names) - 2)
    return names
}

# The page header; text is left-aligned and never hyphenated, since it is
# full of identifiers (db.response.status_code) that must stay whole.
function th(title, page_date) {
    return ".TH " toupper(title) " 3 \"" page_date "\" \"otelc " version "\" \"otelc Manual\"\n.ad l\n.nh\n"
}

function link_line(h,    name, lib) {
    name = hdr_name[h]
    lib = "\\-lotelc"
    if (name ~ /^otelc\/instrument\//) {
        sub(/^otelc\/instrument\//, "", name)
        sub(/\.h$/, "", name)
        if ((" " instrumented " ") ~ (" " name " ")) lib = "\\-lotelc\\-" name " \\-lotelc"
    }
    return lib
}

function add_see(p, target) {
    if (target == p || ((p, target) in see_seen)) return
    see_seen[p, target] = 1
    see_list[p] = see_list[p] " " target
}

# Pages named in the comments of page p, then the pages of its section.
function see_also(p,    j, b, i, text, m, q, home) {
    for (j = 1; j <= page_nblk[p]; j++) {
        b = page_blk[p, j]
        text = blk_text[b]
        for (i = 1; i <= blk_nfn[b]; i++) text = text " " fn_note[blk_fn[b, i]]
        while (match(text, /otelc_[A-Za-z0-9_]+\(/)) {
            m = substr(text, RSTART, RLENGTH - 1)
            text = substr(text, RSTART + RLENGTH)
            if (m in fn_index) add_see(p, blk_page[fn_block[fn_index[m]]])
        }
    }
    home = blk_sec[page_home[p]]
    for (q = 1; q <= npage; q++) {
        if (blk_sec[page_home[q]] == home) add_see(p, q)
    }
}

function write_page(p,    file, j, b, i, f, h, hdrs, out, n, list, rt, nret, ret_b, ret_t, k, notes,
                    seel) {
    file = outdir "/" page_name[p] ".3"
    out = ".\\\" Generated by docs/man/man3.sh from the comments of include/otelc: do not edit.\n"
    out = out th(page_name[p], date)
    out = out ".SH NAME\n" name_list(p) " \\- " summary(page_home[p]) "\n"

    out = out ".SH SYNOPSIS\n.nf\n"
    hdrs = ""
    for (j = 1; j <= page_nblk[p]; j++) {
        b = page_blk[p, j]
        h = blk_hdr[b]
        if (index(hdrs, " " h " ")) continue
        hdrs = hdrs " " h " "
        out = out (hdrs == " " h " " ? "" : ".sp\n") ".B #include <" hdr_name[h] ">\n.sp\n"
        for (k = j; k <= page_nblk[p]; k++) {
            if (blk_hdr[page_blk[p, k]] != h) continue
            for (i = 1; i <= blk_nfn[page_blk[p, k]]; i++)
                out = out synopsis(blk_fn[page_blk[p, k], i]) "\n"
        }
    }
    out = out ".fi\n.PP\nLink with \\fI" link_line(blk_hdr[page_home[p]]) "\\fP.\n"

    out = out ".SH DESCRIPTION\n"
    for (j = 1; j <= page_nblk[p]; j++) {
        b = page_blk[p, j]
        if (page_nblk[p] > 1) out = out ".SS \"" block_title(b) "\"\n"
        out = out roff_block(blk_text[b])
        for (i = 1; i <= blk_nfn[b]; i++) {
            f = blk_fn[b, i]
            if (fn_note[f] == "") continue
            out = out ".TP\n.BR " fn_name[f] " ()\n" roff_text(fn_note[f]) "\n"
        }
    }

    nret = 0
    for (j = 1; j <= page_nblk[p]; j++) {
        b = page_blk[p, j]
        n = 0
        for (i = 1; i <= blk_nfn[b]; i++) n += !fn_void[blk_fn[b, i]]
        if (n == 0) continue
        rt = return_text(b)
        if (rt == "") continue
        ret_b[++nret] = b
        ret_t[nret] = rt
    }
    if (nret > 0) {
        out = out ".SH \"RETURN VALUE\"\n"
        for (k = 1; k <= nret; k++) {
            b = ret_b[k]
            if (page_nblk[p] > 1) {
                list = ""
                for (i = 1; i <= blk_nfn[b]; i++) {
                    if (!fn_void[blk_fn[b, i]])
                        list = (list == "" ? "" : list ", ") fn_name[blk_fn[b, i]] "()"
                }
                out = out ".TP\n.B \"" list "\"\n"
            }
            out = out roff_text(ret_t[k]) "\n"
        }
    }

    notes = hdr_notes[blk_hdr[page_home[p]]]
    if (notes != "") out = out ".SH NOTES\n" roff_block(notes)

    see_also(p)
    n = split(trim(see_list[p]), seel, " ")
    out = out ".SH \"SEE ALSO\"\n"
    for (i = 1; i <= n; i++) out = out ".BR " page_name[seel[i]] " (3),\n"
    out = out ".BR otelc (3)\n"

    printf "%s", out > file
    close(file)

    for (j = 1; j <= page_nblk[p]; j++) {
        b = page_blk[p, j]
        for (i = 1; i <= blk_nfn[b]; i++) {
            f = blk_fn[b, i]
            if (fn_name[f] == page_name[p]) continue
            file = outdir "/" fn_name[f] ".3"
            printf ".so man3/%s.3\n", page_name[p] > file
            close(file)
        }
    }
}

# otelc(3): every header, what applies to all of it, and its pages.
function write_overview(    file, out, h, p, main_h, names) {
    for (h = 1; h <= nh; h++) {
        if (hdr_name[h] == "otelc/otelc.h") main_h = h
    }
    file = outdir "/otelc.3"
    out = ".\\\" Generated by docs/man/man3.sh from the comments of include/otelc: do not edit.\n"
    out = out th("otelc", date)
    out = out ".SH NAME\notelc \\- " hdr_title[main_h] "\n"
    out = out ".SH SYNOPSIS\n.nf\n.B #include <otelc/otelc.h>\n.fi\n.PP\nLink with \\fI\\-lotelc\\fP.\n"
    out = out ".SH DESCRIPTION\n" roff_block(hdr_notes[main_h])
    out = out ".SH HEADERS\n"
    for (h = 1; h <= nh; h++) {
        out = out ".SS \"<" hdr_name[h] "> \\- " hdr_title[h] "\"\n"
        if (h != main_h) out = out roff_block(hdr_notes[h])
        for (p = 1; p <= npage; p++) {
            if (blk_hdr[page_home[p]] != h) continue
            names = name_list(p)
            out = out ".TP\n.BR " page_name[p] " (3)\n" summary(page_home[p])
            if (sub(/^[^,]*, /, "", names)) out = out "; also " names
            out = out "\n"
        }
    }
    out = out ".SH \"SEE ALSO\"\n.BR otelc (1)\n"
    printf "%s", out > file
    close(file)
}

BEGIN {
    if (families != "") read_families(families)
}

END {
    assign_pages()
    if (failed) exit 1
    for (p = 1; p <= npage; p++) write_page(p)
    write_overview()
    if (failed) exit 1
}
