/*
 * json.c - the JSON tree (json.h): built from the reader's tokens
 * (json_reader.c), looked up, built by hand, and written.
 *
 * Memory is what made the first version of this parser slow (a malloc per
 * node, key and string, and a realloc per string byte: more than half the
 * time). Now nodes, keys and strings are bump-allocated from the
 * document's arena, in chunks that double as the document grows. While a
 * container is open its children wait on a stack the builder reuses (one
 * for array items, one for object members); at the closing bracket they
 * are copied into an exactly-sized list in the arena. Recursion follows
 * the nesting, which the reader bounds.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define FIRST_CHUNK 4096
#define MAX_CHUNK   ((size_t)1 << 20)

typedef struct builder {
    json_reader r;
    json_token t;
    json_doc *doc;
    json_value **items; /* children of the open arrays, innermost last */
    size_t items_len, items_cap;
    json_member *members; /* members of the open objects, innermost last */
    size_t members_len, members_cap;
    bool nomem;
} builder;

/* ---- Memory ---------------------------------------------------------------- */

/* From the document's arena; a new chunk, twice the last, when the block is full. */
static void *doc_alloc(json_doc *d, size_t size, size_t align)
{
    otelc_arena *a = &d->arena;
    if (!a->pos || (size_t)(a->end - a->pos) < size + align) {
        size_t chunk = d->next_chunk ? d->next_chunk : FIRST_CHUNK;
        if (chunk < MAX_CHUNK) d->next_chunk = chunk * 2;
        if (!otelc__arena_reserve(a, chunk > size + align ? chunk : size + align)) return NULL;
    }
    return otelc__arena_alloc(a, size, align);
}

static json_value *node(json_doc *d, json_type type, unsigned line, unsigned column)
{
    json_value *v = doc_alloc(d, sizeof *v, _Alignof(json_value));
    if (!v) return NULL;
    memset(v, 0, sizeof *v);
    v->type = type;
    v->line = line;
    v->column = column;
    return v;
}

