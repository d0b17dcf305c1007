/*
 * ui_assets.h - the web UI's files (viewer/ui/), compiled into the binary.
 *
 * The build turns every file of viewer/ui/ into a byte array and one entry
 * of vw_ui_assets (cmake/embed_ui.cmake writes viewer_ui_assets.c in the
 * build directory), so `otelc view` serves its UI with no file beside it
 * and a UI file can never be swapped under a running server.
 */
#ifndef OTELC_VIEWER_UI_ASSETS_H
#define OTELC_VIEWER_UI_ASSETS_H

#include <stddef.h>

typedef struct vw_asset {
    const char *path;           /* relative to viewer/ui/, no leading '/': "app.js" */
    const char *content_type;   /* the Content-Type header value, charset included for text */
    const unsigned char *bytes; /* length bytes, then a NUL that length does not count */
    size_t length;
    const char *etag; /* a strong ETag header value, quotes included: the SHA-256 of bytes */
} vw_asset;

/* Every embedded file, sorted by path (bytewise); vw_ui_asset_count of them. */
extern const vw_asset vw_ui_assets[];
extern const size_t vw_ui_asset_count;

/*
 * The file a request path names, or NULL. path is the URL path as the
 * server received it, without query or fragment: "/" and "" name
 * index.html, one leading '/' is optional ("/app.js" and "app.js" are the
 * same file). NULL is returned for a NULL path, a path longer than 255
 * bytes, one with a byte outside [A-Za-z0-9._/-], an empty or hidden
 * segment ("//", "/.x", "..": nothing outside viewer/ui/ can be named) and
 * any path that is not exactly an embedded file's. The result points into
 * static storage: never freed, valid for the life of the process.
 */
const vw_asset *vw_ui_asset(const char *path);

#endif
