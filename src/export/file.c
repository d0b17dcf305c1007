/*
 * file.c - the file exporter: OTLP JSON lines, one ExportTraceServiceRequest
 * per export call, for collectors' file receivers, jq and tail -f.
 *
 * Each line goes out in a single write() on an O_APPEND descriptor, so the
 * file never holds a torn or interleaved line, even with other appenders;
 * line-oriented readers (which wait for the '\n') only ever get whole
 * requests. JSON strings escape newlines, so '\n' only ends a line.
 *
 * Files are rotated by size (path -> path.1 -> ... -> path.N, the oldest
 * dropped). Tools may also move or delete the file under us (logrotate):
 * before each write the path is checked, and a different inode, or none,
 * makes the exporter reopen it. Failures are counted and logged, and the
 * next export tries again; they never stop the program.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export/zipkin.h"

/* Renames per rotation are bounded: more history than this is a mistake. */
#define KEEP_MAX 1000

typedef struct file_exp {
    pthread_mutex_t lock; /* export against shutdown */
    char *path;
    char *from, *to; /* path + ".N" while rotating */
    size_t name_cap;
    uint64_t max_bytes;
    unsigned keep;
    int fd; /* -1 while closed */
    dev_t dev;
    ino_t ino;
    uint64_t size; /* bytes in the open file */
    otelc_buf line;
    _Atomic uint64_t lines, rotations, reopens, errors, spans_lost;
} file_exp;

static const otelc_exporter_ops file_ops;

bool otelc__file_exporter_stats(const otelc_exporter *e, otelc_file_stats *out)
{
    if (!e || e->ops != &file_ops) return false;
    file_exp *f = e->self;
    out->lines = atomic_load(&f->lines);
    out->rotations = atomic_load(&f->rotations);
    out->reopens = atomic_load(&f->reopens);
    out->errors = atomic_load(&f->errors);
    out->spans_lost = atomic_load(&f->spans_lost);
    return true;
}

static void file_error(file_exp *f, const char *what, const char *path)
{
    int e = errno;
    atomic_fetch_add(&f->errors, 1);
    otelc__log(OTELC_LOG_WARN, "file exporter: %s %.200s: %s", what, path, strerror(e));
}

/* ---- Open, reopen, rotate -------------------------------------------------------- */

static void file_close(file_exp *f)
{
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
}

static bool file_open(file_exp *f)
{
    struct stat st;
    f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        file_error(f, "cannot open", f->path);
        return false;
    }
    if (fstat(f->fd, &st) != 0) {
        file_error(f, "cannot stat", f->path);
        file_close(f);
        return false;
    }
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->size = (uint64_t)st.st_size;
    return true;
}

/*
 * True when the path still names the file we hold open; its size is then
 * refreshed, since other programs may append to the same file too.
 */
static bool file_current(file_exp *f)
{
    struct stat st;
    if (stat(f->path, &st) != 0 || st.st_dev != f->dev || st.st_ino != f->ino) return false;
    f->size = (uint64_t)st.st_size;
    return true;
}

/* An open descriptor for the file now at path, reopening when it was moved or removed. */
static bool file_ready(file_exp *f)
{
    if (f->fd >= 0 && !file_current(f)) {
        file_close(f);
        atomic_fetch_add(&f->reopens, 1);
    }
    return f->fd >= 0 || file_open(f);
}

static char *rotated_name(file_exp *f, char *out, unsigned i)
{
    snprintf(out, f->name_cap, "%s.%u", f->path, i);
    return out;
}

/*
 * Shift path.1..path.(keep-1) up by one, then move path to path.1; rename
 * replaces its target, which drops the oldest. With keep 0 the full file is
 * simply removed. Missing files in the chain are normal (young history).
 */
static void file_rotate(file_exp *f)
{
    file_close(f);
    for (unsigned i = f->keep; i > 1; i--) {
        if (rename(rotated_name(f, f->from, i - 1), rotated_name(f, f->to, i)) != 0 &&
            errno != ENOENT)
            file_error(f, "cannot rename", f->from);
    }
    int rc = f->keep ? rename(f->path, rotated_name(f, f->to, 1)) : unlink(f->path);
    if (rc != 0 && errno != ENOENT) file_error(f, "cannot rotate", f->path);
    atomic_fetch_add(&f->rotations, 1);
}

