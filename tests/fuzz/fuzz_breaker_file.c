/*
 * fuzz_breaker_file.c - the shared breaker's record (src/export/breaker_file.c)
 * read from a file holding anything: it never crashes, and whatever the
 * file says, the endpoint is never kept down past the reader's own
 * interval from now.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "export/otlp.h"

#define URL      "http://127.0.0.1:4318/v1/traces"
#define INTERVAL 60000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static otelc_shared_breaker breaker;

static void setup(void)
{
    static char runtime[] = "/tmp/otelc-fuzz-breaker.XXXXXX";
    if (!mkdtemp(runtime)) abort();
    setenv("XDG_RUNTIME_DIR", runtime, 1);
    otelc__shared_breaker_init(&breaker, URL, INTERVAL);
    char dir[300];
    snprintf(dir, sizeof dir, "%s/otelc", runtime);
    if (mkdir(dir, 0700) != 0 || !breaker.path[0]) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!breaker.url) setup();
    int fd = open(breaker.path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size) abort();
    close(fd);
    uint64_t until = otelc__shared_breaker_open_until(&breaker);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    if (until > now + INTERVAL + 1000) abort();
    return 0;
}
