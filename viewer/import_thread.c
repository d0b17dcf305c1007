/*
 * import_thread.c - --import on a thread of its own (import_thread.h).
 *
 * vw_import_stream() reads until its stream ends; to end it early, the
 * file is read through a stream of our own (fopencookie) that says
 * "end of file" once a stop is asked for.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "import.h"
#include "import_thread.h"

struct vw_import_thread {
    vw_ingest *in;
    const char *const *paths;
    size_t n;
    pthread_t thread;
    atomic_bool stop;
    bool ok; /* every file imported whole */
};

typedef struct stoppable {
    FILE *f;
    const atomic_bool *stop;
} stoppable;

static ssize_t stoppable_read(void *cookie, char *buf, size_t size)
{
    stoppable *s = cookie;
    if (atomic_load(s->stop)) return 0;
    size_t n = fread(buf, 1, size, s->f);
    return n == 0 && ferror(s->f) ? -1 : (ssize_t)n;
}

static int stoppable_close(void *cookie)
{
    stoppable *s = cookie;
    return fclose(s->f);
}

/* One file, as vw_import_file() imports it, but stoppable. */
static bool import_one(vw_import_thread *t, const char *path)
{
    char err[512];
    stoppable *s = malloc(sizeof *s);
    FILE *raw = fopen(path, "rb");
    cookie_io_functions_t io = {.read = stoppable_read, .close = stoppable_close};
    FILE *f = raw && s ? fopencookie(s, "rb", io) : NULL;
    if (!f) {
        fprintf(stderr, "otelc view: cannot import %s: %s\n", path, strerror(errno));
        if (raw) fclose(raw);
        free(s);
        return false;
    }
    *s = (stoppable){raw, &t->stop};
    vw_import_stats st;
    int rc = vw_import_stream(t->in, f, path, &st, err, sizeof err);
    fclose(f);
    free(s);
    fprintf(stderr,
            "otelc view: %s: %" PRIu64 " spans imported from %" PRIu64 " records (%" PRIu64
            " bad records, %" PRIu64 " spans left out)%s\n",
            path, st.spans, st.records, st.bad, st.rejected,
            atomic_load(&t->stop) ? "; stopped before its end" : "");
    if (rc < 0) fprintf(stderr, "otelc view: %s: %s\n", path, err);
    return rc == 0 && !atomic_load(&t->stop);
}

/* The request files a spool directory (OTELC_SPOOL_DIR) holds: *.otlp, not hidden. */
static int is_spooled(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return e->d_name[0] != '.' && n > 5 && strcmp(e->d_name + n - 5, ".otlp") == 0;
}

/*
 * A directory is an otelc spool: each of its request files, oldest first
 * (their names sort by time). Files are read, never removed: a process
 * delivering the spool may still do that.
 */
static bool import_dir(vw_import_thread *t, const char *path)
{
    struct dirent **list;
    int n = scandir(path, &list, is_spooled, alphasort);
    if (n < 0) {
        fprintf(stderr, "otelc view: cannot import %s: %s\n", path, strerror(errno));
        return false;
    }
    bool ok = true;
    for (int i = 0; i < n; i++) {
        char file[4096];
        int len = snprintf(file, sizeof file, "%s/%s", path, list[i]->d_name);
        if (!atomic_load(&t->stop) && len > 0 && (size_t)len < sizeof file && !import_one(t, file))
            ok = false;
        free(list[i]);
    }
    free(list);
    fprintf(stderr, "otelc view: %s: %d spooled files\n", path, n);
    return ok;
}

static void *run(void *arg)
{
    vw_import_thread *t = arg;
    t->ok = true;
    for (size_t i = 0; i < t->n && !atomic_load(&t->stop); i++) {
        struct stat sb;
        bool dir = stat(t->paths[i], &sb) == 0 && S_ISDIR(sb.st_mode);
        if (!(dir ? import_dir(t, t->paths[i]) : import_one(t, t->paths[i]))) t->ok = false;
    }
    return NULL;
}

vw_import_thread *vw_import_thread_start(vw_ingest *in, const char *const *paths, size_t n)
{
    vw_import_thread *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    *t = (vw_import_thread){.in = in, .paths = paths, .n = n};
    if (pthread_create(&t->thread, NULL, run, t) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

bool vw_import_thread_stop(vw_import_thread *t)
{
    if (!t) return true;
    atomic_store(&t->stop, true);
    pthread_join(t->thread, NULL);
    bool ok = t->ok;
    free(t);
    return ok;
}
