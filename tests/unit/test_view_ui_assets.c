/*
 * test_view_ui_assets.c - the UI embedded in the viewer (viewer/ui_assets.h):
 * every file of viewer/ui/ is there byte for byte with the Content-Type its
 * extension calls for and its SHA-256 as ETag, what index.html and the
 * modules load is embedded, and the lookup refuses every path that is not
 * exactly an embedded file's.
 */
#define _XOPEN_SOURCE 700 /* nftw, strdup */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "ui_assets.h"

/* The command's SHA-256 checks the ETag CMake's file(SHA256) computed. */
#include "../../cli/file_digest.c"

#ifndef OTELC_UI_SOURCE_DIR
#error "OTELC_UI_SOURCE_DIR must name viewer/ui (viewer/CMakeLists.txt sets it)"
#endif

#define MAX_FILES 256

static char *disk_files[MAX_FILES]; /* paths relative to viewer/ui/ */
static size_t disk_count;

static int collect_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type != FTW_F) return 0;
    if (disk_count == MAX_FILES) return 1;
    disk_files[disk_count++] = strdup(path + strlen(OTELC_UI_SOURCE_DIR) + 1);
    return 0;
}

static int setup_files(void **state)
{
    (void)state;
    return nftw(OTELC_UI_SOURCE_DIR, collect_file, 16, FTW_PHYS) == 0 ? 0 : -1;
}

static int teardown_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < disk_count; i++) free(disk_files[i]);
    disk_count = 0;
    return 0;
}

static char *read_whole(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", OTELC_UI_SOURCE_DIR, rel);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size >= 0);
    rewind(f);
    char *data = malloc((size_t)size + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *len = (size_t)size;
    return data;
}

/* The types browsers need: a module script is refused unless it is JavaScript. */
static const char *expected_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    assert_non_null(dot);
    if (strcmp(dot, ".html") == 0) return "text/html; charset=utf-8";
    if (strcmp(dot, ".js") == 0) return "text/javascript; charset=utf-8";
    if (strcmp(dot, ".css") == 0) return "text/css; charset=utf-8";
    if (strcmp(dot, ".svg") == 0) return "image/svg+xml";
    fail_msg("viewer/ui/%s: an extension this test does not know", path);
    return NULL;
}

static void test_every_file_embedded_as_it_is(void **state)
{
    (void)state;
    assert_true(disk_count >= 3); /* index.html, app.js, app.css at least */
    assert_int_equal(vw_ui_asset_count, disk_count);
    for (size_t i = 0; i < disk_count; i++) {
        char url[300];
        snprintf(url, sizeof url, "/%s", disk_files[i]);
        const vw_asset *a = vw_ui_asset(url);
        if (!a) fail_msg("viewer/ui/%s is not embedded", disk_files[i]);
        assert_ptr_equal(vw_ui_asset(disk_files[i]), a);
        assert_string_equal(a->path, disk_files[i]);
        assert_string_equal(a->content_type, expected_type(disk_files[i]));

        size_t len;
        char *data = read_whole(disk_files[i], &len);
        assert_int_equal(a->length, len);
        assert_memory_equal(a->bytes, data, len);
        assert_int_equal(a->bytes[len], 0);

        char etag[FILE_DIGEST_HEX_LEN + 3] = "\"";
        uint64_t size;
        if (file_sha256(disk_files[i], etag + 1, &size) == 0) { /* a build with OpenSSL's headers */
            strcat(etag, "\"");
            assert_string_equal(a->etag, etag);
        }
        free(data);
    }
}

static void test_table_sorted(void **state)
{
    (void)state;
    for (size_t i = 1; i < vw_ui_asset_count; i++)
        assert_true(strcmp(vw_ui_assets[i - 1].path, vw_ui_assets[i].path) < 0);
}

static void test_root_is_index(void **state)
{
    (void)state;
    const vw_asset *index = vw_ui_asset("/index.html");
    assert_non_null(index);
    assert_ptr_equal(vw_ui_asset("/"), index);
    assert_ptr_equal(vw_ui_asset(""), index);
    assert_ptr_equal(vw_ui_asset("index.html"), index);
}

static void test_refuses_other_paths(void **state)
{
    (void)state;
    static const char *const refused[] = {
        "../CMakeLists.txt",
        "/../index.html",
        "/ui/../index.html",
        "..",
        "/..",
        "./index.html",
        "/./index.html",
        "//index.html",
        "/index.html/",
        "/.index.html",
        "/%2e%2e/index.html",
        "/index.html?x=1",
        "/index.html#x",
        "\\index.html",
        "/INDEX.HTML",
        "/index.htm",
        "/nope.js",
        "/api/services",
        "/app.js\n",
        "/ index.html",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (vw_ui_asset(refused[i])) fail_msg("\"%s\" was not refused", refused[i]);
    assert_null(vw_ui_asset(NULL));

    char long_path[400];
    memset(long_path, 'a', sizeof long_path - 1);
    long_path[sizeof long_path - 1] = '\0';
    assert_null(vw_ui_asset(long_path));
}

/* Every quoted name after `marker` (src=", href=", from ') names an embedded file. */
static void assert_references_embedded(const vw_asset *a, const char *marker, char quote)
{
    const char *text = (const char *)a->bytes;
    for (const char *p = strstr(text, marker); p; p = strstr(p, marker)) {
        p += strlen(marker);
        const char *end = strchr(p, quote);
        assert_non_null(end);
        char ref[256];
        size_t n = (size_t)(end - p);
        assert_true(n < sizeof ref);
        memcpy(ref, p, n);
        ref[n] = '\0';
        if (strncmp(ref, "#", 1) == 0) continue; /* an in-page link */
        const char *name = strncmp(ref, "./", 2) == 0 ? ref + 2 : ref;
        if (!vw_ui_asset(name)) fail_msg("%s loads \"%s\", which is not embedded", a->path, ref);
    }
}

static void test_what_the_page_loads_is_embedded(void **state)
{
    (void)state;
    const vw_asset *index = vw_ui_asset("/");
    assert_non_null(index);
    assert_non_null(strstr((const char *)index->bytes, "<script type=\"module\""));
    assert_references_embedded(index, "src=\"", '"');
    assert_references_embedded(index, "href=\"", '"');
    for (size_t i = 0; i < vw_ui_asset_count; i++) {
        const vw_asset *a = &vw_ui_assets[i];
        if (strcmp(a->content_type, expected_type("x.js")) != 0) continue;
        assert_references_embedded(a, " from './", '\'');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_file_embedded_as_it_is),
        cmocka_unit_test(test_table_sorted),
        cmocka_unit_test(test_root_is_index),
        cmocka_unit_test(test_refuses_other_paths),
        cmocka_unit_test(test_what_the_page_loads_is_embedded),
    };
    return cmocka_run_group_tests(tests, setup_files, teardown_files);
}
