/*
 * spool.c - spans a process could not deliver, kept on disk for a later
 * process to deliver (OTELC_SPOOL_DIR).
 *
 * One file per undelivered batch: a 4-byte big-endian length and the
 * OTLP protobuf ExportTraceServiceRequest, the length-delimited layout
 * `otelc view --import` reads. Names sort by age and carry the span count,
 *
 *     <16 hex digits: Unix time in ns>-<pid>-<seq>-<spans>.otlp
 *
 * so the total can be bounded (the oldest files go first, their spans
 * counted as dropped) without opening any. A file is written under a
 * temporary name starting with '.', which no scan takes, and renamed into
 * place: it appears whole or not at all.
 *
 * Delivery claims a file by renaming it to .claim-<pid>-<name>: rename is
 * atomic, so of two processes draining at once exactly one gets each file,
 * and the other finds it gone. A delivered file is unlinked; one that
 * could not be sent is renamed back for the next process. A claim left by
 * a process that died is returned to the spool by the next drain.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "export/otlp.h"

#define NAME_MAX_LEN 96
#define CLAIM_PREFIX ".claim-"

struct otelc_spool {
    char *dir;
    uint64_t max_bytes;
    _Atomic uint32_t seq;
    otelc_buf buf;
    _Atomic uint64_t spooled, dropped, delivered;
};

/* A spooled file, as its name describes it. */
struct entry {
    char name[NAME_MAX_LEN];
    uint64_t size;
    uint64_t spans;
};

otelc_spool *otelc__spool_new(const char *dir, uint64_t max_bytes)
{
    if (!dir || !*dir) return NULL;
    if (!otelc__private_dir(dir, true, 022)) {
        otelc__log(OTELC_LOG_WARN,
                   "OTELC_SPOOL_DIR=%.200s: not a directory owned by you and writable only by "
                   "you; spooling is off",
                   dir);
        return NULL;
    }
    otelc_spool *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(dir))) {
        free(s);
        return NULL;
    }
    s->max_bytes = max_bytes;
    return s;
}

void otelc__spool_free(otelc_spool *s)
{
    if (!s) return;
    otelc__buf_free(&s->buf);
    free(s->dir);
    free(s);
}

void otelc__spool_after_fork_child(otelc_spool *s)
{
    if (s) otelc__buf_abandon(&s->buf);
}

void otelc__spool_counts(const otelc_spool *s, uint64_t *spooled, uint64_t *dropped,
                         uint64_t *delivered)
{
    *spooled = s ? atomic_load(&s->spooled) : 0;
    *dropped = s ? atomic_load(&s->dropped) : 0;
    *delivered = s ? atomic_load(&s->delivered) : 0;
}

/* The span count of a spool file's name, or false when it is not one. */
static bool parse_name(const char *name, uint64_t *spans)
{
    size_t n = strlen(name);
    if (name[0] == '.' || n < 6 || n >= NAME_MAX_LEN || strcmp(name + n - 5, ".otlp") != 0)
        return false;
    const char *dash = NULL;
    for (const char *p = name; p < name + n - 5; p++)
        if (*p == '-') dash = p;
    if (!dash) return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(dash + 1, &end, 10);
    if (errno || end != name + n - 5 || end == dash + 1) return false;
    *spans = v;
    return true;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/*
 * The spool's files, oldest first (malloc'd, *count of them, NULL when
 * none or out of memory); *total their bytes.
 */
static struct entry *list_files(const char *dir, size_t *count, uint64_t *total)
{
    *count = 0;
    *total = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    struct entry *list = NULL;
    size_t cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        struct entry it;
        struct stat sb;
        if (!parse_name(e->d_name, &it.spans)) continue;
        if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
            continue;
        if (*count == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct entry *grown = realloc(list, ncap * sizeof *list);
            if (!grown) break;
            list = grown, cap = ncap;
        }
        otelc__strlcpy(it.name, e->d_name, sizeof it.name);
        it.size = (uint64_t)sb.st_size;
        list[(*count)++] = it;
        *total += it.size;
    }
    closedir(d);
    if (list) qsort(list, *count, sizeof *list, by_name);
    return list;
}

