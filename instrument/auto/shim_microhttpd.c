/*
 * shim_microhttpd.c - MHD_start_daemon and MHD_start_daemon_va,
 * interposed: the daemon gets the libmicrohttpd instrumentation's access
 * handler and completion callback (instrument/microhttpd/microhttpd.c)
 * wrapped around the application's, so every request is a SERVER span
 * with its context taken from the request's headers; MHD_stop_daemon frees
 * the wrapper after the daemon stops.
 *
 * The application's options come as a variable argument list, and its own
 * completion callback must be taken out of it: the list is read into an
 * MHD_OPTION_ARRAY, which needs each option's argument types. An option
 * this file does not know (a libmicrohttpd newer than it), or an
 * MHD_OPTION_ARRAY holding a completion callback, leaves the daemon
 * untraced, started with the application's arguments exactly as given.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include <microhttpd.h>

#include "auto.h"
#include "fork_lock.h"
#include "microhttpd_calls.h"
#include "otelc/instrument/microhttpd.h"

/* Options in one MHD_start_daemon call that this file traces (more: untraced). */
#define MAX_OPTIONS 64

microhttpd_calls auto_microhttpd;

/* clang-format off */
#define SHIM_CALLS(X) \
    X(MHD_start_daemon) \
    X(MHD_start_daemon_va) \
    X(MHD_stop_daemon)
/* clang-format on */
static struct {
    SHIM_CALLS(REAL_CALL_SLOT)
} real;

#define RESOLVE(f)      &auto_resolve(&auto_microhttpd.f, #f)
#define RESOLVE_SHIM(f) &auto_resolve(&real.f, #f)

static bool resolve(void)
{
    return true MHD_CALLS(RESOLVE) SHIM_CALLS(RESOLVE_SHIM);
}

/* ---- Reading the application's options ------------------------------------- */

/* How an option's arguments are passed, as microhttpd.h documents each. */
enum arg_kind { UNKNOWN, SIZE, UINT, INT, POINTER, TWO_POINTERS, SIZE_AND_POINTER, ARRAY };

static enum arg_kind arg_kind(enum MHD_OPTION option)
{
    switch ((int)option) {
    case 1:  /* CONNECTION_MEMORY_LIMIT */
    case 19: /* THREAD_STACK_SIZE */
    case 21: /* CONNECTION_MEMORY_INCREMENT */
        return SIZE;
    case 2:
    case 3:
    case 5:
    case 14:
    case 18:
    case 23:
    case 25:
    case 28:
    case 32:
        return UINT; /* limits, timeouts, pool and queue sizes, SERVER_INSANITY */
    case 10:
    case 12:
    case 29:
    case 33:
    case 34:
        return INT; /* HTTPS_CRED_TYPE, LISTEN_SOCKET, STRICT_FOR_CLIENT, SIGPIPE, NO_ALPN */
    case 6:
    case 8:
    case 9:
    case 11:
    case 20:
    case 22:
    case 24:
    case 26:
    case 31:
        return POINTER; /* addresses, TLS material, certificate callbacks */
    case 4:
    case 7:
    case 13:
    case 16:
    case 27:
    case 30:
        return TWO_POINTERS; /* a callback and its closure */
    case 17:                 /* DIGEST_AUTH_RANDOM */
        return SIZE_AND_POINTER;
    case 15:
        return ARRAY;
    default:
        return UNKNOWN;
    }
}

typedef struct app_options {
    struct MHD_OptionItem
        items[MAX_OPTIONS + 1]; /* without NOTIFY_COMPLETED; MHD_OPTION_END last */
    MHD_RequestCompletedCallback completed;
    void *completed_cls;
} app_options;

/* Whether an application's MHD_OPTION_ARRAY holds a completion callback (which would win over
 * ours). */
static bool array_completes(const struct MHD_OptionItem *items)
{
    for (; items && items->option != MHD_OPTION_END; items++)
        if (items->option == MHD_OPTION_NOTIFY_COMPLETED ||
            (items->option == MHD_OPTION_ARRAY && array_completes(items->ptr_value)))
            return true;
    return false;
}

/* One option's arguments as an item; false for an option that cannot be read. */
static bool read_option(enum MHD_OPTION option, va_list *ap, struct MHD_OptionItem *item)
{
    *item = (struct MHD_OptionItem){.option = option};
    switch (arg_kind(option)) {
    case SIZE:
        item->value = (intptr_t)va_arg(*ap, size_t);
        return true;
    case UINT:
        item->value = (intptr_t)va_arg(*ap, unsigned int);
        return true;
    case INT:
        item->value = (intptr_t)va_arg(*ap, int);
        return true;
    case POINTER:
        item->ptr_value = va_arg(*ap, void *);
        return true;
    case TWO_POINTERS:
        item->value = (intptr_t)va_arg(*ap, void *);
        item->ptr_value = va_arg(*ap, void *);
        return true;
    case SIZE_AND_POINTER:
        item->value = (intptr_t)va_arg(*ap, size_t);
        item->ptr_value = va_arg(*ap, void *);
        return true;
    case ARRAY:
        item->ptr_value = va_arg(*ap, void *);
        return !array_completes(item->ptr_value);
    default:
        return false;
    }
}

