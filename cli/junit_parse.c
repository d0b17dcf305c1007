/*
 * junit_parse.c - JUnit XML reports into memory (see junit_parse.h).
 *
 * expat drives a small state machine: a stack of open suites, the open test
 * case and the open failure/error/skipped element whose text is collected.
 * Elements we do not interpret are skipped with everything inside them, so
 * a <testcase> inside <system-out> text or a vendor extension never counts.
 */
#define _GNU_SOURCE /* timegm */
#include "junit_parse.h"

#include <expat.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_PER_S 1000000000ull

/* expat takes int lengths: big inputs go in chunks of this size. */
#define FEED_CHUNK (1 << 20)

struct parser {
    XML_Parser xp;
    junit_report *report;
    junit_suite *stack[JUNIT_MAX_DEPTH]; /* open suites, innermost last */
    size_t depth;
    junit_case *kase;       /* open test case, or NULL */
    junit_problem *problem; /* open failure/error/skipped, or NULL */
    unsigned long skip;     /* > 0: inside an element we ignore */
    bool in_stack_trace;    /* inside a rerun's <stackTrace> child */
    bool root_seen;
    char *text;
    size_t text_len, text_cap;
    junit_error *err;
    bool failed;
};

/* ---- Small helpers --------------------------------------------------------- */

static void fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record the first error at expat's current position and stop parsing. */
static void fail(struct parser *p, const char *fmt, ...)
{
    if (p->failed) return;
    p->failed = true;
    p->err->line = (unsigned long)XML_GetCurrentLineNumber(p->xp);
    p->err->column = (unsigned long)XML_GetCurrentColumnNumber(p->xp) + 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->message, sizeof p->err->message, fmt, ap);
    va_end(ap);
    XML_StopParser(p->xp, XML_FALSE);
}

static const char *attr(const XML_Char **atts, const char *name)
{
    for (size_t i = 0; atts[i]; i += 2)
        if (strcmp(atts[i], name) == 0) return atts[i + 1];
    return NULL;
}

/* A copy of the attribute, or NULL when absent or empty. Sets p->failed on OOM. */
static char *attr_dup(struct parser *p, const XML_Char **atts, const char *name)
{
    const char *v = attr(atts, name);
    if (!v || !*v) return NULL;
    char *copy = strdup(v);
    if (!copy) fail(p, "out of memory");
    return copy;
}

/* Like attr_dup, but "" rather than NULL: names are always present. */
static char *name_dup(struct parser *p, const XML_Char **atts)
{
    const char *v = attr(atts, "name");
    char *copy = strdup(v ? v : "");
    if (!copy) fail(p, "out of memory");
    return copy;
}

/* Grow *items (of size elem) to hold one more; returns the new slot, zeroed. */
static void *grow(struct parser *p, void **items, size_t *count, size_t elem)
{
    size_t n = *count;
    /* The capacity is the next power of two, so the count alone says when to grow. */
    if (n == 0 || (n & (n - 1)) == 0) {
        size_t cap = n ? n * 2 : 1;
        if (cap > SIZE_MAX / elem) {
            fail(p, "out of memory");
            return NULL;
        }
        void *bigger = realloc(*items, cap * elem);
        if (!bigger) {
            fail(p, "out of memory");
            return NULL;
        }
        *items = bigger;
    }
    char *slot = (char *)*items + n * elem;
    memset(slot, 0, elem);
    *count = n + 1;
    return slot;
}

/* ---- Numbers and times ----------------------------------------------------- */

bool junit_parse_seconds(const char *s, uint64_t *ns)
{
    if (!s) return false;
    while (*s == ' ') s++;
    uint64_t whole = 0, frac = 0, scale = NS_PER_S;
    bool digits = false;
    for (; (*s >= '0' && *s <= '9') || *s == ','; s++) {
        if (*s == ',') continue;
        digits = true;
        if (whole < JUNIT_MAX_SECONDS) whole = whole * 10 + (uint64_t)(*s - '0');
    }
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++) {
            digits = true;
            if (scale > 1) {
                scale /= 10;
                frac += (uint64_t)(*s - '0') * scale;
            }
        }
    }
    while (*s == ' ') s++;
    if (!digits || *s) return false;
    if (whole >= JUNIT_MAX_SECONDS) {
        whole = JUNIT_MAX_SECONDS;
        frac = 0;
    }
    *ns = whole * NS_PER_S + frac;
    return true;
}

