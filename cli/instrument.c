/*
 * instrument.c - `otelc exec --instrument`: the command runs with
 * libotelc-auto preloaded (docs/zero-code.md), found next to otelc (a
 * build directory) or in LIBDIR/otelc/ of otelc's installation.
 *
 * What the dynamic linker will not preload into is said once here, since
 * the library itself never gets a chance to: a statically linked program
 * (no ELF interpreter) or a setuid/setgid one.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define AUTO_LIBRARY "libotelc-auto.so"

#ifndef OTELC_BINDIR_TO_LIBDIR
#define OTELC_BINDIR_TO_LIBDIR "../lib"
#endif

/* Whether program, relative to otelc's directory, is there: its absolute path in out. */
static bool found(const char *program, char *out, size_t size)
{
    char path[PATH_MAX + 64];
    return cli_sibling_path(program, path, sizeof path) && size >= PATH_MAX &&
           realpath(path, out) != NULL;
}

/* The library's path (out: PATH_MAX bytes), or false after saying that it is missing. */
static bool find_library(char *out, size_t size)
{
    if (found(AUTO_LIBRARY, out, size) ||
        found(OTELC_BINDIR_TO_LIBDIR "/otelc/" AUTO_LIBRARY, out, size))
        return true;
    cli_error("exec: --instrument: %s is not installed with otelc; the command runs untraced",
              AUTO_LIBRARY);
    return false;
}

/* The file the command names: as given with a '/', else found in PATH. */
static bool command_file(const char *cmd, char *out, size_t size)
{
    if (strchr(cmd, '/')) return snprintf(out, size, "%s", cmd) < (int)size;
    const char *path = getenv("PATH");
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t n = strcspn(p, ":");
        int w = snprintf(out, size, "%.*s/%s", (int)n, n ? p : ".", cmd);
        if (w > 0 && (size_t)w < size && access(out, X_OK) == 0) return true;
        p += n + (p[n] == ':');
    }
    return false;
}

/* Whether the ELF file on fd has no PT_INTERP, i.e. nothing can be preloaded into it. */
static bool elf_is_static(int fd)
{
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh) return false;
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
        return false; /* a script, or an ELF class this check does not read */
    if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) return false;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        off_t at = (off_t)eh.e_phoff + (off_t)i * (off_t)sizeof ph;
        if (pread(fd, &ph, sizeof ph, at) != (ssize_t)sizeof ph) return false;
        if (ph.p_type == PT_INTERP) return false;
    }
    return true;
}

/* Say once why cmd will run untraced, when it can be told from the file. */
static void check_command(const char *cmd)
{
    char file[PATH_MAX];
    struct stat st;
    if (!command_file(cmd, file, sizeof file) || stat(file, &st) != 0) return;
    if (st.st_mode & (S_ISUID | S_ISGID)) {
        cli_error("exec: --instrument: %s is setuid/setgid: the dynamic linker ignores "
                  "LD_PRELOAD for it, so it runs untraced",
                  cmd);
        return;
    }
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    if (elf_is_static(fd))
        cli_error("exec: --instrument: %s is statically linked: there is nothing to interpose, "
                  "so it runs untraced",
                  cmd);
    close(fd);
}

/* LD_PRELOAD with lib added after what is already there (a sanitizer runtime must stay first). */
static char *preload_value(const char *lib)
{
    const char *old = getenv("LD_PRELOAD");
    char *value = NULL;
    if (old && strstr(old, AUTO_LIBRARY)) return strdup(old); /* a nested otelc exec */
    if (old && *old) {
        if (asprintf(&value, "%s:%s", old, lib) < 0) return NULL;
        return value;
    }
    return strdup(lib);
}

bool cli_instrument_env(otelc_carrier *env, const char *libs, const char *cmd)
{
    char lib[PATH_MAX];
    check_command(cmd);
    if (!find_library(lib, sizeof lib)) return false;
    char *preload = preload_value(lib);
    if (!preload) return false;
    env->set(env->self, "LD_PRELOAD", preload);
    env->set(env->self, "OTELC_INSTRUMENT", *libs ? libs : "all");
    free(preload);
    return true;
}
