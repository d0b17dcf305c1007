/*
 * fuzz_yaml_config.c - the configuration file loader on arbitrary bytes:
 * YAML parsing, substitution, validation and the creation of the sampler,
 * propagator and resource (exporters and processors are only checked: a
 * fuzzer must not open files or sockets). Beyond not crashing or leaking:
 * a failed load leaves no object behind and reports at least one error,
 * and a successful one reports none.
 */
#include <stdlib.h>
#include <string.h>

#include "config/config_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *lookup(const char *name, void *user)
{
    (void)user;
    if (strcmp(name, "RATIO") == 0) return "0.5";
    if (strcmp(name, "NESTED") == 0) return "${RATIO}";
    if (strcmp(name, "MAP") == 0) return "a: b\nc: [d]";
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    otelc_file_config fc;
    int rc = otelc__config_file_parse("fuzz.yaml", (const char *)data, size, lookup, NULL,
                                      OTELC_CONFIG_CHECK_ONLY, &fc);
    if (rc == OTELC_OK && fc.error_count) abort();
    if (rc != OTELC_OK) {
        if (rc == OTELC_ERR_CONFIG && !fc.error_count) abort();
        if (fc.options.sampler || fc.options.resource || fc.options.propagator) abort();
        if (fc.options.processor_count) abort();
    }
    if (fc.options.processor_count) abort(); /* checking only */
    otelc__config_file_free(&fc);
    return 0;
}
