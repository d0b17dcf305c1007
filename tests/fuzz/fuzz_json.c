/*
 * fuzz_json.c - the JSON reader (src/json.c, src/json_reader.c), strict
 * and lossy: no crash or leak on any input, errors always carry a position
 * inside the input, every string is valid UTF-8, the token reader skipping
 * the value accepts what the parser accepts, and a parsed document written
 * back out parses to the same tree (exact integers included, and numbers
 * read without strtod equal to those read with it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const json_value *a, const json_value *b)
{
    if (a->type != b->type) return 0;
    switch (a->type) {
    case JSON_BOOL:
        return a->u.boolean == b->u.boolean;
    case JSON_NUMBER: {
        /* An exact integer stays one; "1.0" may come back as the integer 1. */
        const json_number *x = &a->u.number, *y = &b->u.number;
        if (x->d != y->d) return 0;
        return !(x->is_int || x->is_uint) ||
               (x->is_int == y->is_int && x->is_uint == y->is_uint && x->u == y->u);
    }
    case JSON_STRING:
        if (!otelc__utf8_valid(a->u.string.ptr, a->u.string.len)) abort();
        return a->u.string.len == b->u.string.len &&
               memcmp(a->u.string.ptr, b->u.string.ptr, a->u.string.len) == 0;
    case JSON_ARRAY:
        if (a->u.array.count != b->u.array.count) return 0;
        for (size_t i = 0; i < a->u.array.count; i++)
            if (!same(a->u.array.items[i], b->u.array.items[i])) return 0;
        return 1;
    case JSON_OBJECT:
        if (a->u.object.count != b->u.object.count) return 0;
        for (size_t i = 0; i < a->u.object.count; i++) {
            const json_member *x = &a->u.object.members[i], *y = &b->u.object.members[i];
            if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0 ||
                !same(x->value, y->value))
                return 0;
        }
        return 1;
    default:
        return 1;
    }
}

/* The token reader skipping the whole value accepts exactly what the parser does. */
static bool skips(const char *data, size_t size, const json_options *options)
{
    json_reader r;
    json_token t;
    otelc__json_reader_init(&r, data, size, options);
    bool ok = otelc__json_next(&r, &t) != JSON_TOKEN_ERROR && otelc__json_skip(&r, &t) &&
              otelc__json_next(&r, &t) == JSON_TOKEN_END;
    otelc__json_reader_free(&r);
    return ok;
}

/* Parse, and check that what the writer makes of the tree reads back the same. */
static void round_trip(const char *data, size_t size, bool lossy)
{
    json_error err;
    json_options options = {.max_depth = 64, .max_size = 1 << 20, .lossy_utf8 = lossy};
    json_doc doc = JSON_DOC_INIT, again = JSON_DOC_INIT;
    json_value *v = otelc__json_parse(&doc, data, size, &options, &err);
    if ((v != NULL) != skips(data, size, &options)) abort();
    if (!v) {
        if (err.line < 1 || err.column < 1 || err.line > size + 1 || !err.message[0]) abort();
        if (doc.root || doc.arena.chunks) abort();
        return;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) abort();
    otelc__json_write(f, v);
    fclose(f);
    options.lossy_utf8 = false; /* what the writer wrote is valid */
    json_value *w = otelc__json_parse(&again, text, len, &options, &err);
    if (!w || !same(v, w)) abort();
    otelc__json_free(&again);
    otelc__json_free(&doc);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so that a read one past the end is caught. */
    char *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    round_trip(copy, size, false);
    round_trip(copy, size, true);
    free(copy);
    return 0;
}
