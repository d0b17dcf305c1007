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
