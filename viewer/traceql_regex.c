/*
 * traceql_regex.c - TraceQL's regular expressions: Tempo's are Go's (RE2
 * syntax), fully anchored; these are PCRE2's, restricted to what RE2 has.
 *
 * PCRE2's syntax is a superset of RE2's. What RE2 lacks is refused at
 * compile time: lookarounds, atomic groups, possessive quantifiers,
 * recursion, conditionals, backtracking verbs, back references. Besides
 * fidelity, that keeps matching cheap: those are the constructs that make
 * even PCRE2's DFA matcher re-scan the value (a lookahead inside a
 * repetition is quadratic).
 *
 * RE2 matches in time linear in the value; PCRE2 backtracks. A match runs
 * the backtracking matcher (fast on ordinary patterns) under a small limit
 * of steps, and when a pattern needs more (nested quantifiers on a long
 * value), PCRE2's DFA matcher, which does not backtrack: its work per
 * character is bounded by its workspace, and a pattern that overflows it
 * (only nested quantifiers over the same characters, on values of a few
 * hundred bytes and more) does not match. Either way a match costs at most
 * a constant times the value's length.
 *
 * Patterns are anchored at the start when compiled; the end is anchored
 * with PCRE2_ENDANCHORED for the backtracking matcher, and by checking
 * that the longest match ends at the end for the DFA matcher (whose
 * PCRE2_ENDANCHORED is not reliable in PCRE2 10.42).
 */
#include <stdio.h>

#include "traceql_ast.h"

/* Flags a "(?flags)" or "(?flags:" group may set: modes, not constructs. */
static bool is_flag(char c)
{
    return c != '\0' && strchr("imnsxU^-", c) != NULL;
}

/* What may follow "(?": a non-capturing, named or flag group, or a comment. */
static bool plain_group(const char *s, size_t n)
{
    char c0 = n > 0 ? s[0] : '\0', c1 = n > 1 ? s[1] : '\0';
    if (c0 == ':' || c0 == '#' || c0 == '\'') return true;
    if (c0 == 'P') return c1 == '<';
    if (c0 == '<') return c1 != '=' && c1 != '!';
    size_t i = 0;
    while (i < n && is_flag(s[i])) i++;
    return i > 0 && i < n && (s[i] == ')' || s[i] == ':');
}

/*
 * The first construct beyond RE2 in the pattern (NULL when there is none),
 * its offset in *at. Conservative: what it cannot tell apart (a "(?=" inside
 * \Q...\E) it refuses.
 */
static const char *beyond_re2(const char *p, size_t n, size_t *at)
{
    bool in_class = false, after_quantifier = false;
    size_t class_start = 0; /* a ']' right after "[" or "[^" is a member */
    for (size_t i = 0; i < n; i++) {
        char c = p[i], next = i + 1 < n ? p[i + 1] : '\0';
        bool quantifier = false;
        *at = i;
        if (c == '\\') {
            if (!in_class && (next == 'g' || next == 'k' || next == 'K'))
                return "back references, subroutine calls and \\K are not supported";
            i++;
        } else if (in_class) {
            if (c == ']' && i > class_start) in_class = false;
        } else if (c == '[') {
            in_class = true;
            class_start = i + 1 + (next == '^');
        } else if (c == '(' && next == '*') {
            return "(*VERB) and (*assertion) groups are not supported";
        } else if (c == '(' && next == '?') {
            if (!plain_group(p + i + 2, n - i - 2))
                return "lookarounds, atomic groups, recursion and conditionals are not supported";
            i++; /* the '?' is no quantifier */
        } else if (c == '+' && after_quantifier) {
            return "possessive quantifiers are not supported";
        } else {
            quantifier = c == '*' || c == '+' || c == '?' || c == '}';
        }
        after_quantifier = quantifier;
    }
    return NULL;
}

int vw__tql_regex_compile(const char *pattern, size_t len, pcre2_code **out, char *msg,
                          size_t msg_size)
{
    size_t at;
    const char *why = beyond_re2(pattern, len, &at);
    *out = NULL;
    if (why) {
        snprintf(msg, msg_size, "%s (at offset %zu)", why, at);
        return OTELC_ERR_PARSE;
    }
    pcre2_compile_context *ctx = pcre2_compile_context_create(NULL);
    if (!ctx) return OTELC_ERR_NOMEM;
    pcre2_set_parens_nest_limit(ctx, VW_TQL_MAX_DEPTH);
    pcre2_set_newline(ctx, PCRE2_NEWLINE_LF);
    /* '$' matches at the very end only, as in RE2; no \C, which splits characters. */
    uint32_t opts = PCRE2_UTF | PCRE2_ANCHORED | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C;
    int code;
    PCRE2_SIZE offset;
    *out = pcre2_compile((PCRE2_SPTR)pattern, len, opts, &code, &offset, ctx);
    pcre2_compile_context_free(ctx);
    if (!*out) {
        PCRE2_UCHAR text[120];
        if (code == PCRE2_ERROR_HEAP_FAILED || pcre2_get_error_message(code, text, sizeof text) < 0)
            return OTELC_ERR_NOMEM;
        snprintf(msg, msg_size, "%s (at offset %zu)", (char *)text, (size_t)offset);
        return OTELC_ERR_PARSE;
    }
    uint32_t backrefs = 0;
    pcre2_pattern_info(*out, PCRE2_INFO_BACKREFMAX, &backrefs);
    if (backrefs) {
        pcre2_code_free(*out);
        *out = NULL;
        snprintf(msg, msg_size, "back references are not supported");
        return OTELC_ERR_PARSE;
    }
    return OTELC_OK;
}

#define BACKTRACK_LIMIT 10000 /* steps of the backtracking matcher: about a millisecond */
#define DFA_WORKSPACE   1000  /* ints: the DFA matcher's states per character */

pcre2_match_context *vw__tql_regex_limits(void)
{
    pcre2_match_context *ctx = pcre2_match_context_create(NULL);
    if (!ctx) return NULL;
    pcre2_set_match_limit(ctx, BACKTRACK_LIMIT);
    pcre2_set_heap_limit(ctx, 4096); /* KiB */
    return ctx;
}

static bool over_limit(int rc)
{
    return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
           rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_NOMEMORY;
}

bool vw__tql_regex_full_match(const pcre2_code *re, pcre2_match_context *limits,
                              pcre2_match_data *md, const char *s, size_t len)
{
    PCRE2_SPTR subject = (PCRE2_SPTR)(s ? s : "");
    int rc = pcre2_match(re, subject, len, 0, PCRE2_ENDANCHORED, md, limits);
    if (!over_limit(rc)) return rc >= 0; /* a match, no match, or invalid UTF-8 */
    int workspace[DFA_WORKSPACE];
    rc = pcre2_dfa_match(re, subject, len, 0, 0, md, limits, workspace, DFA_WORKSPACE);
    return rc >= 0 && pcre2_get_ovector_pointer(md)[1] == len;
}