/* n decimal digits at *s into *out; advances *s. */
static bool digits_n(const char **s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*s)[i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    *s += n;
    *out = v;
    return true;
}

static bool expect(const char **s, char c)
{
    if (**s != c) return false;
    (*s)++;
    return true;
}

/* "Z", "+hh", "+hhmm", "+hh:mm" (or '-') into seconds east of UTC. */
static bool parse_zone(const char *s, long *offset)
{
    if (strcmp(s, "Z") == 0 || strcmp(s, "z") == 0) {
        *offset = 0;
        return true;
    }
    if (*s != '+' && *s != '-') return false;
    int sign = *s++ == '-' ? -1 : 1, hh, mm = 0;
    if (!digits_n(&s, 2, &hh)) return false;
    if (*s == ':') s++;
    if (*s && !digits_n(&s, 2, &mm)) return false;
    if (*s || hh > 23 || mm > 59) return false;
    *offset = sign * (hh * 3600L + mm * 60L);
    return true;
}

/* Fractional seconds after a '.', as ns (digits past the ninth ignored). */
static uint64_t parse_fraction(const char **s)
{
    uint64_t frac = 0, scale = NS_PER_S;
    if (**s != '.' && **s != ',') return 0;
    for ((*s)++; **s >= '0' && **s <= '9'; (*s)++) {
        if (scale > 1) {
            scale /= 10;
            frac += (uint64_t)(**s - '0') * scale;
        }
    }
    return frac;
}

bool junit_parse_timestamp(const char *s, uint64_t *ns)
{
    if (!s) return false;
    struct tm tm = {0};
    int y, mo, d, h, mi, sec;
    if (!digits_n(&s, 4, &y) || !expect(&s, '-') || !digits_n(&s, 2, &mo) || !expect(&s, '-') ||
        !digits_n(&s, 2, &d))
        return false;
    if (*s != 'T' && *s != 't' && *s != ' ') return false;
    s++;
    if (!digits_n(&s, 2, &h) || !expect(&s, ':') || !digits_n(&s, 2, &mi) || !expect(&s, ':') ||
        !digits_n(&s, 2, &sec))
        return false;
    /* Up to 2100: later times would overflow nanoseconds in the layout's sums. */
    if (y < 1970 || y > 2100 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 60)
        return false;
    uint64_t frac = parse_fraction(&s);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t;
    if (*s == '\0') {
        tm.tm_isdst = -1; /* let the zone rules decide */
        t = mktime(&tm);
    } else {
        long offset;
        if (!parse_zone(s, &offset)) return false;
        t = timegm(&tm) - offset;
    }
    if (t < 0) return false;
    *ns = (uint64_t)t * NS_PER_S + frac;
    return true;
}

/* ---- Building the report ----------------------------------------------------- */

static void suite_start(struct parser *p, const XML_Char **atts)
{
    if (p->depth == JUNIT_MAX_DEPTH) {
        fail(p, "test suites nested more than %d deep", JUNIT_MAX_DEPTH);
        return;
    }
    junit_suite *s;
    if (p->depth == 0)
        s = grow(p, (void **)&p->report->suites, &p->report->suite_count, sizeof *s);
    else
        s = grow(p, (void **)&p->stack[p->depth - 1]->suites, &p->stack[p->depth - 1]->suite_count,
                 sizeof *s);
    if (!s) return;
    p->stack[p->depth++] = s;
    s->xml_line = (unsigned long)XML_GetCurrentLineNumber(p->xp);
    s->name = name_dup(p, atts);
    s->hostname = attr_dup(p, atts, "hostname");
    s->file = attr_dup(p, atts, "file");
    s->has_timestamp = junit_parse_timestamp(attr(atts, "timestamp"), &s->timestamp_ns);
    s->has_duration = junit_parse_seconds(attr(atts, "time"), &s->duration_ns);
}

