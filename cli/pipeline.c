/*
 * pipeline.c - reading and validating pipeline files (see pipeline.h).
 *
 * Both formats become the json.h tree first (YAML through libyaml's
 * document loader), so there is one validator and every message can point
 * at the line and column of the offending value.
 */
#include "pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"

#ifdef OTELC_HAVE_YAML
#include <yaml.h>
#endif

#define MAX_DURATION_MS (30ull * 24 * 3600 * 1000)

/* What the validator needs to report an error. */
typedef struct vctx {
    const char *file;
    char *err;
    size_t err_size;
} vctx;

static int verr(vctx *c, const json_value *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int verr(vctx *c, const json_value *at, const char *fmt, ...)
{
    int n = at ? snprintf(c->err, c->err_size, "%s:%u:%u: ", c->file, at->line, at->column)
               : snprintf(c->err, c->err_size, "%s: ", c->file);
    if (n < 0 || (size_t)n >= c->err_size) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->err_size - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- Durations ------------------------------------------------------------ */

int pipeline_parse_duration(const char *text, uint64_t *ms)
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    const char *p = text;
    uint64_t total = 0;
    if (!p || !*p) return -1;
    while (*p) {
        if (*p < '0' || *p > '9') return -1;
        uint64_t n = 0;
        for (; *p >= '0' && *p <= '9'; p++) {
            n = n * 10 + (uint64_t)(*p - '0');
            if (n > MAX_DURATION_MS) return -1;
        }
        uint64_t scale = 0;
        if (!*p && p != text && total == 0) scale = 1000; /* a bare number: seconds */
        for (size_t i = 0; !scale && i < sizeof units / sizeof units[0]; i++) {
            size_t len = strlen(units[i].unit);
            /* "m" must not swallow the "m" of "ms". */
            if (strncmp(p, units[i].unit, len) == 0 && !(len == 1 && p[0] == 'm' && p[1] == 's')) {
                scale = units[i].ms;
                p += len;
            }
        }
        if (!scale || n > MAX_DURATION_MS / scale) return -1;
        total += n * scale;
        if (total > MAX_DURATION_MS) return -1;
    }
    if (total == 0) return -1;
    *ms = total;
    return 0;
}

/* ---- Typed accessors -------------------------------------------------------- */

/* A string value without embedded NUL bytes, or an error naming what. */
static int want_string(vctx *c, const json_value *v, const char *what, bool allow_empty)
{
    if (v->type != JSON_STRING)
        return verr(c, v, "%s: expected a string, found %s", what, otelc__json_type_name(v->type));
    if (strlen(v->u.string.ptr) != v->u.string.len)
        return verr(c, v, "%s: the string contains a NUL character", what);
    if (!allow_empty && v->u.string.len == 0) return verr(c, v, "%s: must not be empty", what);
    return 0;
}

static int dup_string(vctx *c, const json_value *v, const char *what, bool allow_empty, char **out)
{
    if (want_string(c, v, what, allow_empty) < 0) return -1;
    *out = strdup(v->u.string.ptr);
    return *out ? 0 : verr(c, NULL, "out of memory");
}

/* A string or a list of strings, as a NULL-terminated malloc'd array. */
static int string_list(vctx *c, const json_value *v, const char *what, char ***out, size_t *count)
{
    size_t n = v->type == JSON_ARRAY ? v->u.array.count : 1;
    if (v->type != JSON_ARRAY && v->type != JSON_STRING)
        return verr(c, v, "%s: expected a string or a list of strings, found %s", what,
                    otelc__json_type_name(v->type));
    char **list = calloc(n + 1, sizeof *list);
    if (!list) return verr(c, NULL, "out of memory");
    *out = list;
    *count = 0;
    for (size_t i = 0; i < n; i++) {
        const json_value *item = v->type == JSON_ARRAY ? v->u.array.items[i] : v;
        if (dup_string(c, item, what, false, &list[i]) < 0) return -1;
        (*count)++;
    }
    return 0;
}

/* Reject unknown and repeated keys: typos such as "depends-on" must not pass silently. */
static int check_keys(vctx *c, const json_value *obj, const char *where, const char *const *known)
{
    for (size_t i = 0; i < obj->u.object.count; i++) {
        const json_member *m = &obj->u.object.members[i];
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++) ok = strcmp(m->key, *k) == 0;
        if (!ok) return verr(c, m->value, "%s: unknown key \"%s\"", where, m->key);
        for (size_t j = 0; j < i; j++)
            if (strcmp(obj->u.object.members[j].key, m->key) == 0)
                return verr(c, m->value, "%s: key \"%s\" given twice", where, m->key);
    }
    return 0;
}

