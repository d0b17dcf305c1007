/*
 * tools_main.c - the otelc-view program's entry point for as long as the
 * viewer's server (viewer/main.c) is not in this tree: it runs
 * `otelc-view traces ...`, the part of otelc-view that needs no server.
 * viewer/main.c dispatches "traces" to vw_traces_main() the same way, and
 * replaces this file.
 */
#include <stdio.h>
#include <string.h>

#include "traces.h"

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "traces") == 0) return vw_traces_main(argc - 1, argv + 1);
    fputs("usage: otelc-view traces COMMAND [options]; see 'otelc-view traces --help'\n", stderr);
    return 2;
}
