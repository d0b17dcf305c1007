/*
 * breaker_file.c - the OTLP exporter's circuit breaker as other processes
 * see it. Once a process finds an endpoint hung or down, the processes
 * that follow within OTELC_BREAKER_INTERVAL (the rest of a build, the next
 * cron run) skip it instead of each waiting on it again.
 *
 * The state is one small file per endpoint in the per-user runtime
 * directory ($XDG_RUNTIME_DIR/otelc, else /tmp/otelc-<euid>; mode 0700,
 * checked to be ours before anything in it is read or written), named by
 * a hash of the URL, breaker-<16 hex digits>, holding one line:
 *
 *     otelc-breaker 1 <open until, Unix ms> <writer's pid> <url>
 *
 * It is written under a temporary name and renamed over, so a reader sees
 * a whole record or none, whatever other processes do at the same time.
 * A success anywhere unlinks it. Nothing in it is trusted blindly: a file
 * that is not ours, not regular, not that shape or for another URL (a hash
 * collision) is ignored, and a record never keeps the circuit open longer
 * than the reader's own interval after the file was written, so a clock
 * set wrong or a hand-made file cannot silence an endpoint for good.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "export/otlp.h"

#define RECORD_MAX 4096
#define MAGIC      "otelc-breaker 1 "

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void otelc__shared_breaker_init(otelc_shared_breaker *b, const char *url, uint64_t interval_ms)
{
    memset(b, 0, sizeof *b);
    b->url = url;
    b->interval_ms = interval_ms;
    size_t n = strlen(url);
    if (interval_ms == 0 || n > RECORD_MAX - 64 ||
        !otelc__runtime_dir_from_env(b->dir, sizeof b->dir))
        return;
    int len = snprintf(b->path, sizeof b->path, "%s/breaker-%016" PRIx64, b->dir,
                       otelc__fnv1a(OTELC_FNV_OFFSET, url, n));
    if (len <= 0 || (size_t)len >= sizeof b->path) b->path[0] = '\0';
}

/* The record's "until" when it is a valid record for url written by another process, else 0. */
static uint64_t parse_record(const char *rec, const char *url)
{
    if (strncmp(rec, MAGIC, sizeof MAGIC - 1) != 0) return 0;
    const char *p = rec + sizeof MAGIC - 1;
    char *end;
    if (!isdigit((unsigned char)*p)) return 0;
    errno = 0;
    unsigned long long until = strtoull(p, &end, 10);
    if (errno || end == p || *end != ' ') return 0;
    p = end + 1;
    if (!isdigit((unsigned char)*p)) return 0;
    long pid = strtol(p, &end, 10);
    if (errno || end == p || *end != ' ' || pid <= 0) return 0;
    if (pid == (long)getpid()) return 0; /* our own: this process's breaker governs it */
    p = end + 1;
    size_t n = strlen(url);
    if (strncmp(p, url, n) != 0 || strcmp(p + n, "\n") != 0) return 0;
    return (uint64_t)until;
}

uint64_t otelc__shared_breaker_open_until(const otelc_shared_breaker *b)
{
    if (!b->path[0] || !otelc__private_dir(b->dir, false, 077)) return 0;
    int fd = open(b->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return 0;
    struct stat sb;
    char rec[RECORD_MAX];
    ssize_t n = -1;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_uid == geteuid() &&
        sb.st_size < RECORD_MAX)
        n = read(fd, rec, sizeof rec - 1);
    close(fd);
    if (n <= 0) return 0;
    rec[n] = '\0';
    if (strlen(rec) != (size_t)n) return 0; /* a NUL inside: not a record */
    uint64_t until = parse_record(rec, b->url);
    /* Never longer than our own interval from when the file was written. */
    uint64_t written = (uint64_t)sb.st_mtim.tv_sec * 1000 + (uint64_t)sb.st_mtim.tv_nsec / 1000000;
    if (until > written + b->interval_ms) until = written + b->interval_ms;
    return until > wall_ms() ? until : 0;
}

void otelc__shared_breaker_trip(const otelc_shared_breaker *b)
{
    if (!b->path[0] || !otelc__private_dir(b->dir, true, 077)) return;
    char tmp[sizeof b->path + 32], rec[RECORD_MAX];
    int t = snprintf(tmp, sizeof tmp, "%s.%ld.tmp", b->path, (long)getpid());
    int n = snprintf(rec, sizeof rec, MAGIC "%" PRIu64 " %ld %s\n", wall_ms() + b->interval_ms,
                     (long)getpid(), b->url);
    if (t <= 0 || (size_t)t >= sizeof tmp || n <= 0 || (size_t)n >= sizeof rec) return;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return;
    bool ok = otelc__write_all(fd, rec, (size_t)n);
    if (close(fd) != 0) ok = false;
    if (!ok || rename(tmp, b->path) != 0) unlink(tmp);
}

void otelc__shared_breaker_close(const otelc_shared_breaker *b)
{
    if (b->path[0]) unlink(b->path);
}