static void case_start(struct parser *p, const XML_Char **atts)
{
    junit_suite *s = p->stack[p->depth - 1];
    junit_case *c = grow(p, (void **)&s->cases, &s->case_count, sizeof *c);
    if (!c) return;
    p->kase = c;
    c->xml_line = (unsigned long)XML_GetCurrentLineNumber(p->xp);
    c->name = name_dup(p, atts);
    c->classname = attr_dup(p, atts, "classname");
    c->file = attr_dup(p, atts, "file");
    const char *line = attr(atts, "line");
    if (line) {
        char *end;
        long long v = strtoll(line, &end, 10);
        if (end != line && *end == '\0' && v > 0) c->line = v;
    }
    c->has_duration = junit_parse_seconds(attr(atts, "time"), &c->duration_ns);
    /* CTest marks tests it did not run only by this attribute when disabled. */
    const char *status = attr(atts, "status");
    if (status && (strcmp(status, "notrun") == 0 || strcmp(status, "disabled") == 0 ||
                   strcmp(status, "skipped") == 0))
        c->outcome = JUNIT_SKIPPED;
}

static bool problem_kind(const char *el, junit_problem_kind *kind)
{
    static const struct {
        const char *name;
        junit_problem_kind kind;
    } kinds[] = {
        {"failure", JUNIT_FAILURE},        {"error", JUNIT_ERROR},
        {"skipped", JUNIT_SKIP},           {"flakyFailure", JUNIT_FLAKY_FAILURE},
        {"flakyError", JUNIT_FLAKY_ERROR}, {"rerunFailure", JUNIT_RERUN_FAILURE},
        {"rerunError", JUNIT_RERUN_ERROR},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(el, kinds[i].name) == 0) {
            *kind = kinds[i].kind;
            return true;
        }
    }
    return false;
}

static void problem_start(struct parser *p, junit_problem_kind kind, const XML_Char **atts)
{
    junit_case *c = p->kase;
    junit_problem *pr = grow(p, (void **)&c->problems, &c->problem_count, sizeof *pr);
    if (!pr) return;
    p->problem = pr;
    pr->kind = kind;
    pr->type = attr_dup(p, atts, "type");
    pr->message = attr_dup(p, atts, "message");
    p->text_len = 0;
}

/* The collected text, trimmed, as the open problem's text. */
static void problem_end(struct parser *p)
{
    size_t b = 0, e = p->text_len;
    while (b < e && strchr(" \t\r\n", p->text[b])) b++;
    while (e > b && strchr(" \t\r\n", p->text[e - 1])) e--;
    if (e > b) {
        p->problem->text = strndup(p->text + b, e - b);
        if (!p->problem->text) fail(p, "out of memory");
    }
    p->problem = NULL;
    p->text_len = 0;
}

/* Error beats failure beats skip: the worst thing that happened to the test. */
static void case_end(struct parser *p)
{
    junit_case *c = p->kase;
    for (size_t i = 0; i < c->problem_count; i++) {
        junit_problem_kind k = c->problems[i].kind;
        if (k == JUNIT_ERROR)
            c->outcome = JUNIT_ERRORED;
        else if (k == JUNIT_FAILURE && c->outcome != JUNIT_ERRORED)
            c->outcome = JUNIT_FAILED;
        else if (k == JUNIT_SKIP && c->outcome == JUNIT_PASSED)
            c->outcome = JUNIT_SKIPPED;
    }
    p->kase = NULL;
}

static void XMLCALL on_start(void *user, const XML_Char *el, const XML_Char **atts)
{
    struct parser *p = user;
    junit_problem_kind kind;
    if (p->failed) return;
    if (p->skip) {
        p->skip++;
    } else if (!p->root_seen) {
        p->root_seen = true;
        if (strcmp(el, "testsuites") == 0) {
            p->report->name = attr_dup(p, atts, "name");
        } else if (strcmp(el, "testsuite") == 0) {
            suite_start(p, atts);
        } else {
            fail(p,
                 "not a JUnit XML report: the root element is <%.40s>, not <testsuites> or "
                 "<testsuite>",
                 el);
        }
    } else if (strcmp(el, "testsuite") == 0 && !p->kase) {
        suite_start(p, atts);
    } else if (strcmp(el, "testcase") == 0 && p->depth && !p->kase) {
        case_start(p, atts);
    } else if (p->kase && !p->problem && problem_kind(el, &kind)) {
        problem_start(p, kind, atts);
    } else if (p->problem && !p->in_stack_trace && strcmp(el, "stackTrace") == 0) {
        /* Surefire's flaky and rerun elements hold their trace in this child. */
        p->in_stack_trace = true;
    } else {
        p->skip = 1;
    }
}

