/*
 * ui_assets.c - finds an embedded UI file by its request path.
 *
 * The table itself is generated (viewer_ui_assets.c in the build
 * directory). Lookup is an exact match against it, so a path can only ever
 * name an embedded file; the checks before it refuse anything that looks
 * like a way out of the directory, so that a request with "..", an
 * encoded separator or a hidden name is refused loudly rather than merely
 * not found by luck.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ui_assets.h"

#define UI_PATH_MAX 255

static bool path_byte_allowed(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '/';
}

/* Every segment non-empty and not starting with '.', every byte allowed. */
static bool path_well_formed(const char *path)
{
    bool segment_start = true;
    for (const char *p = path; *p; p++) {
        if (!path_byte_allowed(*p)) return false;
        if (segment_start && (*p == '/' || *p == '.')) return false;
        segment_start = (*p == '/');
    }
    return !segment_start; /* no trailing '/' */
}

static int compare_path(const void *key, const void *elem)
{
    return strcmp(key, ((const vw_asset *)elem)->path);
}

const vw_asset *vw_ui_asset(const char *path)
{
    if (!path) return NULL;
    if (path[0] == '/') path++;
    if (path[0] == '\0') path = "index.html";
    if (strlen(path) > UI_PATH_MAX || !path_well_formed(path)) return NULL;
    return bsearch(path, vw_ui_assets, vw_ui_asset_count, sizeof vw_ui_assets[0], compare_path);
}
