/*
 * fault_server.h - for the exporter tests: tests/integration/otlp_fault_server.js
 * (Node.js, no packages) started as a child process and driven through its
 * stdin, one JSON command per line (the commands are listed at the top of
 * the script). server_start() fills srv with its ports; cmd() sends a
 * command and returns the answer line. Include once, in the test's file;
 * without node, server_start() fails and the tests that need it skip.
 */
#ifndef OTELC_TEST_FAULT_SERVER_H
#define OTELC_TEST_FAULT_SERVER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static struct {
    pid_t pid;
    FILE *in, *out;
    int http_port, grpc_port;
    char line[65536];
} srv;

static inline void server_path(char *out, size_t cap)
{
    const char *src = __FILE__; /* .../tests/unit/fault_server.h */
    const char *slash = strrchr(src, '/');
    int dir = slash ? (int)(slash - src) : 1;
    snprintf(out, cap, "%.*s/../integration/otlp_fault_server.js", dir, slash ? src : ".");
}

static inline bool server_start(void)
{
    char script[4096];
    server_path(script, sizeof script);
    int to_child[2], from_child[2];
    if (access(script, R_OK) != 0 || pipe(to_child) || pipe(from_child)) return false;
    srv.pid = fork();
    if (srv.pid == 0) {
        dup2(to_child[0], 0);
        dup2(from_child[1], 1);
        close(to_child[1]);
        close(from_child[0]);
        execlp("node", "node", script, (char *)NULL);
        _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    srv.in = fdopen(to_child[1], "w");
    srv.out = fdopen(from_child[0], "r");
    if (!fgets(srv.line, sizeof srv.line, srv.out)) return false;
    return sscanf(srv.line, "{\"http\":%d,\"grpc\":%d}", &srv.http_port, &srv.grpc_port) == 2;
}

static inline void server_stop(void)
{
    if (srv.in) fclose(srv.in); /* the server exits when stdin closes */
    if (srv.out) fclose(srv.out);
    if (srv.pid > 0) waitpid(srv.pid, NULL, 0);
    memset(&srv, 0, sizeof srv);
}

/* Send one command; the answer line stays in srv.line. */
static inline const char *cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline const char *cmd(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(srv.in, fmt, ap);
    va_end(ap);
    fputc('\n', srv.in);
    fflush(srv.in);
    if (!fgets(srv.line, sizeof srv.line, srv.out)) return "";
    srv.line[strcspn(srv.line, "\n")] = '\0';
    return srv.line;
}

static inline int count(void)
{
    return atoi(cmd("{\"cmd\":\"count\"}"));
}

/* Request i as JSON text (in srv.line). */
static inline const char *req(int i)
{
    return cmd("{\"cmd\":\"get\",\"i\":%d}", i);
}

static inline long req_num(int i, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(req(i), pat);
    return p ? atol(p + strlen(pat)) : -1;
}

/* gRPC connections the server accepted since its last reset. */
static inline int connections(void)
{
    return atoi(cmd("{\"cmd\":\"connections\"}"));
}

#define SKIP_WITHOUT_SERVER()                                                                      \
    do {                                                                                           \
        if (!srv.pid) skip();                                                                      \
    } while (0)

#endif
