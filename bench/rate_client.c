/*
 * rate_client.c - an open-loop HTTP/1.1 load generator: GET requests at a
 * fixed rate over keep-alive connections to a loopback server, with each
 * request's latency counted from the moment it was due, not from when a
 * connection became free to send it (wrk counts the latter, which hides a
 * stalled server's queue: "coordinated omission").
 *
 *   rate_client --port N --rate R [--path P] [--connections C]
 *               [--duration S] [--warmup S]
 *
 * Request i is due at start + i / R. A due request goes out on the first
 * idle connection (one request in flight per connection); with none idle
 * it waits, and its wait counts. After --warmup seconds (default 1) of
 * the same load, --duration seconds (default 10) are measured. It prints
 * one line: requests measured, the rate achieved, latency percentiles in
 * microseconds, and how many requests were sent late (more than 1 ms after
 * they were due). Exit 1 on a connection error or a response that is not
 * "200".
 *
 * The server must answer with a Content-Length (bench_http_server does).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024
#define RESP_MAX  8192
#define LATE_NS   1000000 /* a request sent later than this after its due time is "late" */

typedef struct conn {
    int fd;
    bool busy;
    uint64_t due_ns; /* when the request in flight was due */
    char buf[RESP_MAX];
    size_t len;
} conn;

typedef struct load {
    char request[512];
    size_t request_len;
    double rate;
    uint64_t start_ns, warmup_end_ns, end_ns;
    uint64_t next; /* index of the next request to send */
    uint64_t *lat; /* measured latencies, ns */
    size_t nlat, cap;
    uint64_t late;
} load;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t due_of(const load *l, uint64_t i)
{
    return l->start_ns + (uint64_t)((double)i * 1e9 / l->rate);
}

static int connect_to(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0) return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool send_request(load *l, conn *c, uint64_t due)
{
    size_t off = 0;
    while (off < l->request_len) { /* a few hundred bytes: the socket takes them at once */
        ssize_t n = send(c->fd, l->request + off, l->request_len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += (size_t)n;
    }
    if (now_ns() - due > LATE_NS && due >= l->warmup_end_ns) l->late++;
    c->busy = true;
    c->due_ns = due;
    c->len = 0;
    return true;
}

/* Length of a complete response in buf, 0 while incomplete, -1 when malformed or not 200. */
static ssize_t response_length(const char *buf, size_t len)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end) return len >= RESP_MAX ? -1 : 0;
    if (len < 12 || memcmp(buf + 9, "200", 3) != 0) return -1;
    size_t head = (size_t)(end - buf) + 4, body = 0;
    for (const char *p = buf; p < end; p++) {
        if ((p == buf || p[-1] == '\n') && strncasecmp(p, "content-length:", 15) == 0) {
            body = strtoul(p + 15, NULL, 10);
            break;
        }
    }
    if (head + body > RESP_MAX) return -1;
    return len >= head + body ? (ssize_t)(head + body) : 0;
}

static bool record(load *l, uint64_t latency)
{
    if (l->nlat == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 65536;
        uint64_t *grown = realloc(l->lat, cap * sizeof *grown);
        if (!grown) return false;
        l->lat = grown;
        l->cap = cap;
    }
    l->lat[l->nlat++] = latency;
    return true;
}

/* Read what c has; on a complete response record it and free the connection. */
static bool on_readable(load *l, conn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->buf + c->len, RESP_MAX - c->len, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        c->len += (size_t)n;
        ssize_t whole = response_length(c->buf, c->len);
        if (whole < 0) return false;
        if (whole == 0) continue;
        if ((size_t)whole != c->len) return false; /* one request in flight: nothing may follow */
        uint64_t t = now_ns();
        if (c->due_ns >= l->warmup_end_ns && c->due_ns < l->end_ns && !record(l, t - c->due_ns))
            return false;
        c->busy = false;
        return true;
    }
}

