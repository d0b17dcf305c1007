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
#include <dirent.h>
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

/* A record's fields; url points into the record, up to its newline. */
typedef struct record {
    uint64_t until;
    long pid;
    const char *url;
    size_t url_len;
} record;

/* Split rec (NUL-terminated) into its fields; false when it is not a record. */
static bool parse_record(const char *rec, record *out)
{
    if (strncmp(rec, MAGIC, sizeof MAGIC - 1) != 0) return false;
    const char *p = rec + sizeof MAGIC - 1;
    char *end;
    if (!isdigit((unsigned char)*p)) return false;
    errno = 0;
    unsigned long long until = strtoull(p, &end, 10);
    if (errno || end == p || *end != ' ') return false;
    p = end + 1;
    if (!isdigit((unsigned char)*p)) return false;
    long pid = strtol(p, &end, 10);
    if (errno || end == p || *end != ' ' || pid <= 0) return false;
    p = end + 1;
    const char *nl = strchr(p, '\n');
    if (!nl || nl[1] != '\0') return false;
    *out = (record){(uint64_t)until, pid, p, (size_t)(nl - p)};
    return true;
}

/* The record's "until" when it is a valid record for url written by another process, else 0. */
static uint64_t record_until(const char *rec, const char *url)
{
    record r;
    if (!parse_record(rec, &r)) return 0;
    if (r.pid == (long)getpid()) return 0; /* our own: this process's breaker governs it */
    if (r.url_len != strlen(url) || strncmp(r.url, url, r.url_len) != 0) return 0;
    return r.until;
}

/*
 * The record at path into rec (RECORD_MAX bytes, NUL-terminated) and its
 * status into sb: false when it is not a regular file of ours of a
 * record's size, or has a NUL inside.
 */
static bool read_record(const char *path, char *rec, struct stat *sb)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return false;
    ssize_t n = -1;
    if (fstat(fd, sb) == 0 && S_ISREG(sb->st_mode) && sb->st_uid == geteuid() &&
        sb->st_size < RECORD_MAX)
        n = read(fd, rec, RECORD_MAX - 1);
    close(fd);
    if (n <= 0) return false;
    rec[n] = '\0';
    return strlen(rec) == (size_t)n;
}

uint64_t otelc__shared_breaker_open_until(const otelc_shared_breaker *b)
{
    if (!b->path[0] || !otelc__private_dir(b->dir, false, 077)) return 0;
    struct stat sb;
    char rec[RECORD_MAX];
    if (!read_record(b->path, rec, &sb)) return 0;
    uint64_t until = record_until(rec, b->url);
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

size_t otelc__shared_breaker_forget(bool (*matches)(const char *url, void *arg), void *arg)
{
    char dir[256], path[512], rec[RECORD_MAX];
    if (!otelc__runtime_dir_from_env(dir, sizeof dir) || !otelc__private_dir(dir, false, 077))
        return 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t removed = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "breaker-", 8) != 0 || len != 8 + 16) continue; /* not .tmp */
        struct stat sb;
        record r;
        int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (n <= 0 || (size_t)n >= sizeof path || !read_record(path, rec, &sb) ||
            !parse_record(rec, &r))
            continue;
        rec[(size_t)(r.url - rec) + r.url_len] = '\0'; /* the URL's newline: r.url alone */
        if (matches(r.url, arg) && unlink(path) == 0) removed++;
    }
    closedir(d);
    return removed;
}
