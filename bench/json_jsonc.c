/*
 * json_jsonc.c - bench_json's json-c parser: a file of its own because
 * json-c's names (json_type, json_object) clash with jansson's and ours.
 */
#include <json-c/json.h>
#include <stdlib.h>

void bench_parse_jsonc(const char *text, size_t len);

void bench_parse_jsonc(const char *text, size_t len)
{
    json_tokener *tok = json_tokener_new();
    struct json_object *root = tok ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
    if (!root) abort();
    json_object_put(root);
    json_tokener_free(tok);
}