/* A NUL-terminated copy of s[0..n) in the document. */
static char *doc_strdup(json_doc *d, const char *s, size_t n)
{
    char *copy = doc_alloc(d, n + 1, 1);
    if (!copy) return NULL;
    if (n) memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

/* Room for one more element on a builder stack of elem-sized entries. */
static bool stack_room(void **stack, size_t len, size_t *cap, size_t elem)
{
    if (len < *cap) return true;
    size_t n = *cap ? *cap * 2 : 64;
    if (n > SIZE_MAX / elem) return false;
    void *p = realloc(*stack, n * elem);
    if (!p) return false;
    *stack = p;
    *cap = n;
    return true;
}

/* Out of memory in the builder (the reader records its own); NULL for the caller. */
static json_value *build_nomem(builder *bd)
{
    bd->nomem = true;
    return NULL;
}

/* ---- Building from tokens ------------------------------------------------------ */

static json_value *build_value(builder *bd);

/* The array whose items are on the stack from base: moved into the arena. */
static json_value *close_array(builder *bd, size_t base, unsigned line, unsigned column)
{
    json_value *v = node(bd->doc, JSON_ARRAY, line, column);
    size_t n = bd->items_len - base;
    json_value **items = n ? doc_alloc(bd->doc, n * sizeof *items, _Alignof(json_value *)) : NULL;
    if (!v || (n && !items)) return build_nomem(bd);
    if (n) memcpy(items, bd->items + base, n * sizeof *items);
    v->u.array.items = items;
    v->u.array.count = n;
    bd->items_len = base;
    return v;
}

static json_value *build_array(builder *bd, unsigned line, unsigned column)
{
    size_t base = bd->items_len;
    while (otelc__json_next(&bd->r, &bd->t) != JSON_TOKEN_ARRAY_END) {
        json_value *item = build_value(bd);
        if (!item) return NULL;
        if (!stack_room((void **)&bd->items, bd->items_len, &bd->items_cap, sizeof *bd->items))
            return build_nomem(bd);
        bd->items[bd->items_len++] = item;
    }
    return close_array(bd, base, line, column);
}

static json_value *close_object(builder *bd, size_t base, unsigned line, unsigned column)
{
    json_value *v = node(bd->doc, JSON_OBJECT, line, column);
    size_t n = bd->members_len - base;
    json_member *members =
        n ? doc_alloc(bd->doc, n * sizeof *members, _Alignof(json_member)) : NULL;
    if (!v || (n && !members)) return build_nomem(bd);
    if (n) memcpy(members, bd->members + base, n * sizeof *members);
    v->u.object.members = members;
    v->u.object.count = n;
    bd->members_len = base;
    return v;
}

static json_value *build_object(builder *bd, unsigned line, unsigned column)
{
    size_t base = bd->members_len;
    while (otelc__json_next(&bd->r, &bd->t) == JSON_TOKEN_KEY) {
        json_member m = {.key_len = bd->t.len};
        if (!(m.key = doc_strdup(bd->doc, bd->t.str, bd->t.len))) return build_nomem(bd);
        otelc__json_next(&bd->r, &bd->t);
        if (!(m.value = build_value(bd))) return NULL;
        if (!stack_room((void **)&bd->members, bd->members_len, &bd->members_cap, sizeof m))
            return build_nomem(bd);
        bd->members[bd->members_len++] = m;
    }
    if (bd->t.type != JSON_TOKEN_OBJECT_END) return NULL; /* the reader failed */
    return close_object(bd, base, line, column);
}

/* The value whose first token is bd->t. */
static json_value *build_value(builder *bd)
{
    const json_token *t = &bd->t;
    json_value *v;
    switch (t->type) {
    case JSON_TOKEN_OBJECT_BEGIN:
        return build_object(bd, t->line, t->column);
    case JSON_TOKEN_ARRAY_BEGIN:
        return build_array(bd, t->line, t->column);
    case JSON_TOKEN_STRING:
        v = node(bd->doc, JSON_STRING, t->line, t->column);
        if (!v || !(v->u.string.ptr = doc_strdup(bd->doc, t->str, t->len))) return build_nomem(bd);
        v->u.string.len = t->len;
        return v;
    case JSON_TOKEN_NUMBER:
        if (!(v = node(bd->doc, JSON_NUMBER, t->line, t->column))) return build_nomem(bd);
        v->u.number = t->number;
        return v;
    case JSON_TOKEN_BOOL:
    case JSON_TOKEN_NULL:
        v = node(bd->doc, t->type == JSON_TOKEN_BOOL ? JSON_BOOL : JSON_NULL, t->line, t->column);
        if (!v) return build_nomem(bd);
        v->u.boolean = t->boolean;
        return v;
    default:
        return NULL; /* ERROR: the reader says why */
    }
}

json_value *otelc__json_parse(json_doc *doc, const char *text, size_t len,
                              const json_options *options, json_error *err)
{
    builder bd = {.doc = doc};
    otelc__json_reader_init(&bd.r, text, len, options);
    otelc__json_next(&bd.r, &bd.t);
    json_value *root = build_value(&bd);
    if (root && otelc__json_next(&bd.r, &bd.t) != JSON_TOKEN_END) root = NULL;
    if (err) {
        *err = bd.r.error;
        if (!root && bd.nomem && !bd.r.failed)
            *err = (json_error){.kind = JSON_ERR_NOMEM,
                                .line = bd.t.line,
                                .column = bd.t.column,
                                .message = "out of memory"};
    }
    otelc__json_reader_free(&bd.r);
    free(bd.items);
    free(bd.members);
    if (!root) otelc__json_free(doc);
    doc->root = root;
    return root;
}

void otelc__json_free(json_doc *doc)
{
    otelc__arena_free(&doc->arena);
    *doc = (json_doc){0};
}

/* ---- Lookups ----------------------------------------------------------------------- */

const json_value *otelc__json_object_get(const json_value *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT || !key) return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < obj->u.object.count; i++) {
        const json_member *m = &obj->u.object.members[i];
        if (m->key_len == n && memcmp(m->key, key, n) == 0) return m->value;
    }
    return NULL;
}

const char *otelc__json_type_name(json_type type)
{
    static const char *const names[] = {"null", "boolean", "number", "string", "array", "object"};
    return (unsigned)type < sizeof names / sizeof names[0] ? names[type] : "?";
}

