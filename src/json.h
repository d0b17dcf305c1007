/*
 * json.h - the one JSON (RFC 8259) reader of the project, and its writer.
 *
 * otelc__json_parse() turns a buffer into a tree of json_value nodes (a
 * DOM) that remembers where each value started, so callers validating a
 * document can report "file:line:column". Strings are decoded (escapes,
 * \u surrogate pairs), checked to be valid UTF-8 and stored NUL-terminated
 * with their length, since \u0000 may embed a NUL. A number keeps its
 * exact integer when the literal is one that fits 64 bits, because the
 * formats read here (OTLP/JSON) carry int64 and uint64 values that a
 * double would round above 2^53. Limits on nesting depth and input size
 * keep hostile input from exhausting the stack or memory.
 *
 * Every node, key and string of a document lives in the document's arena
 * (json_doc): parsing costs a few large allocations instead of one per
 * node, and the whole tree is released at once. The builders
 * (otelc__json_new, _array_push, _object_add) let other front ends, such
 * as the YAML pipeline reader, produce the same tree in a document of
 * their own.
 *
 * Users: the otelc command (pipelines, otelc serve), the OTLP exporters
 * (the JSON ExportTraceServiceResponse) and otelc view's decoders. There
 * is no global state: documents may be parsed on any number of threads.
 */
#ifndef OTELC_JSON_H
#define OTELC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "internal.h"

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

/*
 * A number: d always holds the nearest double. When the literal is an
 * integer (no fraction, no exponent) within int64, is_int is set and i is
 * exact; when it is a non-negative integer within uint64, is_uint is set
 * and u is exact (both are set for 0 to INT64_MAX, where i == u).
 */
typedef struct json_number {
    double d;
    union {
        int64_t i;
        uint64_t u;
    };
    bool is_int;
    bool is_uint;
} json_number;