/* Remove the oldest files until need more bytes fit under the bound; their spans are dropped. */
static void make_room(otelc_spool *s, uint64_t need)
{
    size_t count;
    uint64_t total;
    struct entry *list = list_files(s->dir, &count, &total);
    for (size_t i = 0; i < count && total + need > s->max_bytes; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", s->dir, list[i].name);
        if (unlink(path) != 0) continue; /* claimed by a drain meanwhile: not ours to count */
        total -= list[i].size;
        atomic_fetch_add(&s->dropped, list[i].spans);
        otelc__log(OTELC_LOG_WARN,
                   "spool %.200s: over OTELC_SPOOL_MAX_BYTES; dropped the oldest file (%llu spans)",
                   s->dir, (unsigned long long)list[i].spans);
    }
    free(list);
}

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Write the framed request in s->buf as a new spool file for n spans. */
static bool write_file(otelc_spool *s, size_t n)
{
    char name[NAME_MAX_LEN], tmp[PATH_MAX], path[PATH_MAX];
    uint32_t seq = atomic_fetch_add(&s->seq, 1);
    snprintf(name, sizeof name, "%016" PRIx64 "-%ld-%" PRIu32 "-%zu.otlp", wall_ns(),
             (long)getpid(), seq, n);
    int a = snprintf(tmp, sizeof tmp, "%s/.tmp-%s", s->dir, name);
    int b = snprintf(path, sizeof path, "%s/%s", s->dir, name);
    if (a <= 0 || (size_t)a >= sizeof tmp || b <= 0 || (size_t)b >= sizeof path) return false;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    bool ok = otelc__write_all(fd, s->buf.data, s->buf.len);
    if (close(fd) != 0) ok = false;
    if (ok && rename(tmp, path) == 0) return true;
    unlink(tmp);
    return false;
}

bool otelc__spool_put(otelc_spool *s, const otelc_span_data *const *spans, size_t n)
{
    if (!s || n == 0) return false;
    otelc__buf_reset(&s->buf);
    otelc__buf_append(&s->buf, "\0\0\0\0", 4);
    if (otelc__otlp_encode_proto(&s->buf, spans, n) != OTELC_OK || s->buf.failed) return false;
    size_t len = s->buf.len - 4;
    if (len > UINT32_MAX) return false;
    uint8_t *p = (uint8_t *)s->buf.data;
    p[0] = (uint8_t)(len >> 24), p[1] = (uint8_t)(len >> 16);
    p[2] = (uint8_t)(len >> 8), p[3] = (uint8_t)len;
    if (s->buf.len > s->max_bytes) return false;
    make_room(s, s->buf.len);
    if (!write_file(s, n)) {
        otelc__log(OTELC_LOG_WARN, "spool %.200s: cannot write a file: %s", s->dir,
                   strerror(errno));
        return false;
    }
    atomic_fetch_add(&s->spooled, n);
    return true;
}

/* Return the claims of processes that died to the spool. */
static void reclaim_orphans(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, CLAIM_PREFIX, sizeof CLAIM_PREFIX - 1) != 0) continue;
        char *end;
        long pid = strtol(e->d_name + sizeof CLAIM_PREFIX - 1, &end, 10);
        if (pid <= 0 || *end != '-') continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* alive: its claim stands */
        renameat(dirfd(d), e->d_name, dirfd(d), end + 1);
    }
    closedir(d);
}

/* The request in a claimed file (malloc'd, *len bytes), or NULL when it is not one. */
static uint8_t *read_claimed(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat sb;
    uint8_t *data = NULL;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 4 &&
        (uint64_t)sb.st_size <= (uint64_t)UINT32_MAX + 4)
        data = malloc((size_t)sb.st_size);
    size_t got = 0;
    while (data && got < (size_t)sb.st_size) {
        ssize_t r = read(fd, data + got, (size_t)sb.st_size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (!data || got != (size_t)sb.st_size) {
        free(data);
        return NULL;
    }
    uint32_t framed =
        (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
    if ((uint64_t)framed + 4 != (uint64_t)got) {
        free(data);
        return NULL;
    }
    *len = got;
    return data;
}

/*
 * Claim, send and unlink one file. Returns 1 when delivered, 0 when
 * another process had claimed it first, -1 when sending failed (the file
 * is back in the spool).
 */
static int drain_one(otelc_spool *s, const struct entry *e, otelc_spool_send_fn send, void *ctx)
{
    char path[PATH_MAX], claimed[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", s->dir, e->name);
    snprintf(claimed, sizeof claimed, "%s/" CLAIM_PREFIX "%ld-%s", s->dir, (long)getpid(), e->name);
    if (rename(path, claimed) != 0) return 0;
    size_t len;
    uint8_t *data = read_claimed(claimed, &len);
    if (!data) { /* not a request we wrote: it would never be delivered */
        otelc__log(OTELC_LOG_WARN, "spool %.200s: %s is not a spooled request; removed", s->dir,
                   e->name);
        unlink(claimed);
        return 0;
    }
    bool sent = send(ctx, data + 4, len - 4);
    free(data);
    if (!sent) {
        rename(claimed, path);
        return -1;
    }
    unlink(claimed);
    atomic_fetch_add(&s->delivered, e->spans);
    return 1;
}

size_t otelc__spool_drain(otelc_spool *s, otelc_spool_send_fn send, void *ctx, _Atomic bool *stop)
{
    if (!s) return 0;
    reclaim_orphans(s->dir);
    size_t count, done = 0;
    uint64_t total;
    struct entry *list = list_files(s->dir, &count, &total);
    for (size_t i = 0; i < count && !(stop && atomic_load(stop)); i++) {
        int r = drain_one(s, &list[i], send, ctx);
        if (r < 0) break;
        done += (size_t)r;
    }
    free(list);
    return done;
}