/* ---- Steps ---------------------------------------------------------------- */

static bool env_name_ok(const char *s)
{
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_')) return false;
    for (s++; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

/*
 * The text of a scalar: YAML gives `sleep 5` or `PORT: 8080` as numbers,
 * and they are wanted as arguments and values. Numbers take the shortest
 * form that reads back the same (1.1, not 1.1000000000000001).
 */
static const char *scalar_text(const json_value *v, char text[32])
{
    if (v->type == JSON_STRING) return v->u.string.ptr;
    if (v->type == JSON_BOOL) return v->u.boolean ? "true" : "false";
    double d = v->u.number.d;
    if (v->u.number.is_int) /* exact, however large */
        snprintf(text, 32, "%" PRId64, v->u.number.i);
    else if (v->u.number.is_uint)
        snprintf(text, 32, "%" PRIu64, v->u.number.u);
    else if (snprintf(text, 32, "%.15g", d), otelc__strtod(text, NULL) != d)
        snprintf(text, 32, "%.17g", d);
    return text;
}

/* "NAME=value" for one env entry. */
static char *env_entry(const char *name, const json_value *v)
{
    char text[32];
    const char *value = scalar_text(v, text);
    size_t n = strlen(name) + strlen(value) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s=%s", name, value);
    return s;
}

static int step_env(vctx *c, pipeline_step *st, const json_value *v, const char *where)
{
    if (v->type != JSON_OBJECT)
        return verr(c, v, "%s: env: expected a map of NAME: value, found %s", where,
                    otelc__json_type_name(v->type));
    st->env = calloc(v->u.object.count + 1, sizeof *st->env);
    if (!st->env) return verr(c, NULL, "out of memory");
    for (size_t i = 0; i < v->u.object.count; i++) {
        const json_member *m = &v->u.object.members[i];
        if (!env_name_ok(m->key) || strlen(m->key) != m->key_len)
            return verr(c, m->value, "%s: env: \"%s\" is not a valid variable name", where, m->key);
        for (size_t j = 0; j < i; j++)
            if (strcmp(v->u.object.members[j].key, m->key) == 0)
                return verr(c, m->value, "%s: env: \"%s\" given twice", where, m->key);
        if (m->value->type == JSON_STRING && want_string(c, m->value, where, true) < 0) return -1;
        if (m->value->type != JSON_STRING && m->value->type != JSON_NUMBER &&
            m->value->type != JSON_BOOL)
            return verr(c, m->value, "%s: env: %s: expected a string, found %s", where, m->key,
                        otelc__json_type_name(m->value->type));
        if (!(st->env[st->env_count++] = env_entry(m->key, m->value)))
            return verr(c, NULL, "out of memory");
    }
    return 0;
}

static int step_command(vctx *c, pipeline_step *st, const json_value *v, const char *where)
{
    char what[320];
    snprintf(what, sizeof what, "%s: command", where);
    if (v->type == JSON_STRING) return dup_string(c, v, what, false, &st->shell);
    if (v->type != JSON_ARRAY || v->u.array.count == 0)
        return verr(c, v, "%s: expected a string or a non-empty list of arguments", what);
    st->argv = calloc(v->u.array.count + 1, sizeof *st->argv);
    if (!st->argv) return verr(c, NULL, "out of memory");
    for (size_t i = 0; i < v->u.array.count; i++) {
        const json_value *arg = v->u.array.items[i];
        char text[32];
        if (arg->type == JSON_NUMBER || arg->type == JSON_BOOL) {
            if (!(st->argv[i] = strdup(scalar_text(arg, text))))
                return verr(c, NULL, "out of memory");
        } else if (dup_string(c, arg, what, i > 0, &st->argv[i]) < 0) {
            return -1;
        }
        st->argc++;
    }
    return 0;
}

static int step_timeout(vctx *c, pipeline_step *st, const json_value *v, const char *where)
{
    char text[64];
    double d = v->type == JSON_NUMBER ? v->u.number.d : 0;
    if (v->type == JSON_NUMBER && d >= 1 && d <= 1e9 && d == (double)(uint64_t)d)
        snprintf(text, sizeof text, "%llu", (unsigned long long)d);
    else if (v->type == JSON_STRING && v->u.string.len < sizeof text)
        memcpy(text, v->u.string.ptr, v->u.string.len + 1);
    else
        text[0] = '\0';
    if (pipeline_parse_duration(text, &st->timeout_ms) < 0)
        return verr(c, v, "%s: timeout: invalid duration%s%s%s (use e.g. 500ms, 30s, 5m, 1h30m)",
                    where, v->type == JSON_STRING ? " \"" : "",
                    v->type == JSON_STRING ? v->u.string.ptr : "",
                    v->type == JSON_STRING ? "\"" : "");
    return 0;
}

static const char *const step_keys[] = {
    "name",    "command", "env", "working_directory", "depends_on", "allow_failure", "timeout",
    "outputs", "type",    NULL,
};

/* "where: key" for messages about one key of a step. */
static const char *at_key(char *out, size_t size, const char *where, const char *key)
{
    snprintf(out, size, "%s: %s", where, key);
    return out;
}

/* The fields of one step except depends_on, which needs every name first. */
static int step_fields(vctx *c, pipeline_step *st, const json_value *v, const char *where)
{
    const json_value *f;
    char w[320];
    if (check_keys(c, v, where, step_keys) < 0) return -1;
    if (!(f = otelc__json_object_get(v, "command")))
        return verr(c, v, "%s: the \"command\" key is required", where);
    if (step_command(c, st, f, where) < 0) return -1;
    if ((f = otelc__json_object_get(v, "env")) && step_env(c, st, f, where) < 0) return -1;
    if ((f = otelc__json_object_get(v, "working_directory")) &&
        dup_string(c, f, at_key(w, sizeof w, where, "working_directory"), false,
                   &st->working_directory) < 0)
        return -1;
    if ((f = otelc__json_object_get(v, "allow_failure"))) {
        if (f->type != JSON_BOOL)
            return verr(c, f, "%s: allow_failure: expected true or false, found %s", where,
                        otelc__json_type_name(f->type));
        st->allow_failure = f->u.boolean;
    }
    if ((f = otelc__json_object_get(v, "timeout")) && step_timeout(c, st, f, where) < 0) return -1;
    if ((f = otelc__json_object_get(v, "outputs")) &&
        string_list(c, f, at_key(w, sizeof w, where, "outputs"), &st->outputs, &st->output_count) <
            0)
        return -1;
    if ((f = otelc__json_object_get(v, "type")) &&
        dup_string(c, f, at_key(w, sizeof w, where, "type"), false, &st->type) < 0)
        return -1;
    return 0;
}

static int step_deps(vctx *c, pipeline *p, size_t idx, const json_value *v)
{
    pipeline_step *st = &p->steps[idx];
    const json_value *f = otelc__json_object_get(v, "depends_on");
    if (!f) return 0;
    char **names = NULL;
    size_t n = 0;
    char what[320];
    snprintf(what, sizeof what, "step \"%.200s\": depends_on", st->name);
    int rc = string_list(c, f, what, &names, &n);
    if (rc == 0 && !(st->deps = calloc(n ? n : 1, sizeof *st->deps)))
        rc = verr(c, NULL, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const json_value *at = f->type == JSON_ARRAY ? f->u.array.items[i] : f;
        size_t d = 0;
        while (d < p->count && strcmp(p->steps[d].name, names[i]) != 0) d++;
        if (d == p->count) {
            rc = verr(c, at, "step \"%s\": depends_on: unknown step \"%s\"", st->name, names[i]);
            break;
        }
        bool seen = false;
        for (size_t k = 0; k < st->dep_count; k++) seen |= st->deps[k] == d;
        if (!seen) st->deps[st->dep_count++] = d;
    }
    for (size_t i = 0; names && names[i]; i++) free(names[i]);
    free(names);
    return rc;
}

/* ---- Cycles --------------------------------------------------------------- */

enum { WHITE, GREY, BLACK };

/* Depth-first search; on a back edge, writes the cycle as "a -> b -> a" into path. */
static bool find_cycle(const pipeline *p, size_t s, unsigned char *color, size_t *stack,
                       size_t depth, char *path, size_t path_size)
{
    color[s] = GREY;
    stack[depth] = s;
    for (size_t i = 0; i < p->steps[s].dep_count; i++) {
        size_t d = p->steps[s].deps[i];
        if (color[d] == GREY) {
            size_t from = 0, used = 0;
            while (stack[from] != d) from++;
            for (size_t k = from; k <= depth && used < path_size; k++)
                used += (size_t)snprintf(path + used, path_size - used, "%s -> ",
                                         p->steps[stack[k]].name);
            if (used < path_size) snprintf(path + used, path_size - used, "%s", p->steps[d].name);
            return true;
        }
        if (color[d] == WHITE && find_cycle(p, d, color, stack, depth + 1, path, path_size))
            return true;
    }
    color[s] = BLACK;
    return false;
}

static int check_cycles(vctx *c, const pipeline *p, const json_value *steps)
{
    unsigned char *color = calloc(p->count, 1);
    size_t *stack = calloc(p->count, sizeof *stack);
    int rc = color && stack ? 0 : verr(c, NULL, "out of memory");
    for (size_t s = 0; rc == 0 && s < p->count; s++) {
        char path[512];
        if (color[s] != WHITE || !find_cycle(p, s, color, stack, 0, path, sizeof path)) continue;
        const json_value *at = otelc__json_object_get(steps->u.array.items[s], "depends_on");
        rc = verr(c, at, "step \"%s\": depends_on: dependency cycle: %s", p->steps[s].name, path);
    }
    free(color);
    free(stack);
    return rc;
}

/* ---- The document ----------------------------------------------------------- */

static char *default_name(const char *file)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    return strndup(n ? base : "pipeline", n ? n : 8);
}

/* Names first (unique, non-empty) so that depends_on may refer forwards. */
static int step_names(vctx *c, pipeline *p, const json_value *steps)
{
    for (size_t i = 0; i < p->count; i++) {
        const json_value *v = steps->u.array.items[i];
        char where[64];
        snprintf(where, sizeof where, "steps[%zu]", i);
        if (v->type != JSON_OBJECT)
            return verr(c, v, "%s: expected a map (name, command, ...), found %s", where,
                        otelc__json_type_name(v->type));
        const json_value *name = otelc__json_object_get(v, "name");
        if (!name) return verr(c, v, "%s: the \"name\" key is required", where);
        if (dup_string(c, name, "name", false, &p->steps[i].name) < 0) return -1;
        p->steps[i].line = v->line;
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->steps[j].name, p->steps[i].name) == 0)
                return verr(c, name, "%s: duplicate step name \"%s\" (first declared on line %u)",
                            where, p->steps[i].name, p->steps[j].line);
    }
    return 0;
}

