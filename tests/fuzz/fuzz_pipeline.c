/*
 * fuzz_pipeline.c - pipeline files for `otelc run` (cli/pipeline.c, JSON
 * form: fuzz targets are built without libyaml's define). No crash or leak;
 * a refused file always gets a message naming it; an accepted one has
 * unique step names and dependencies that form a DAG.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Fuzz targets link only the library: compile the parser in. */
#include "../../cli/pipeline.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Kahn's algorithm: every step can be ordered after its dependencies. */
static int acyclic(const pipeline *p)
{
    size_t *left = calloc(p->count, sizeof *left), done = 0;
    if (!left) abort();
    for (size_t i = 0; i < p->count; i++) left[i] = p->steps[i].dep_count;
    for (int progress = 1; progress;) {
        progress = 0;
        for (size_t i = 0; i < p->count; i++) {
            if (left[i] != 0) continue;
            left[i] = SIZE_MAX;
            done++;
            progress = 1;
            for (size_t j = 0; j < p->count; j++)
                for (size_t k = 0; k < p->steps[j].dep_count; k++)
                    if (p->steps[j].deps[k] == i && left[j] != SIZE_MAX) left[j]--;
        }
    }
    free(left);
    return done == p->count;
}

static void check(const pipeline *p)
{
    if (!p->name || !*p->name || p->count == 0 || p->count > PIPELINE_MAX_STEPS) abort();
    for (size_t i = 0; i < p->count; i++) {
        const pipeline_step *s = &p->steps[i];
        if (!s->name || !*s->name || (!s->shell == !s->argv)) abort();
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->steps[j].name, s->name) == 0) abort();
        for (size_t k = 0; k < s->dep_count; k++)
            if (s->deps[k] >= p->count || s->deps[k] == i) abort();
        if (s->timeout_ms > 30ull * 24 * 3600 * 1000) abort();
    }
    if (!acyclic(p)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    pipeline *p = NULL;
    if (pipeline_parse((const char *)data, size, "fz.json", PIPELINE_JSON, &p, err, sizeof err) <
        0) {
        if (p || strncmp(err, "fz.json", 7) != 0) abort();
        return 0;
    }
    check(p);
    pipeline_free(p);
    /* The duration grammar on its own, with the input as text. */
    char text[64];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    uint64_t ms;
    if (pipeline_parse_duration(text, &ms) == 0 && (ms == 0 || ms > 30ull * 24 * 3600 * 1000))
        abort();
    return 0;
}