/* Decimal digits of s[0..n) (n >= 1) into *out; false on another byte or overflow. */
static bool decimal_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0) return false;
    if (n <= 19) { /* cannot overflow: times in nanoseconds take this path */
        for (size_t i = 0; i < n; i++) {
            unsigned d = (unsigned char)s[i] - '0';
            if (d > 9) return false;
            v = v * 10 + d;
        }
        *out = v;
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9 || v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* 2^53: every integer up to it is exact in a double. */
#define EXACT_DOUBLE 9007199254740992.0

bool otelc__json_number_int64(const json_number *n, int64_t *out)
{
    if (n->is_int) return *out = n->i, true;
    /* "1e3" and "5.0" are integers too, when the double holds them exactly. */
    if (n->is_uint || n->d != floor(n->d) || fabs(n->d) > EXACT_DOUBLE) return false;
    return *out = (int64_t)n->d, true;
}

bool otelc__json_number_uint64(const json_number *n, uint64_t *out)
{
    if (n->is_uint) return *out = n->u, true;
    if (n->is_int || n->d < 0 || n->d != floor(n->d) || n->d > EXACT_DOUBLE) return false;
    return *out = (uint64_t)n->d, true;
}

bool otelc__json_decimal_int64(const char *s, size_t len, int64_t *out)
{
    bool neg = len && s[0] == '-';
    uint64_t mag;
    if (!decimal_u64(s + neg, len - neg, &mag) || mag > (uint64_t)INT64_MAX + neg) return false;
    *out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : neg ? -(int64_t)mag : (int64_t)mag;
    return true;
}

bool otelc__json_decimal_uint64(const char *s, size_t len, uint64_t *out)
{
    return decimal_u64(s, len, out);
}

bool otelc__json_int64(const json_value *v, int64_t *out)
{
    if (!v) return false;
    if (v->type == JSON_NUMBER) return otelc__json_number_int64(&v->u.number, out);
    return v->type == JSON_STRING &&
           otelc__json_decimal_int64(v->u.string.ptr, v->u.string.len, out);
}

bool otelc__json_uint64(const json_value *v, uint64_t *out)
{
    if (!v) return false;
    if (v->type == JSON_NUMBER) return otelc__json_number_uint64(&v->u.number, out);
    return v->type == JSON_STRING && decimal_u64(v->u.string.ptr, v->u.string.len, out);
}

/* ---- Building trees ---------------------------------------------------------------- */

json_value *otelc__json_new(json_doc *doc, json_type type, unsigned line, unsigned column)
{
    return node(doc, type, line, column);
}

json_value *otelc__json_new_string(json_doc *doc, const char *s, size_t len, unsigned line,
                                   unsigned column)
{
    json_value *v = node(doc, JSON_STRING, line, column);
    char *copy = v ? doc_alloc(doc, len + 1, 1) : NULL;
    if (!copy) return NULL;
    if (len) memcpy(copy, s, len);
    copy[len] = '\0';
    v->u.string.ptr = copy;
    v->u.string.len = len;
    return v;
}

/*
 * Make room for one more element in a built list. The capacity is implicit
 * (4, then doubling), so a list is full exactly when its count is 0 or a
 * power of two >= 4; a full list moves to a new block twice its size (the
 * old one stays in the arena until the document goes).
 */
static bool grow(json_doc *doc, void **items, size_t count, size_t elem)
{
    if (count != 0 && (count < 4 || (count & (count - 1)))) return true;
    size_t cap = count ? count * 2 : 4;
    if (cap > SIZE_MAX / elem) return false;
    void *p = doc_alloc(doc, cap * elem, _Alignof(max_align_t));
    if (!p) return false;
    if (count) memcpy(p, *items, count * elem);
    *items = p;
    return true;
}

int otelc__json_array_push(json_doc *doc, json_value *array, json_value *item)
{
    if (!array || array->type != JSON_ARRAY || !item) return -1;
    void *items = array->u.array.items;
    if (!grow(doc, &items, array->u.array.count, sizeof(json_value *))) return -1;
    array->u.array.items = items;
    array->u.array.items[array->u.array.count++] = item;
    return 0;
}

int otelc__json_object_add(json_doc *doc, json_value *object, const char *key, size_t key_len,
                           json_value *value)
{
    if (!object || object->type != JSON_OBJECT || !value) return -1;
    char *copy = doc_alloc(doc, key_len + 1, 1);
    if (!copy) return -1;
    if (key_len) memcpy(copy, key, key_len);
    copy[key_len] = '\0';
    void *members = object->u.object.members;
    if (!grow(doc, &members, object->u.object.count, sizeof(json_member))) return -1;
    object->u.object.members = members;
    object->u.object.members[object->u.object.count++] = (json_member){copy, key_len, value};
    return 0;
}

/* ---- Writing ------------------------------------------------------------------------ */

void otelc__json_write_string(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(f, "\\u%04x", c);
            else
                fputc(c, f);
        }
    }
    fputc('"', f);
}

static void write_number(FILE *f, const json_number *n)
{
    char text[32];
    if (n->is_int)
        snprintf(text, sizeof text, "%" PRId64, n->i);
    else if (n->is_uint)
        snprintf(text, sizeof text, "%" PRIu64, n->u);
    else if (n->d == floor(n->d) && fabs(n->d) < EXACT_DOUBLE)
        snprintf(text, sizeof text, "%.0f", n->d);
    else
        snprintf(text, sizeof text, "%.17g", n->d);
    for (char *c = text; *c; c++) /* printf follows LC_NUMERIC; JSON wants a point */
        if (*c == ',') *c = '.';
    fputs(text, f);
}

void otelc__json_write(FILE *f, const json_value *v)
{
    switch (v->type) {
    case JSON_NULL:
        fputs("null", f);
        break;
    case JSON_BOOL:
        fputs(v->u.boolean ? "true" : "false", f);
        break;
    case JSON_NUMBER:
        write_number(f, &v->u.number);
        break;
    case JSON_STRING:
        otelc__json_write_string(f, v->u.string.ptr, v->u.string.len);
        break;
    case JSON_ARRAY:
        fputc('[', f);
        for (size_t i = 0; i < v->u.array.count; i++) {
            if (i) fputc(',', f);
            otelc__json_write(f, v->u.array.items[i]);
        }
        fputc(']', f);
        break;
    case JSON_OBJECT:
        fputc('{', f);
        for (size_t i = 0; i < v->u.object.count; i++) {
            const json_member *m = &v->u.object.members[i];
            if (i) fputc(',', f);
            otelc__json_write_string(f, m->key, m->key_len);
            fputc(':', f);
            otelc__json_write(f, m->value);
        }
        fputc('}', f);
        break;
    }
}