static int validate(vctx *c, const json_value *root, pipeline *p)
{
    if (root->type != JSON_OBJECT)
        return verr(c, root, "expected a map with \"name\" and \"steps\", found %s",
                    otelc__json_type_name(root->type));
    if (check_keys(c, root, "pipeline", (const char *const[]){"name", "steps", NULL}) < 0)
        return -1;
    const json_value *name = otelc__json_object_get(root, "name");
    if (name && dup_string(c, name, "name", false, &p->name) < 0) return -1;
    if (!name && !(p->name = default_name(c->file))) return verr(c, NULL, "out of memory");
    const json_value *steps = otelc__json_object_get(root, "steps");
    if (!steps) return verr(c, root, "the \"steps\" key is required");
    if (steps->type != JSON_ARRAY || steps->u.array.count == 0)
        return verr(c, steps, "steps: expected a non-empty list of steps");
    if (steps->u.array.count > PIPELINE_MAX_STEPS)
        return verr(c, steps, "steps: more than %d steps", PIPELINE_MAX_STEPS);
    if (!(p->steps = calloc(steps->u.array.count, sizeof *p->steps)))
        return verr(c, NULL, "out of memory");
    p->count = steps->u.array.count;
    if (step_names(c, p, steps) < 0) return -1;
    for (size_t i = 0; i < p->count; i++) {
        char where[220];
        snprintf(where, sizeof where, "step \"%.200s\"", p->steps[i].name);
        if (step_fields(c, &p->steps[i], steps->u.array.items[i], where) < 0) return -1;
    }
    for (size_t i = 0; i < p->count; i++)
        if (step_deps(c, p, i, steps->u.array.items[i]) < 0) return -1;
    return check_cycles(c, p, steps);
}

