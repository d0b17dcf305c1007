/*
 * dynload.c - the libraries the network exporters load with dlopen on first
 * use (libcurl, libnghttp2, OpenSSL's libssl), and their functions.
 *
 * Linked, they would be mapped and relocated at the start-up of every
 * program that links libotelc, exporting over the network or not (see the
 * top of http.c). A library is opened with RTLD_LOCAL and never closed: an
 * already loaded one (the host program's own libcurl, or the libssl that
 * libcurl brought in) is returned as it is, and closing it would pull the
 * ground from under its other users.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "export/otlp.h"

void *otelc__dynload(const char *const *sonames, const otelc_dynsym *syms, size_t n)
{
    for (const char *const *so = sonames; *so; so++) {
        void *lib = dlopen(*so, RTLD_NOW | RTLD_LOCAL);
        if (!lib) continue;
        size_t i = 0;
        /* POSIX: a function's address comes back from dlsym as a void *. */
        while (i < n && (*syms[i].slot = dlsym(lib, syms[i].name)) != NULL) i++;
        if (i == n) return lib;
        otelc__log(OTELC_LOG_DEBUG, "%s lacks %s", *so, syms[i].name);
    }
    return NULL;
}

/* OpenSSL's crypto.h: the flag (since 1.1.1b) and its init function's type, without the header. */
#define NO_ATEXIT 0x00080000L
typedef int (*init_crypto_fn)(uint64_t opts, const void *settings);

static void init_openssl_without_atexit(void)
{
    void *crypto = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
    if (!crypto) return; /* not loaded: libcurl uses another TLS library, or none */
    init_crypto_fn init;
    void *f = dlsym(crypto, "OPENSSL_init_crypto");
    memcpy(&init, &f, sizeof f);
    if (init) init(NO_ATEXIT, NULL);
}

void otelc__openssl_init_without_atexit(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_openssl_without_atexit);
}