static int by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_us(const load *l, double p)
{
    size_t i = (size_t)(p / 100.0 * (double)(l->nlat - 1) + 0.5);
    return (double)l->lat[i] / 1000.0;
}

static const char *arg(int argc, char **argv, const char *flag, const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], flag) == 0) return argv[i + 1];
    return def;
}

/* The load: send what is due on idle connections, read responses, until the end. */
static bool run(load *l, conn *conns, int nconns, int ep)
{
    struct epoll_event evs[64];
    for (;;) {
        uint64_t t = now_ns();
        for (int i = 0; i < nconns; i++) {
            uint64_t due = due_of(l, l->next);
            if (due > t || due >= l->end_ns) break;
            if (conns[i].busy) continue;
            if (!send_request(l, &conns[i], due)) return false;
            l->next++;
        }
        bool idle = true;
        for (int i = 0; i < nconns; i++) idle = idle && !conns[i].busy;
        uint64_t due = due_of(l, l->next);
        if (due >= l->end_ns && idle) return true;
        /*
         * Sleep until the next request is due (to the nanosecond: at 10,000
         * requests/s they are 100 us apart), or, when one is overdue and every
         * connection is busy, until a response frees one.
         */
        uint64_t wait = due > t && due < l->end_ns ? due - t : 100000000;
        struct timespec ts = {(time_t)(wait / 1000000000u), (long)(wait % 1000000000u)};
        int n = epoll_pwait2(ep, evs, 64, &ts, NULL);
        if (n < 0 && errno != EINTR) return false;
        for (int i = 0; i < n; i++)
            if (!on_readable(l, &conns[evs[i].data.u32])) return false;
    }
}

int main(int argc, char **argv)
{
    int port = atoi(arg(argc, argv, "--port", "0"));
    int nconns = atoi(arg(argc, argv, "--connections", "32"));
    double rate = atof(arg(argc, argv, "--rate", "0"));
    double duration = atof(arg(argc, argv, "--duration", "10"));
    double warmup = atof(arg(argc, argv, "--warmup", "1"));
    const char *path = arg(argc, argv, "--path", "/");
    if (port <= 0 || port > 65535 || rate <= 0 || nconns < 1 || nconns > MAX_CONNS ||
        duration <= 0 || warmup < 0 || strlen(path) > 256) {
        fprintf(stderr, "usage: rate_client --port N --rate R [--path P] [--connections C]"
                        " [--duration S] [--warmup S]\n");
        return 2;
    }
    static load l;
    static conn conns[MAX_CONNS];
    l.rate = rate;
    l.request_len = (size_t)snprintf(l.request, sizeof l.request,
                                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", path, port);
    int ep = epoll_create1(0);
    for (int i = 0; i < nconns; i++) {
        conns[i].fd = connect_to(port);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (conns[i].fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) != 0) {
            fprintf(stderr, "rate_client: cannot connect to 127.0.0.1:%d: %s\n", port,
                    strerror(errno));
            return 1;
        }
    }
    l.start_ns = now_ns();
    l.warmup_end_ns = l.start_ns + (uint64_t)(warmup * 1e9);
    l.end_ns = l.warmup_end_ns + (uint64_t)(duration * 1e9);
    if (!run(&l, conns, nconns, ep) || l.nlat == 0) {
        fprintf(stderr, "rate_client: connection error or bad response after %zu responses\n",
                l.nlat);
        return 1;
    }
    qsort(l.lat, l.nlat, sizeof *l.lat, by_value);
    printf("requests %zu rate %.0f p50 %.0f p90 %.0f p99 %.0f p999 %.0f max %.0f late %llu\n",
           l.nlat, (double)l.nlat / duration, pct_us(&l, 50), pct_us(&l, 90), pct_us(&l, 99),
           pct_us(&l, 99.9), pct_us(&l, 100), (unsigned long long)l.late);
    for (int i = 0; i < nconns; i++) close(conns[i].fd);
    close(ep);
    free(l.lat);
    return 0;
}