struct json_value {
    json_type type;
    unsigned line, column; /* 1-based position of the value's first byte */
    union {
        bool boolean;
        json_number number;
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

/*
 * A document: the tree and the memory it lives in. Start from a zeroed
 * one (JSON_DOC_INIT); release it with otelc__json_free().
 */
typedef struct json_doc {
    json_value *root; /* NULL until parsed (or set by a builder's user) */
    otelc_arena arena;
    size_t next_chunk; /* size of the arena's next chunk: grows with the document */
} json_doc;

#define JSON_DOC_INIT                                                                              \
    {                                                                                              \
        0                                                                                          \
    }

/* Parser options; zero fields take the defaults below. */
typedef struct json_options {
    unsigned max_depth; /* nesting of arrays and objects (default 128) */
    size_t max_size;    /* input bytes (default 16 MiB) */
    /*
     * Replace malformed UTF-8 and unpaired surrogate escapes in strings by
     * U+FFFD instead of failing: for receivers, which should not refuse a
     * whole request for one bad character (the default is strict).
     */
    bool lossy_utf8;
} json_options;

#define JSON_DEFAULT_MAX_DEPTH 128
#define JSON_DEFAULT_MAX_SIZE  ((size_t)16 << 20)

/* What kind of failure: callers answer a syntax error and a limit differently. */
typedef enum json_error_kind {
    JSON_ERR_SYNTAX = 1, /* not JSON (or, strict, not UTF-8) */
    JSON_ERR_LIMIT,      /* larger or deeper than the options allow */
    JSON_ERR_NOMEM,      /* out of memory */
} json_error_kind;

/* Where and why parsing failed. */
typedef struct json_error {
    json_error_kind kind;
    unsigned line, column; /* 1-based; column counts bytes */
    char message[128];
} json_error;

/*
 * Parse exactly one JSON value from text[0..len) (a UTF-8 byte order mark
 * and surrounding whitespace are allowed) into doc, which must be empty
 * (zeroed or released). options may be NULL. Returns the root (also in
 * doc->root), or NULL with doc left empty and *err filled (err may be
 * NULL) on a syntax error, a limit exceeded or out of memory.
 */
json_value *otelc__json_parse(json_doc *doc, const char *text, size_t len,
                              const json_options *options, json_error *err);

/* Release everything doc holds; it is empty (and reusable) afterwards. */
void otelc__json_free(json_doc *doc);

/* The value of the first member named key, or NULL (also when obj is no object). */
const json_value *otelc__json_object_get(const json_value *obj, const char *key);

/* True when m's key is key[0..n) exactly; JSON_KEY_IS(m, "literal") for literals. */
static inline bool otelc__json_key_is(const json_member *m, const char *key, size_t n)
{
    return m->key_len == n && memcmp(m->key, key, n) == 0;
}

#define JSON_KEY_IS(m, lit) otelc__json_key_is((m), (lit), sizeof(lit) - 1)

/* True when v is missing (NULL) or null: a field at its default, in protobuf's JSON mapping. */
static inline bool otelc__json_absent(const json_value *v)
{
    return !v || v->type == JSON_NULL;
}

/* "null", "boolean", "number", "string", "array" or "object", for messages. */
const char *otelc__json_type_name(json_type type);

/*
 * The protobuf JSON mapping's 64-bit integers, which arrive as decimal
 * strings or as numbers: true with *out set when v is an integer literal
 * in range, or a string holding only an optional '-' (int64 only) and
 * decimal digits of a value in range. False otherwise (NULL included).
 */
bool otelc__json_int64(const json_value *v, int64_t *out);
bool otelc__json_uint64(const json_value *v, uint64_t *out);

/*
 * The same rule for a number already read and for decimal digits in a
 * string (len bytes at s): true with *out set when in range, exact; a
 * number also counts when it is an integral double up to 2^53 ("1e3").
 */
bool otelc__json_number_int64(const json_number *n, int64_t *out);
bool otelc__json_number_uint64(const json_number *n, uint64_t *out);
bool otelc__json_decimal_int64(const char *s, size_t len, int64_t *out);
bool otelc__json_decimal_uint64(const char *s, size_t len, uint64_t *out);

/* ---- Reading token by token ---------------------------------------------- */

/*
 * The reader under otelc__json_parse(), for callers that want no tree:
 * otelc__json_next() hands out the text's tokens in order, checking the
 * grammar, the limits and the strings as the parser does (same messages,
 * same positions), and allocates nothing but a scratch buffer for strings
 * holding escapes. A decoder can then build its own structures straight
 * from the text (otelc view's OTLP/JSON receiver does).
 */
typedef enum json_token_type {
    JSON_TOKEN_ERROR = -1, /* the text is not JSON or passes a limit: see reader.error */
    JSON_TOKEN_END = 0,    /* past the one value and the whitespace after it */
    JSON_TOKEN_NULL,
    JSON_TOKEN_BOOL,
    JSON_TOKEN_NUMBER,
    JSON_TOKEN_STRING,
    JSON_TOKEN_KEY, /* an object member's key; its value's tokens follow */
    JSON_TOKEN_ARRAY_BEGIN,
    JSON_TOKEN_ARRAY_END,
    JSON_TOKEN_OBJECT_BEGIN,
    JSON_TOKEN_OBJECT_END,
} json_token_type;

typedef struct json_token {
    json_token_type type;
    unsigned line, column; /* 1-based position of the token's first byte */
    /*
     * STRING and KEY: the decoded bytes (valid UTF-8, or U+FFFD where the
     * text was not, in lossy mode), NOT NUL-terminated, may hold \u0000.
     * They point into the text or into the reader's scratch buffer: valid
     * until the next call to the reader.
     */
    const char *str;
    size_t len;
    bool boolean;       /* BOOL */
    json_number number; /* NUMBER */
} json_token;

/* A reader over one text; fields are the reader's own. */
typedef struct json_reader {
    const unsigned char *p, *end, *line_start;
    unsigned line;
    unsigned depth, max_depth;
    int expect;            /* what the grammar allows next */
    unsigned char *nested; /* per open container: 1 object, 0 array */
    size_t nested_cap;
    unsigned char *scratch; /* strings with escapes are decoded here */
    size_t scratch_cap;
    bool lossy;
    bool failed;
    json_error error; /* the first error, when a call returned JSON_TOKEN_ERROR */
} json_reader;

/*
 * Start reading text[0..len) (a UTF-8 byte order mark is skipped) with
 * options (NULL: the defaults). The text must stay unchanged while read.
 * An input over options' max_size (or NULL with len > 0) is reported by
 * the first otelc__json_next(). Release with otelc__json_reader_free().
 */
void otelc__json_reader_init(json_reader *r, const char *text, size_t len,
                             const json_options *options);

/*
 * The next token into *t, also returned: END once after the value (and
 * again on every call after), ERROR from the first problem on (r->error
 * says what and where). Objects give KEY then the value's tokens for
 * each member.
 */
json_token_type otelc__json_next(json_reader *r, json_token *t);

/*
 * Skip the value whose first token is *t (its matching END for a
 * container; nothing for a scalar). False when the reader fails first.
 */
bool otelc__json_skip(json_reader *r, json_token *t);

/* Release the reader's buffers (not the text). */
void otelc__json_reader_free(json_reader *r);

/* ---- Building trees ------------------------------------------------------ */

/* A new value of type in doc (zeroed payload: false, 0, empty) at line:column, or NULL. */
json_value *otelc__json_new(json_doc *doc, json_type type, unsigned line, unsigned column);

/* A new string value in doc holding a copy of s[0..len), or NULL when out of memory. */
json_value *otelc__json_new_string(json_doc *doc, const char *s, size_t len, unsigned line,
                                   unsigned column);

/* Append item (a value of doc) to array; -1 when array is no array or out of memory, else 0. */
int otelc__json_array_push(json_doc *doc, json_value *array, json_value *item);

/* Append key: value to object (a copy of key is made in doc); -1 on failure as above, else 0. */
int otelc__json_object_add(json_doc *doc, json_value *object, const char *key, size_t key_len,
                           json_value *value);

/* ---- Writing ------------------------------------------------------------- */

/* Write s[0..len) to f as a quoted JSON string, escaping as RFC 8259 requires. */
void otelc__json_write_string(FILE *f, const char *s, size_t len);

/*
 * Write v to f as compact JSON: exact integers as they were read, other
 * integral numbers up to 2^53 without an exponent, the rest with 17
 * significant digits.
 */
void otelc__json_write(FILE *f, const json_value *v);

#endif