/* ---- YAML to the JSON tree ---------------------------------------------------- */

#ifdef OTELC_HAVE_YAML
#define YAML_MAX_DEPTH 64
#define YAML_MAX_NODES 100000 /* aliases can multiply nodes: bound the expansion */

typedef struct yconv {
    json_doc *out; /* the tree being built */
    yaml_document_t *doc;
    size_t nodes;
    vctx *c;
} yconv;

/* A number as YAML 1.2's core schema reads it (decimal only: no hex, inf or nan). */
static bool yaml_number(const char *s, size_t len, double *out)
{
    if (!len || strlen(s) != len || !strchr("+-.0123456789", s[0]) || strpbrk(s, "xXpP"))
        return false;
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return *end == '\0' && errno == 0 && isfinite(*out);
}

/* A plain scalar's type under the core schema: null, bool, number, else string. */
static json_value *yaml_plain(json_doc *out, const char *s, size_t len, unsigned line, unsigned col)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    static const char *const trues[] = {"true", "True", "TRUE"};
    static const char *const falses[] = {"false", "False", "FALSE"};
    json_value *v = NULL;
    double d;
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        if (strcmp(s, nulls[i]) == 0) return otelc__json_new(out, JSON_NULL, line, col);
    for (size_t i = 0; i < sizeof trues / sizeof trues[0]; i++) {
        bool t = strcmp(s, trues[i]) == 0;
        if (!t && strcmp(s, falses[i]) != 0) continue;
        if ((v = otelc__json_new(out, JSON_BOOL, line, col))) v->u.boolean = t;
        return v;
    }
    if (!yaml_number(s, len, &d)) return otelc__json_new_string(out, s, len, line, col);
    if ((v = otelc__json_new(out, JSON_NUMBER, line, col))) v->u.number.d = d;
    return v;
}

