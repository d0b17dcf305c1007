/*
 * launch.c - the subcommands of the otelc command that are programs of
 * their own: `otelc serve` replaces this process with otelc-serve, `otelc
 * view` and `otelc traces` with otelc-view.
 *
 * Those programs link libmicrohttpd, libcurl, libpq, SQLite, libnghttp2 or
 * PCRE2. Linked into otelc, they would be loaded at every start-up of
 * every otelc command (about 6 ms, paid by each `otelc exec` in a build),
 * so they are installed next to otelc and exec'd. exec keeps the process
 * id: signals sent to `otelc serve` or `otelc view` reach the program.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

bool cli_sibling_path(const char *program, char *out, size_t size)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return false;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash) return false;
    slash[1] = '\0';
    int w = snprintf(out, size, "%s%s", self, program);
    return w > 0 && (size_t)w < size;
}

/*
 * Run program with argv (argv[0] is program, NULL-terminated). Returns
 * only when it could not be run, after saying so with what builds it
 * (needs).
 */
static int launch(const char *cmd, const char *program, char **argv, const char *needs)
{
    char path[PATH_MAX + 64];
    /* Next to otelc first: an installed pair, or a build directory, belong together. */
    if (cli_sibling_path(program, path, sizeof path)) execv(path, argv);
    execvp(program, argv);
    cli_error("%s: cannot run %s (%s): it is installed next to otelc by builds with %s", cmd,
              program, strerror(errno), needs);
    return CLI_EXIT_INTERNAL;
}

/* otelc-serve takes the arguments of `otelc serve`; argv keeps its NULL end. */
int cli_serve(int argc, char **argv)
{
    (void)argc;
    argv[0] = "otelc-serve";
    return launch("serve", argv[0], argv,
                  "libmicrohttpd and libcurl (libmicrohttpd-dev, "
                  "libcurl4-openssl-dev)");
}

/* otelc-view CMD ARGS...: the command name goes first, as in `otelc-view view --port 0`. */
int cli_viewer(int argc, char **argv)
{
    char **args = calloc((size_t)argc + 2, sizeof *args);
    if (!args) {
        cli_error("out of memory");
        return CLI_EXIT_INTERNAL;
    }
    args[0] = "otelc-view";
    memcpy(args + 1, argv, (size_t)argc * sizeof *args);
    int rc = launch(argv[0], args[0], args,
                    "SQLite, libmicrohttpd, libnghttp2, PCRE2, zlib and xxHash (libsqlite3-dev, "
                    "libmicrohttpd-dev, libnghttp2-dev, libpcre2-dev, zlib1g-dev, "
                    "libxxhash-dev)");
    free(args);
    return rc;
}