/* The options of *ap into o; false when they cannot all be read (untraced then). */
static bool read_options(va_list *ap, app_options *o)
{
    size_t n = 0;
    for (;;) {
        enum MHD_OPTION option = va_arg(*ap, enum MHD_OPTION);
        if (option == MHD_OPTION_END) break;
        if (n == MAX_OPTIONS || !read_option(option, ap, &o->items[n])) return false;
        if (option == MHD_OPTION_NOTIFY_COMPLETED) {
            /* POSIX: a function pointer travels as a void * (and back). */
            o->completed = (MHD_RequestCompletedCallback)o->items[n].value;
            o->completed_cls = o->items[n].ptr_value;
            continue;
        }
        n++;
    }
    o->items[n] = (struct MHD_OptionItem){.option = MHD_OPTION_END};
    return true;
}

/* ---- Daemons and their wrappers ---------------------------------------------- */

typedef struct wrapped {
    struct MHD_Daemon *daemon;
    otelc_mhd *w;
    struct wrapped *next;
} wrapped;

static pthread_mutex_t daemons_lock = PTHREAD_MUTEX_INITIALIZER;
static wrapped *daemons;

static void remember(struct MHD_Daemon *d, otelc_mhd *w)
{
    wrapped *e = malloc(sizeof *e);
    if (!e) return; /* the wrapper then outlives the daemon: a small leak, never a crash */
    fork_lock(&daemons_lock);
    *e = (wrapped){d, w, daemons};
    daemons = e;
    pthread_mutex_unlock(&daemons_lock);
}

static otelc_mhd *forget(const struct MHD_Daemon *d)
{
    otelc_mhd *w = NULL;
    fork_lock(&daemons_lock);
    for (wrapped **pp = &daemons; *pp; pp = &(*pp)->next)
        if ((*pp)->daemon == d) {
            wrapped *e = *pp;
            *pp = e->next;
            w = e->w;
            free(e);
            break;
        }
    pthread_mutex_unlock(&daemons_lock);
    return w;
}

/* ---- The shims ----------------------------------------------------------------- */

/* The daemon with the instrumentation's handler, or NULL with *traced false when it cannot be. */
static struct MHD_Daemon *start_traced(unsigned int flags, uint16_t port,
                                       MHD_AcceptPolicyCallback apc, void *apc_cls,
                                       MHD_AccessHandlerCallback dh, void *dh_cls, va_list *ap,
                                       bool *traced)
{
    app_options *o = calloc(1, sizeof *o);
    otelc_mhd *w = NULL;
    struct MHD_Daemon *d = NULL;
    *traced = false;
    if (o && dh && read_options(ap, o)) {
        otelc_mhd_options opts = {.completed = o->completed, .completed_cls = o->completed_cls};
        w = otelc_mhd_new(dh, dh_cls, &opts);
    }
    if (w) {
        *traced = true;
        d = real.MHD_start_daemon(flags, port, apc, apc_cls, otelc_mhd_handler, w, MHD_OPTION_ARRAY,
                                  o->items, MHD_OPTION_NOTIFY_COMPLETED, otelc_mhd_completed, w,
                                  MHD_OPTION_END);
        if (d)
            remember(d, w);
        else
            otelc_mhd_free(w);
    }
    free(o);
    return d;
}

AUTO_EXPORT struct MHD_Daemon *MHD_start_daemon_va(unsigned int flags, uint16_t port,
                                                   MHD_AcceptPolicyCallback apc, void *apc_cls,
                                                   MHD_AccessHandlerCallback dh, void *dh_cls,
                                                   va_list ap)
{
    bool traced = false;
    struct MHD_Daemon *d = NULL;
    if (!auto_begin(AUTO_MHD, resolve))
        return real.MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_list mine;
    va_copy(mine, ap);
    d = start_traced(flags, port, apc, apc_cls, dh, dh_cls, &mine, &traced);
    va_end(mine);
    /* Not traceable: the application's own arguments, untouched. */
    if (!traced) d = real.MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    auto_end(AUTO_MHD);
    return d;
}

AUTO_EXPORT struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port,
                                                MHD_AcceptPolicyCallback apc, void *apc_cls,
                                                MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
    va_list ap;
    va_start(ap, dh_cls);
    struct MHD_Daemon *d = MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_end(ap);
    return d;
}

AUTO_EXPORT void MHD_stop_daemon(struct MHD_Daemon *daemon)
{
    if (!auto_begin(AUTO_MHD, resolve)) {
        real.MHD_stop_daemon(daemon);
        return;
    }
    real.MHD_stop_daemon(daemon);
    otelc_mhd_free(forget(daemon));
    auto_end(AUTO_MHD);
}
