/*
 * otelc/common.h - version and error codes shared by every otelc header.
 */
#ifndef OTELC_COMMON_H
#define OTELC_COMMON_H

/*
 * The one place otelc's version is written: CMakeLists.txt reads these three
 * lines for the project version, which names the shared libraries' soname
 * and goes into otelc.pc, otelcConfigVersion.cmake and `otelc --version`
 * (DEVELOPERS.md, "Releasing a version"). The header stays complete on its
 * own, so code compiled against include/ without CMake sees the same version.
 */
#define OTELC_VERSION_MAJOR 0
#define OTELC_VERSION_MINOR 1
#define OTELC_VERSION_PATCH 0
#define OTELC__STR(x)       #x
#define OTELC__XSTR(x)      OTELC__STR(x)
/* "MAJOR.MINOR.PATCH", a string literal. */
#define OTELC_VERSION                                                                              \
    OTELC__XSTR(OTELC_VERSION_MAJOR)                                                               \
    "." OTELC__XSTR(OTELC_VERSION_MINOR) "." OTELC__XSTR(OTELC_VERSION_PATCH)
/* For comparisons: OTELC_VERSION_NUMBER >= OTELC_MAKE_VERSION(0, 1, 0). */
#define OTELC_MAKE_VERSION(a, b, c) (((a) << 16) | ((b) << 8) | (c))
#define OTELC_VERSION_NUMBER                                                                       \
    OTELC_MAKE_VERSION(OTELC_VERSION_MAJOR, OTELC_VERSION_MINOR, OTELC_VERSION_PATCH)

/* Error codes returned by otelc functions (0 is success). */
typedef enum otelc_error {
    OTELC_OK = 0,
    OTELC_ERR_INVALID_ARG = -1,
    OTELC_ERR_NOMEM = -2,
    OTELC_ERR_CONFIG = -3,
    OTELC_ERR_STATE = -4,
    OTELC_ERR_TIMEOUT = -5,
    OTELC_ERR_PARSE = -6,
    OTELC_ERR_IO = -7,
    OTELC_ERR_DISABLED = -8,
    OTELC_ERR_EXPORT = -9,
    OTELC_ERR_UNSUPPORTED = -10,
} otelc_error;

#endif
