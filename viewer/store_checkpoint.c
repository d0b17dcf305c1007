/*
 * store_checkpoint.c - the writer's WAL checkpoints on a thread of their
 * own (vw_store_options.checkpoint_thread).
 *
 * SQLite checkpoints in the commit that takes the WAL past its threshold:
 * it copies every page in the WAL into the database file and syncs both,
 * a third of the writer's time under a steady load, during which the
 * spans of the next request wait. Here the writer's connection never
 * checkpoints by itself (wal_autocheckpoint = 0); its WAL hook wakes a
 * thread with a connection of its own, which checkpoints PASSIVE (it
 * takes no lock a commit or a reader waits for) while the writer goes on
 * writing. A WAL starts again from its beginning only when a write begins
 * with every frame copied, which a writer that commits back to back with
 * the thread never sees: the commit that takes the WAL past
 * RESTART_PAGES checkpoints RESTART itself (it waits for a checkpoint of
 * the thread's, then copies the few frames left and waits for the readers
 * still in the WAL), so the WAL stays within that.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>

#include "store_internal.h"

#define WAKE_PAGES    4096  /* the thread checkpoints once the WAL holds this many pages */
#define RESTART_PAGES 16384 /* a commit checkpoints (and restarts the WAL) past this many */

struct vw_checkpointer {
    sqlite3 *db;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool due, stop;
};

static void *run(void *arg)
{
    vw_checkpointer *c = arg;
    pthread_setname_np(pthread_self(), "vw-checkpoint");
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (!c->due && !c->stop) pthread_cond_wait(&c->wake, &c->lock);
        if (c->stop) break;
        c->due = false;
        pthread_mutex_unlock(&c->lock);
        sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* After each commit of the writer, with the pages its WAL holds. */
static int on_commit(void *ctx, sqlite3 *db, const char *name, int pages)
{
    vw_checkpointer *c = ctx;
    if (pages >= RESTART_PAGES) {
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
    } else if (pages >= WAKE_PAGES) {
        pthread_mutex_lock(&c->lock);
        c->due = true;
        pthread_cond_signal(&c->wake);
        pthread_mutex_unlock(&c->lock);
    }
    return SQLITE_OK;
}

int vw__checkpointer_start(vw_store *s)
{
    vw_checkpointer *c = calloc(1, sizeof *c);
    if (!c) return -1;
    if (sqlite3_open_v2(s->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(c->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint = 0", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(c->db);
        free(c);
        return -1;
    }
    sqlite3_busy_timeout(c->db, 5000);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    if (pthread_create(&c->thread, NULL, run, c) != 0) {
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->wake);
        sqlite3_close(c->db);
        sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint = 1000", NULL, NULL, NULL);
        free(c);
        return -1;
    }
    sqlite3_wal_hook(s->db, on_commit, c);
    s->checkpointer = c;
    return 0;
}

void vw__checkpointer_stop(vw_store *s)
{
    vw_checkpointer *c = s->checkpointer;
    if (!c) return;
    sqlite3_wal_hook(s->db, NULL, NULL);
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    sqlite3_close(c->db);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->wake);
    free(c);
    s->checkpointer = NULL;
}
