/*
 * json_jansson.c - bench_json's jansson parser: a file of its own because
 * jansson's names (json_type, JSON_OBJECT) are also the project's.
 */
#include <jansson.h>
#include <stdlib.h>

void bench_parse_jansson(const char *text, size_t len);

void bench_parse_jansson(const char *text, size_t len)
{
    json_error_t err;
    json_t *root = json_loadb(text, len, 0, &err);
    if (!root) abort();
    json_decref(root);
}