static json_value *yaml_node(yconv *y, yaml_node_t *n, unsigned depth);

static json_value *yaml_container(yconv *y, yaml_node_t *n, unsigned depth, unsigned line,
                                  unsigned col)
{
    bool map = n->type == YAML_MAPPING_NODE;
    json_value *v = otelc__json_new(y->out, map ? JSON_OBJECT : JSON_ARRAY, line, col);
    if (!v) return NULL;
    if (!map) {
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            json_value *item = yaml_node(y, yaml_document_get_node(y->doc, *it), depth + 1);
            if (!item || otelc__json_array_push(y->out, v, item) < 0) return NULL;
        }
        return v;
    }
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = yaml_document_get_node(y->doc, pr->key);
        if (!k || k->type != YAML_SCALAR_NODE) {
            verr(y->c, v, "mapping keys must be plain strings");
            return NULL;
        }
        json_value *item = yaml_node(y, yaml_document_get_node(y->doc, pr->value), depth + 1);
        if (!item || otelc__json_object_add(y->out, v, (const char *)k->data.scalar.value,
                                            k->data.scalar.length, item) < 0)
            return NULL;
    }
    return v;
}

static json_value *yaml_node(yconv *y, yaml_node_t *n, unsigned depth)
{
    if (!n) return verr(y->c, NULL, "malformed YAML document"), NULL;
    unsigned line = (unsigned)n->start_mark.line + 1, col = (unsigned)n->start_mark.column + 1;
    json_value at = {.line = line, .column = col};
    if (depth > YAML_MAX_DEPTH || ++y->nodes > YAML_MAX_NODES) {
        verr(y->c, &at, "document too deep or too large (aliases expanded)");
        return NULL;
    }
    json_value *v;
    if (n->type == YAML_SCALAR_NODE) {
        const char *s = (const char *)n->data.scalar.value;
        size_t len = n->data.scalar.length;
        v = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
                ? yaml_plain(y->out, s, len, line, col)
                : otelc__json_new_string(y->out, s, len, line, col);
    } else {
        v = yaml_container(y, n, depth, line, col);
    }
    if (!v && !y->c->err[0]) verr(y->c, &at, "out of memory");
    return v;
}

/* The YAML document as a tree in out; its root, or NULL after reporting why. */
static json_value *yaml_tree(vctx *c, json_doc *out, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    json_value *root = NULL;
    if (!yaml_parser_initialize(&parser)) return verr(c, NULL, "out of memory"), NULL;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        json_value at = {.line = (unsigned)parser.problem_mark.line + 1,
                         .column = (unsigned)parser.problem_mark.column + 1};
        verr(c, &at, "invalid YAML: %s%s%s", parser.problem ? parser.problem : "syntax error",
             parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return NULL;
    }
    yaml_node_t *top = yaml_document_get_root_node(&doc);
    if (!top)
        verr(c, NULL, "the file is empty");
    else
        root = out->root = yaml_node(&(yconv){.out = out, .doc = &doc, .c = c}, top, 0);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return root;
}
#endif

