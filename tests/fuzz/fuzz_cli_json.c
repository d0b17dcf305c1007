/*
 * fuzz_cli_json.c - the otelc command's JSON parser (cli/json.c): no crash
 * or leak on any input, errors always carry a position inside the input,
 * and a parsed document written back out parses to the same tree.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fuzz targets link only the library: compile the parser in. */
#include "../../cli/json.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const json_value *a, const json_value *b)
{
    if (a->type != b->type) return 0;
    switch (a->type) {
    case JSON_BOOL:
        return a->u.boolean == b->u.boolean;
    case JSON_NUMBER:
        return a->u.number == b->u.number;
    case JSON_STRING:
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error err;
    json_limits limits = {.max_depth = 64, .max_size = 1 << 20};
    json_value *v = json_parse((const char *)data, size, &limits, &err);
    if (!v) {
        if (err.line < 1 || err.column < 1 || err.line > size + 1 || !err.message[0]) abort();
        return 0;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) abort();
    json_write(f, v);
    fclose(f);
    json_value *again = json_parse(text, len, &limits, &err);
    if (!again || !same(v, again)) abort();
    json_free(again);
    json_free(v);
    free(text);
    return 0;
}
