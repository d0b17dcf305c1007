/*
 * json.h - a small JSON (RFC 8259) document parser for the otelc command.
 *
 * json_parse() turns a buffer into a tree of json_value nodes (a DOM) that
 * remembers where each value started, so callers validating a document can
 * report "file:line:column". Strings are decoded (escapes, \u surrogate
 * pairs), checked to be valid UTF-8 and stored NUL-terminated with their
 * length, since \u0000 may embed a NUL. Limits on nesting depth and input
 * size keep hostile input from exhausting the stack or memory.
 *
 * The builder functions (json_new, json_array_push, json_object_add) let
 * other front ends, such as the YAML pipeline reader, produce the same tree,
 * and json_write_string() is the matching escaper for writing JSON output.
 *
 * Nothing here is thread-unsafe: there is no global state.
 */
#ifndef OTELC_CLI_JSON_H
#define OTELC_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum json_type {
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
} json_type;

typedef struct json_value json_value;

/* One "key": value pair of an object; members keep document order. */
typedef struct json_member {
    char *key; /* NUL-terminated; key_len counts bytes (may hold \u0000) */
    size_t key_len;
    json_value *value;
} json_member;

struct json_value {
    json_type type;
    unsigned line, column; /* 1-based position of the value's first byte */
    union {
        bool boolean;
        double number;
        struct {
            char *ptr; /* NUL-terminated */
            size_t len;
        } string;
        struct {
            json_value **items;
            size_t count;
        } array;
        struct {
            json_member *members;
            size_t count;
        } object;
    } u;
};

/* Parser limits; zero fields take the defaults below. */
typedef struct json_limits {
    unsigned max_depth; /* nesting of arrays and objects (default 128) */
    size_t max_size;    /* input bytes (default 16 MiB) */
} json_limits;

#define JSON_DEFAULT_MAX_DEPTH 128
#define JSON_DEFAULT_MAX_SIZE  ((size_t)16 << 20)

/* Where and why parsing failed. */
typedef struct json_error {
    unsigned line, column; /* 1-based; column counts bytes */
    char message[128];
} json_error;

/*
 * Parse exactly one JSON value from text[0..len) (a UTF-8 byte order mark
 * and surrounding whitespace are allowed). limits may be NULL. Returns the
 * root, to be released with json_free(), or NULL with *err filled (err may
 * be NULL) on a syntax error, a limit exceeded or out of memory.
 */
json_value *json_parse(const char *text, size_t len, const json_limits *limits, json_error *err);

/* Free a tree from json_parse() or the builders. NULL is ignored. */
void json_free(json_value *v);

/* The value of the first member named key, or NULL (also when obj is no object). */
const json_value *json_object_get(const json_value *obj, const char *key);

/* "null", "boolean", "number", "string", "array" or "object", for messages. */
const char *json_type_name(json_type type);

/* ---- Building trees ------------------------------------------------------ */

/* A new value of type (zeroed payload: false, 0, empty) at line:column, or NULL. */
json_value *json_new(json_type type, unsigned line, unsigned column);

/* A new string value holding a copy of s[0..len), or NULL when out of memory. */
json_value *json_new_string(const char *s, size_t len, unsigned line, unsigned column);

/* Append item to an array; takes ownership of item even on failure. Returns 0 or -1. */
int json_array_push(json_value *array, json_value *item);

/* Append key: value to an object (a copy of key is made); takes ownership of value. Returns 0 or
 * -1. */
int json_object_add(json_value *object, const char *key, size_t key_len, json_value *value);

/* ---- Writing ------------------------------------------------------------- */

/* Write s[0..len) to f as a quoted JSON string, escaping as RFC 8259 requires. */
void json_write_string(FILE *f, const char *s, size_t len);

/* Write v to f as compact JSON; integral numbers up to 2^53 without an exponent. */
void json_write(FILE *f, const json_value *v);

#endif