static json_value *json_tree(vctx *c, json_doc *out, const char *text, size_t len)
{
    json_error e;
    json_value *root =
        otelc__json_parse(out, text, len, &(json_options){.max_size = PIPELINE_MAX_SIZE}, &e);
    if (!root) {
        json_value at = {.line = e.line, .column = e.column};
        verr(c, &at, "invalid JSON: %s", e.message);
    }
    return root;
}

static pipeline_format sniff(const char *file, const char *text, size_t len)
{
    const char *dot = strrchr(file, '.');
    if (dot && strcmp(dot, ".json") == 0) return PIPELINE_JSON;
    if (dot && (strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0)) return PIPELINE_YAML;
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", text[i])) i++;
    return i < len && (text[i] == '{' || text[i] == '[') ? PIPELINE_JSON : PIPELINE_YAML;
}

void pipeline_free(pipeline *p)
{
    if (!p) return;
    for (size_t i = 0; p->steps && i < p->count; i++) {
        pipeline_step *st = &p->steps[i];
        free(st->name);
        free(st->shell);
        for (size_t k = 0; st->argv && st->argv[k]; k++) free(st->argv[k]);
        free(st->argv);
        for (size_t k = 0; k < st->env_count; k++) free(st->env[k]);
        free(st->env);
        free(st->working_directory);
        free(st->deps);
        free(st->type);
        for (size_t k = 0; st->outputs && st->outputs[k]; k++) free(st->outputs[k]);
        free(st->outputs);
    }
    free(p->steps);
    free(p->name);
    free(p);
}

int pipeline_parse(const char *text, size_t len, const char *file, pipeline_format format,
                   pipeline **out, char *err, size_t err_size)
{
    char scratch[1];
    vctx c = {file ? file : "pipeline", err_size ? err : scratch, err_size ? err_size : 1};
    c.err[0] = '\0';
    *out = NULL;
    if (format == PIPELINE_AUTO) format = sniff(c.file, text, len);
#ifdef OTELC_HAVE_YAML
    json_doc doc = JSON_DOC_INIT;
    json_value *root =
        format == PIPELINE_YAML ? yaml_tree(&c, &doc, text, len) : json_tree(&c, &doc, text, len);
#else
    if (format == PIPELINE_YAML)
        return verr(&c, NULL,
                    "YAML pipelines need libyaml, which this otelc was built without; "
                    "write the pipeline as JSON");
    json_doc doc = JSON_DOC_INIT;
    json_value *root = json_tree(&c, &doc, text, len);
#endif
    pipeline *p = root ? calloc(1, sizeof *p) : NULL;
    int rc = !root ? -1 : p ? validate(&c, root, p) : verr(&c, NULL, "out of memory");
    otelc__json_free(&doc);
    if (rc < 0) {
        pipeline_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

/* The whole file, NUL-terminated, refusing anything larger than a pipeline can sensibly be. */
static char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    char *data = NULL;
    size_t n = 0;
    int e = 0;
    if (fstat(fd, &st) < 0)
        e = errno;
    else if (S_ISDIR(st.st_mode))
        e = EISDIR;
    else if (!(data = malloc(PIPELINE_MAX_SIZE + 1)))
        e = ENOMEM;
    while (!e) {
        ssize_t r = read(fd, data + n, PIPELINE_MAX_SIZE + 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) e = errno;
        if (r <= 0) break;
        n += (size_t)r;
        if (n > PIPELINE_MAX_SIZE) e = EFBIG;
    }
    close(fd);
    if (e) {
        free(data);
        errno = e;
        return NULL;
    }
    data[n] = '\0';
    *len = n;
    return data;
}

int pipeline_load(const char *path, pipeline **out, char *err, size_t err_size)
{
    size_t len = 0;
    char *text = read_file(path, &len);
    *out = NULL;
    if (!text) {
        snprintf(err, err_size, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    int rc = pipeline_parse(text, len, path, PIPELINE_AUTO, out, err, err_size);
    free(text);
    return rc;
}
