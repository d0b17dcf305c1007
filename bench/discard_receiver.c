/*
 * discard_receiver.c - a loopback OTLP receiver that reads every request and
 * throws it away, for the end-to-end export benchmarks (bench_export,
 * bench_http_server; see docs/performance.md).
 *
 *   discard_receiver [--port N] [--port-file FILE]
 *
 * Listens on 127.0.0.1:N (0, the default: any free port) and speaks, on the
 * same port, HTTP/1.1 (OTLP/HTTP: requests with Content-Length, answered
 * "200" with an empty body, keep-alive) and, when built with libnghttp2,
 * HTTP/2 with prior knowledge (OTLP/gRPC: every stream is answered with a
 * trailers-only "grpc-status: 0" as soon as its request has arrived). The
 * first bytes of a connection tell the two apart: HTTP/2 begins with the
 * "PRI * HTTP/2.0" preface.
 *
 * It prints "port N" on stdout (and into FILE) once listening, and on
 * SIGINT or SIGTERM a line with the requests, body bytes and connections it
 * saw. One thread with epoll: the OTLP exporter uses a single connection,
 * and a receiver that needs more than one core would not be "discarding".
 * Nothing is parsed beyond what framing needs, so the receiver costs as
 * little CPU as possible on a 2-core machine shared with the sender.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "port_file.h"

#ifdef BENCH_HAVE_NGHTTP2
#include <nghttp2/nghttp2.h>
#endif

#define READ_CHUNK (256 * 1024)
#define HEADER_MAX 16384
#define H2_WINDOW  (16 * 1024 * 1024)

static const char ok_response[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
static const char bad_response[] =
    "HTTP/1.1 411 Length Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

enum proto { PROTO_UNKNOWN, PROTO_HTTP1, PROTO_H2 };

typedef struct conn {
    int fd;
    enum proto proto;
    bool closing; /* close once the output is written */
    /* HTTP/1.1: the header block being read, then the body bytes still due. */
    char hdr[HEADER_MAX];
    size_t hdr_len;
    uint64_t body_left;
    bool in_body;
    /* Bytes not yet accepted by the socket. */
    char *out;
    size_t out_len, out_cap;
    bool want_write;
#ifdef BENCH_HAVE_NGHTTP2
    nghttp2_session *h2;
#endif
} conn;

static volatile sig_atomic_t stop;
static uint64_t n_requests, n_body_bytes, n_connections;
static int epfd;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

__attribute__((noreturn)) static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void out_append(conn *c, const void *p, size_t n)
{
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + n) cap *= 2;
        char *o = realloc(c->out, cap);
        if (!o) die("realloc");
        c->out = o;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
}

/* Write what is pending; false when the connection failed. */
static bool out_flush(conn *c)
{
    size_t done = 0;
    while (done < c->out_len) {
        ssize_t w = send(c->fd, c->out + done, c->out_len - done, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            return false;
        }
        done += (size_t)w;
    }
    memmove(c->out, c->out + done, c->out_len - done);
    c->out_len -= done;
    /* Ask for EPOLLOUT only while the socket is full, so idle loops stay quiet. */
    bool want = c->out_len > 0;
    if (want != c->want_write) {
        struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0u), .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl");
        c->want_write = want;
    }
    return true;
}

static void conn_close(conn *c)
{
    close(c->fd); /* also removes it from the epoll set */
#ifdef BENCH_HAVE_NGHTTP2
    if (c->h2) nghttp2_session_del(c->h2);
#endif
    free(c->out);
    free(c);
}

/* ---- HTTP/1.1 ------------------------------------------------------------------------------ */

/* The Content-Length of a header block, or -1 when there is none (or chunking). */
static int64_t content_length(const char *h, size_t n)
{
    const char *end = h + n;
    for (const char *line = h; line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol) break;
        size_t len = (size_t)(eol - line);
        if (len > 15 && strncasecmp(line, "content-length:", 15) == 0)
            return strtoll(line + 15, NULL, 10);
        if (len > 18 && strncasecmp(line, "transfer-encoding:", 18) == 0) return -1;
        line = eol + 1;
    }
    return -1;
}

/* Consume n bytes of HTTP/1.1; false to close the connection. */
static bool http1_feed(conn *c, const char *p, size_t n)
{
    while (n > 0) {
        if (c->in_body) {
            size_t take = c->body_left < n ? (size_t)c->body_left : n;
            c->body_left -= take;
            n_body_bytes += take;
            p += take;
            n -= take;
            if (c->body_left == 0) {
                c->in_body = false;
                n_requests++;
                out_append(c, ok_response, sizeof ok_response - 1);
            }
            continue;
        }
        /* Header bytes: copy what fits, look for the blank line. */
        size_t old = c->hdr_len;
        size_t take = sizeof c->hdr - old < n ? sizeof c->hdr - old : n;
        memcpy(c->hdr + old, p, take);
        c->hdr_len += take;
        size_t from = old > 3 ? old - 3 : 0;
        const char *hit = memmem(c->hdr + from, c->hdr_len - from, "\r\n\r\n", 4);
        if (!hit) {
            if (c->hdr_len == sizeof c->hdr) return false; /* a header block this big is abuse */
            return true;
        }
        size_t block = (size_t)(hit - c->hdr) + 4;
        size_t used = block - old; /* of this chunk */
        p += used;
        n -= used;
        int64_t cl = content_length(c->hdr, block);
        c->hdr_len = 0;
        if (cl < 0) {
            out_append(c, bad_response, sizeof bad_response - 1);
            c->closing = true;
            return true;
        }
        c->body_left = (uint64_t)cl;
        c->in_body = true;
        if (cl == 0) continue; /* the body branch answers at once */
    }
    if (c->in_body && c->body_left == 0) {
        c->in_body = false;
        n_requests++;
        out_append(c, ok_response, sizeof ok_response - 1);
    }
    return true;
}