static void XMLCALL on_end(void *user, const XML_Char *el)
{
    struct parser *p = user;
    if (p->failed) return;
    if (p->skip) {
        p->skip--;
    } else if (p->in_stack_trace) {
        p->in_stack_trace = false;
    } else if (p->problem) {
        problem_end(p);
    } else if (p->kase) {
        case_end(p);
    } else if (p->depth && strcmp(el, "testsuite") == 0) {
        p->depth--;
    }
}

static void XMLCALL on_text(void *user, const XML_Char *s, int len)
{
    struct parser *p = user;
    if (p->failed || !p->problem || p->skip || len <= 0) return;
    size_t room = JUNIT_MAX_TEXT - p->text_len, n = (size_t)len;
    if (n > room) {
        n = room;
        /* Cut on a UTF-8 character boundary: never keep half a character. */
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    }
    if (n == 0) return;
    if (p->text_len + n > p->text_cap) {
        size_t cap = p->text_cap ? p->text_cap : 1024;
        while (cap < p->text_len + n) cap *= 2;
        char *bigger = realloc(p->text, cap);
        if (!bigger) {
            fail(p, "out of memory");
            return;
        }
        p->text = bigger;
        p->text_cap = cap;
    }
    memcpy(p->text + p->text_len, s, n);
    p->text_len += n;
}

/* ---- Counting ------------------------------------------------------------------ */

static void count_case(junit_counts *k, const junit_case *c)
{
    k->tests++;
    switch (c->outcome) {
    case JUNIT_PASSED:
        k->passed++;
        break;
    case JUNIT_FAILED:
        k->failed++;
        break;
    case JUNIT_ERRORED:
        k->errors++;
        break;
    case JUNIT_SKIPPED:
        k->skipped++;
        break;
    }
}

static void add_counts(junit_counts *to, const junit_counts *from)
{
    to->tests += from->tests;
    to->passed += from->passed;
    to->failed += from->failed;
    to->errors += from->errors;
    to->skipped += from->skipped;
}

static void count_suite(junit_suite *s)
{
    memset(&s->counts, 0, sizeof s->counts);
    for (size_t i = 0; i < s->case_count; i++) count_case(&s->counts, &s->cases[i]);
    for (size_t i = 0; i < s->suite_count; i++) {
        count_suite(&s->suites[i]);
        add_counts(&s->counts, &s->suites[i].counts);
    }
}

/* ---- Entry points ----------------------------------------------------------------- */

static void set_xml_error(struct parser *p)
{
    if (p->failed) return;
    p->failed = true;
    p->err->line = (unsigned long)XML_GetCurrentLineNumber(p->xp);
    p->err->column = (unsigned long)XML_GetCurrentColumnNumber(p->xp) + 1;
    snprintf(p->err->message, sizeof p->err->message, "malformed XML: %s",
             XML_ErrorString(XML_GetErrorCode(p->xp)));
}

static void feed(struct parser *p, const char *data, size_t len)
{
    do {
        size_t n = len > FEED_CHUNK ? FEED_CHUNK : len;
        bool last = n == len;
        if (XML_Parse(p->xp, data, (int)n, last) != XML_STATUS_OK) {
            set_xml_error(p);
            return;
        }
        data += n;
        len -= n;
    } while (len > 0);
    if (!p->root_seen) fail(p, "no XML element found");
}

