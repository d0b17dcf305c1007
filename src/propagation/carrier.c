/*
 * carrier.c - ready-made carriers: a header list, the process environment
 * and an envp array for a child process.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "propagation.h"

extern char **environ;

/* ---- Header list ------------------------------------------------------------ */

static int headers_grow(otelc_headers *h)
{
    size_t cap = h->capacity ? h->capacity * 2 : 8;
    struct otelc_header *items;

    if (h->count < h->capacity) return OTELC_OK;
    items = realloc(h->items, cap * sizeof *items);
    if (items == NULL) return OTELC_ERR_NOMEM;
    h->items = items;
    h->capacity = cap;
    return OTELC_OK;
}

int otelc_headers_add(otelc_headers *h, const char *name, const char *value)
{
    char *n, *v;

    if (h == NULL || name == NULL || value == NULL) return OTELC_ERR_INVALID_ARG;
    if (headers_grow(h) != OTELC_OK) return OTELC_ERR_NOMEM;
    n = strdup(name);
    v = strdup(value);
    if (n == NULL || v == NULL) {
        free(n);
        free(v);
        return OTELC_ERR_NOMEM;
    }
    h->items[h->count].name = n;
    h->items[h->count].value = v;
    h->count++;
    return OTELC_OK;
}

static void headers_remove(otelc_headers *h, const char *name)
{
    size_t kept = 0;

    for (size_t i = 0; i < h->count; i++) {
        if (strcasecmp(h->items[i].name, name) == 0) {
            free(h->items[i].name);
            free(h->items[i].value);
        } else {
            h->items[kept++] = h->items[i];
        }
    }
    h->count = kept;
}

/* Add first and remove after, so a failed add leaves the old values. */
int otelc_headers_set(otelc_headers *h, const char *name, const char *value)
{
    struct otelc_header added;
    int rc;

    if (h == NULL || name == NULL || value == NULL) return OTELC_ERR_INVALID_ARG;
    rc = otelc_headers_add(h, name, value);
    if (rc != OTELC_OK) return rc;
    added = h->items[--h->count];
    headers_remove(h, name);
    h->items[h->count++] = added;
    return OTELC_OK;
}

const char *otelc_headers_get(const otelc_headers *h, const char *name)
{
    if (h == NULL || name == NULL) return NULL;
    for (size_t i = 0; i < h->count; i++)
        if (strcasecmp(h->items[i].name, name) == 0) return h->items[i].value;
    return NULL;
}

void otelc_headers_clear(otelc_headers *h)
{
    if (h == NULL) return;
    for (size_t i = 0; i < h->count; i++) {
        free(h->items[i].name);
        free(h->items[i].value);
    }
    free(h->items);
    memset(h, 0, sizeof *h);
}

static const char *hc_get(void *self, const char *key)
{
    return otelc_headers_get(self, key);
}

static size_t hc_get_all(void *self, const char *key, const char **values, size_t max)
{
    const otelc_headers *h = self;
    size_t n = 0;

    for (size_t i = 0; i < h->count; i++) {
        if (strcasecmp(h->items[i].name, key) != 0) continue;
        if (n < max) values[n] = h->items[i].value;
        n++;
    }
    return n;
}

static void hc_set(void *self, const char *key, const char *value)
{
    otelc_headers_set(self, key, value);
}

static size_t hc_keys(void *self, const char **names, size_t max)
{
    const otelc_headers *h = self;

    for (size_t i = 0; i < h->count && i < max; i++) names[i] = h->items[i].name;
    return h->count;
}

otelc_carrier otelc_headers_carrier(otelc_headers *h)
{
    otelc_carrier c = {h, hc_get, hc_get_all, hc_set, hc_keys};
    return c;
}

/* ---- Environment -------------------------------------------------------------- */

#define ENV_NAME_MAX 256

/* traceparent -> TRACEPARENT, x-b3-traceid -> X_B3_TRACEID; false if too long. */
static bool env_name(const char *key, char out[ENV_NAME_MAX])
{
    size_t n = strlen(key);

    if (n == 0 || n >= ENV_NAME_MAX) return false;
    for (size_t i = 0; i <= n; i++) {
        char c = key[i];
        if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
        out[i] = c == '-' ? '_' : c;
        if (c == '=') return false;
    }
    return true;
}

static const char *env_get(void *self, const char *key)
{
    char name[ENV_NAME_MAX];
    return env_name(key, name) ? getenv(name) : NULL;
}

static void env_set(void *self, const char *key, const char *value)
{
    char name[ENV_NAME_MAX];
    if (env_name(key, name)) setenv(name, value, 1);
}

otelc_carrier otelc_env_carrier(void)
{
    otelc_carrier c = {NULL, env_get, NULL, env_set, NULL};
    return c;
}

/* ---- envp arrays -------------------------------------------------------------------- */

/* The slot of NAME=... in envp, or -1. */
static ssize_t envp_find(char **envp, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; envp && envp[i]; i++)
        if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=') return (ssize_t)i;
    return -1;
}

static const char *envp_get(void *self, const char *key)
{
    char **envp = *(char ***)self, name[ENV_NAME_MAX];
    ssize_t i;

    if (!env_name(key, name) || (i = envp_find(envp, name)) < 0) return NULL;
    return envp[i] + strlen(name) + 1;
}

static char *envp_entry(const char *name, const char *value)
{
    size_t n = strlen(name), v = strlen(value);
    char *s = malloc(n + 1 + v + 1);

    if (s == NULL) return NULL;
    memcpy(s, name, n);
    s[n] = '=';
    memcpy(s + n + 1, value, v + 1);
    return s;
}

static void envp_set(void *self, const char *key, const char *value)
{
    char ***envp = self, name[ENV_NAME_MAX], *entry, **grown;
    ssize_t i;
    size_t count = 0;

    if (!env_name(key, name) || (entry = envp_entry(name, value)) == NULL) return;
    i = envp_find(*envp, name);
    if (i >= 0) {
        free((*envp)[i]);
        (*envp)[i] = entry;
        return;
    }
    while (*envp && (*envp)[count]) count++;
    grown = realloc(*envp, (count + 2) * sizeof *grown);
    if (grown == NULL) {
        free(entry);
        return;
    }
    grown[count] = entry;
    grown[count + 1] = NULL;
    *envp = grown;
}

otelc_carrier otelc_envp_carrier(char ***envp)
{
    otelc_carrier c = {envp, envp_get, NULL, envp_set, NULL};
    return c;
}

char **otelc_envp_copy(void)
{
    size_t n = 0;
    char **out;

    while (environ && environ[n]) n++;
    out = calloc(n + 1, sizeof *out);
    if (out == NULL) return NULL;
    for (size_t i = 0; i < n; i++) {
        out[i] = strdup(environ[i]);
        if (out[i] == NULL) {
            otelc_envp_free(out);
            return NULL;
        }
    }
    return out;
}

void otelc_envp_free(char **envp)
{
    for (size_t i = 0; envp && envp[i]; i++) free(envp[i]);
    free(envp);
}
