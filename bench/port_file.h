/*
 * port_file.h - how the benchmark servers (bench_http_server,
 * discard_receiver) tell bench/run_*.sh where they listen.
 */
#ifndef OTELC_BENCH_PORT_FILE_H
#define OTELC_BENCH_PORT_FILE_H

#include <stdbool.h>
#include <stdio.h>

/*
 * Print "port N" on stdout and, when port_file is given, write N to it:
 * whole and renamed into place, so a script polling for the file never
 * reads half a line. False (errno set) when the file could not be written.
 */
static inline bool bench_announce_port(int port, const char *port_file)
{
    printf("port %d\n", port);
    fflush(stdout);
    if (!port_file) return true;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
    FILE *f = fopen(tmp, "w");
    if (!f) return false;
    bool ok = fprintf(f, "%d\n", port) >= 0;
    return fclose(f) == 0 && ok && rename(tmp, port_file) == 0;
}

#endif