/* ---- Writing ------------------------------------------------------------------------ */

/*
 * One write() for the whole line. A regular file only takes less on a full
 * disk or a signal: the rest is then written too, and if even that fails a
 * lone '\n' at least keeps the next line parseable.
 */
static bool write_line(file_exp *f, const char *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(f->fd, p + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO;
            file_error(f, "cannot write", f->path);
            if (done && write(f->fd, "\n", 1) == 1) f->size++;
            return false;
        }
        done += (size_t)w;
        f->size += (uint64_t)w;
    }
    return true;
}

/* Rotate first when this line would take the file past max_bytes (never for an empty file). */
static bool needs_rotation(const file_exp *f, size_t n)
{
    return f->max_bytes && f->size > 0 && f->size + n > f->max_bytes;
}

static bool file_append(file_exp *f, const char *p, size_t n)
{
    if (!file_ready(f)) return false;
    if (needs_rotation(f, n)) {
        file_rotate(f);
        if (!file_open(f)) return false;
    }
    return write_line(f, p, n);
}

static otelc_export_result file_export(void *self, const otelc_span_data *const *spans, size_t n)
{
    file_exp *f = self;
    if (n == 0) return OTELC_EXPORT_SUCCESS;
    pthread_mutex_lock(&f->lock);
    otelc__buf_reset(&f->line);
    bool ok = otelc__otlp_encode_json(&f->line, spans, n) == OTELC_OK;
    otelc__buf_append(&f->line, "\n", 1);
    if (!ok || f->line.failed) {
        ok = false;
        atomic_fetch_add(&f->errors, 1);
        otelc__log(OTELC_LOG_ERROR, "file exporter: out of memory encoding %zu spans", n);
    } else {
        ok = file_append(f, f->line.data, f->line.len);
    }
    if (ok)
        atomic_fetch_add(&f->lines, 1);
    else
        atomic_fetch_add(&f->spans_lost, n);
    /* A huge batch must not pin its buffer for the exporter's whole life. */
    if (f->line.cap > (4u << 20)) otelc__buf_free(&f->line);
    pthread_mutex_unlock(&f->lock);
    return ok ? OTELC_EXPORT_SUCCESS : OTELC_EXPORT_FAILURE;
}

static void file_shutdown(void *self)
{
    file_exp *f = self;
    pthread_mutex_lock(&f->lock);
    file_close(f);
    pthread_mutex_unlock(&f->lock);
}

static void file_destroy(void *self)
{
    file_exp *f = self;
    file_close(f);
    otelc__buf_free(&f->line);
    pthread_mutex_destroy(&f->lock);
    free(f->from);
    free(f->to);
    free(f->path);
    free(f);
}

/* In a fork child: the descriptor is shared on purpose (O_APPEND lines stay whole). */
static void file_after_fork_child(void *self)
{
    file_exp *f = self;
    pthread_mutex_init(&f->lock, NULL);
    otelc__buf_abandon(&f->line);
}

static const otelc_exporter_ops file_ops = {
    .export_spans = file_export,
    .shutdown = file_shutdown,
    .destroy = file_destroy,
    .after_fork_child = file_after_fork_child,
};

otelc_exporter *otelc_file_exporter_new(const char *path, uint64_t max_bytes, unsigned keep)
{
    if (!path || !*path) path = OTELC_FILE_DEFAULT_PATH;
    file_exp *f = calloc(1, sizeof(*f));
    if (!f) return NULL;
    f->fd = -1;
    f->max_bytes = max_bytes;
    f->keep = keep > KEEP_MAX ? KEEP_MAX : keep;
    f->path = strdup(path);
    f->name_cap = strlen(path) + sizeof ".4294967295";
    f->from = malloc(f->name_cap);
    f->to = malloc(f->name_cap);
    if (!f->path || !f->from || !f->to || pthread_mutex_init(&f->lock, NULL) != 0) {
        free(f->from);
        free(f->to);
        free(f->path);
        free(f);
        return NULL;
    }
    /* Open now so a bad path is reported at startup; exports retry it anyway. */
    file_open(f);
    otelc_exporter *e = otelc_exporter_new(&file_ops, f);
    if (!e) file_destroy(f);
    return e;
}
