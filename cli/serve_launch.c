/*
 * serve_launch.c - `otelc serve` in the otelc command: replace this process
 * with the otelc-serve program.
 *
 * The demo service links libmicrohttpd, libcurl, libpq and SQLite through
 * the instrumentation libraries. Linked into otelc, they would be loaded at
 * every start-up of every otelc command (about 6 ms, paid by each
 * `otelc exec` in a build), so the service is a separate program installed
 * next to otelc. exec keeps the process id: signals sent to `otelc serve`
 * reach the service.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define SERVE_PROGRAM "otelc-serve"

/* DIR/otelc-serve, where DIR holds this otelc. false when it cannot be told. */
static bool sibling_path(char *out, size_t size)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return false;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash) return false;
    slash[1] = '\0';
    return snprintf(out, size, "%s%s", self, SERVE_PROGRAM) < (int)size;
}

/* Returns only when otelc-serve could not be run; argv keeps its NULL end. */
int cli_serve(int argc, char **argv)
{
    (void)argc;
    char path[PATH_MAX + sizeof SERVE_PROGRAM];
    argv[0] = SERVE_PROGRAM;
    /* Next to otelc first: an installed pair, or a build directory, belong together. */
    if (sibling_path(path, sizeof path)) execv(path, argv);
    execvp(SERVE_PROGRAM, argv);
    cli_error("serve: cannot run %s (%s): it is installed next to otelc by builds with "
              "libmicrohttpd and libcurl (libmicrohttpd-dev, libcurl4-openssl-dev)",
              SERVE_PROGRAM, strerror(errno));
    return CLI_EXIT_INTERNAL;
}