int junit_parse(const char *data, size_t len, junit_report *out, junit_error *err)
{
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    struct parser p = {.report = out, .err = err};
    p.xp = XML_ParserCreate(NULL);
    if (!p.xp) {
        snprintf(err->message, sizeof err->message, "out of memory");
        return -1;
    }
    XML_SetUserData(p.xp, &p);
    XML_SetElementHandler(p.xp, on_start, on_end);
    XML_SetCharacterDataHandler(p.xp, on_text);
    feed(&p, data, len);
    XML_ParserFree(p.xp);
    free(p.text);
    if (p.failed) {
        junit_report_free(out);
        return -1;
    }
    for (size_t i = 0; i < out->suite_count; i++) {
        count_suite(&out->suites[i]);
        add_counts(&out->counts, &out->suites[i].counts);
    }
    return 0;
}

static void free_case(junit_case *c)
{
    for (size_t i = 0; i < c->problem_count; i++) {
        free(c->problems[i].type);
        free(c->problems[i].message);
        free(c->problems[i].text);
    }
    free(c->problems);
    free(c->name);
    free(c->classname);
    free(c->file);
}

static void free_suite(junit_suite *s)
{
    for (size_t i = 0; i < s->case_count; i++) free_case(&s->cases[i]);
    for (size_t i = 0; i < s->suite_count; i++) free_suite(&s->suites[i]);
    free(s->cases);
    free(s->suites);
    free(s->name);
    free(s->hostname);
    free(s->file);
}

void junit_report_free(junit_report *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->suite_count; i++) free_suite(&r->suites[i]);
    free(r->suites);
    free(r->name);
    memset(r, 0, sizeof *r);
}

const char *junit_outcome_status(junit_outcome o)
{
    switch (o) {
    case JUNIT_PASSED:
        return "pass";
    case JUNIT_SKIPPED:
        return "skipped";
    case JUNIT_FAILED:
    case JUNIT_ERRORED:
        break;
    }
    return "fail";
}

/* ---- Layout ------------------------------------------------------------------------ */

/* Times never get near this; sums saturate here instead of wrapping. */
#define TIME_CAP (UINT64_MAX / 4)

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > TIME_CAP - b ? TIME_CAP : a + b;
}

/* How long a suite lasts: its own time attribute or its content, whichever is longer. */
static uint64_t suite_length(const junit_suite *s)
{
    uint64_t content = 0;
    for (size_t i = 0; i < s->case_count; i++)
        content = sat_add(content, s->cases[i].has_duration ? s->cases[i].duration_ns : 0);
    for (size_t i = 0; i < s->suite_count; i++)
        content = sat_add(content, suite_length(&s->suites[i]));
    uint64_t own = s->has_duration ? s->duration_ns : 0;
    return own > content ? own : content;
}

static void place_suite(junit_suite *s, uint64_t start)
{
    if (s->has_timestamp) start = s->timestamp_ns;
    uint64_t cursor = start, first = start, last = start;
    for (size_t i = 0; i < s->case_count; i++) {
        junit_case *c = &s->cases[i];
        c->start_ns = cursor;
        c->end_ns = sat_add(cursor, c->has_duration ? c->duration_ns : 0);
        cursor = c->end_ns;
    }
    last = cursor;
    for (size_t i = 0; i < s->suite_count; i++) {
        junit_suite *child = &s->suites[i];
        place_suite(child, cursor);
        cursor = child->end_ns;
        if (child->start_ns < first) first = child->start_ns;
        if (child->end_ns > last) last = child->end_ns;
    }
    uint64_t own_end = sat_add(start, s->has_duration ? s->duration_ns : 0);
    s->start_ns = first;
    s->end_ns = own_end > last ? own_end : last;
}

void junit_layout(junit_report *reports, size_t count, uint64_t now_ns)
{
    uint64_t untimed = 0;
    for (size_t r = 0; r < count; r++)
        for (size_t i = 0; i < reports[r].suite_count; i++)
            if (!reports[r].suites[i].has_timestamp)
                untimed = sat_add(untimed, suite_length(&reports[r].suites[i]));
    uint64_t cursor = untimed < now_ns ? now_ns - untimed : 0;
    for (size_t r = 0; r < count; r++) {
        for (size_t i = 0; i < reports[r].suite_count; i++) {
            junit_suite *s = &reports[r].suites[i];
            place_suite(s, cursor);
            if (!s->has_timestamp) cursor = s->end_ns;
        }
    }
}