/* ---- HTTP/2 (gRPC) ------------------------------------------------------------------------- */

#ifdef BENCH_HAVE_NGHTTP2
#define NV(name, value)                                                                            \
    {                                                                                              \
        (uint8_t *)(name), (uint8_t *)(value), sizeof(name) - 1, sizeof(value) - 1,                \
            NGHTTP2_NV_FLAG_NONE                                                                   \
    }

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
    (void)user;
    bool request_done = (f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
                        (f->hd.flags & NGHTTP2_FLAG_END_STREAM);
    if (!request_done) return 0;
    /* Trailers-only: a gRPC success needs no response message. */
    nghttp2_nv nva[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                        NV("grpc-status", "0")};
    n_requests++;
    return nghttp2_submit_response(s, f->hd.stream_id, nva, sizeof nva / sizeof nva[0], NULL) == 0
               ? 0
               : NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t stream_id, const uint8_t *data,
                         size_t len, void *user)
{
    (void)s, (void)flags, (void)stream_id, (void)data, (void)user;
    n_body_bytes += len;
    return 0;
}

static bool h2_start(conn *c)
{
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0) return false;
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    int rc = nghttp2_session_server_new(&c->h2, cb, c);
    nghttp2_session_callbacks_del(cb);
    if (rc != 0) return false;
    /*
     * Large windows and frames: with the defaults (64 KiB window, 16 KiB
     * frames) a multi-megabyte export waits for a WINDOW_UPDATE round trip
     * every 64 KiB and the receiver, not the sender, sets the pace.
     */
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_WINDOW},
        {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, 1 << 20},
    };
    if (nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]) != 0 ||
        nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, H2_WINDOW) != 0)
        return false;
    return true;
}

static bool h2_feed(conn *c, const char *p, size_t n)
{
    if (nghttp2_session_mem_recv(c->h2, (const uint8_t *)p, n) < 0) return false;
    const uint8_t *data;
    ssize_t k;
    while ((k = nghttp2_session_mem_send(c->h2, &data)) > 0) out_append(c, data, (size_t)k);
    return k == 0;
}
#endif

/* ---- Connections ----------------------------------------------------------------------------- */

static bool conn_feed(conn *c, const char *p, size_t n)
{
    if (c->proto == PROTO_UNKNOWN) {
        /* Hold the first bytes until the HTTP/2 preface can be told apart. */
        size_t take = n < sizeof c->hdr - c->hdr_len ? n : sizeof c->hdr - c->hdr_len;
        memcpy(c->hdr + c->hdr_len, p, take);
        c->hdr_len += take;
        p += take;
        n -= take;
        if (c->hdr_len < 4) return true;
        size_t held = c->hdr_len;
        c->hdr_len = 0;
        if (memcmp(c->hdr, "PRI ", 4) == 0) {
#ifdef BENCH_HAVE_NGHTTP2
            c->proto = PROTO_H2;
            if (!h2_start(c)) return false;
            char first[HEADER_MAX];
            memcpy(first, c->hdr, held);
            if (!h2_feed(c, first, held)) return false;
#else
            fprintf(stderr, "discard_receiver: HTTP/2 needs a build with libnghttp2\n");
            return false;
#endif
        } else {
            c->proto = PROTO_HTTP1;
            char first[HEADER_MAX];
            memcpy(first, c->hdr, held);
            if (!http1_feed(c, first, held)) return false;
        }
        if (n == 0) return true;
    }
#ifdef BENCH_HAVE_NGHTTP2
    if (c->proto == PROTO_H2) return h2_feed(c, p, n);
#endif
    return http1_feed(c, p, n);
}

/* Read until the socket is drained; false when the connection is finished. */
static bool conn_readable(conn *c, char *buf)
{
    for (;;) {
        ssize_t r = recv(c->fd, buf, READ_CHUNK, 0);
        if (r == 0) return false;
        if (r < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        if (!conn_feed(c, buf, (size_t)r)) return false;
        if (c->closing) return false;
        if ((size_t)r < READ_CHUNK) return true; /* drained: spare a recv() returning EAGAIN */
    }
}

static void accept_all(int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR) continue;
            return; /* EAGAIN, or a transient error such as EMFILE */
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *c = calloc(1, sizeof *c);
        if (!c) die("calloc");
        c->fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
        n_connections++;
    }
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
    if (listen(fd, 512) < 0) die("listen");
    return fd;
}

static int bound_port(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &len) < 0) die("getsockname");
    return ntohs(a.sin_port);
}

__attribute__((noreturn)) static void usage(void)
{
    fprintf(stderr, "usage: discard_receiver [--port N] [--port-file FILE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int port = 0;
    const char *port_file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc)
            port_file = argv[++i];
        else
            usage();
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int lfd = listen_on(port);
    port = bound_port(lfd);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) die("epoll_create1");
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev) < 0) die("epoll_ctl");

    if (!bench_announce_port(port, port_file)) die(port_file);

    char *buf = malloc(READ_CHUNK);
    if (!buf) die("malloc");
    struct epoll_event evs[64];
    while (!stop) {
        int n = epoll_wait(epfd, evs, 64, 200);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (!c) {
                accept_all(lfd);
                continue;
            }
            bool alive = true;
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) alive = conn_readable(c, buf);
            /* Flush even when closing, so a 411 or a final response reaches the peer. */
            if (!out_flush(c)) alive = false;
            if (!alive) conn_close(c);
        }
    }
    printf("discard_receiver: requests %llu body_bytes %llu connections %llu\n",
           (unsigned long long)n_requests, (unsigned long long)n_body_bytes,
           (unsigned long long)n_connections);
    free(buf);
    return 0;
}
