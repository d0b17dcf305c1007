/*
 * otelc/instrument/redact.h - keeping credentials out of URL attributes.
 *
 * The OpenTelemetry semantic conventions forbid credentials in url.full and
 * ask instrumentations to replace the values of sensitive query parameters
 * with "REDACTED" while keeping the keys (q=x&sig=REDACTED). Every otelc
 * instrumentation and the otelc command use these functions, so one list of
 * sensitive names applies everywhere.
 *
 * Sensitive keys: the conventions' default list (AWSAccessKeyId, Signature,
 * sig, X-Goog-Signature), compared exactly, plus common secret names compared
 * case-insensitively after percent-decoding: password, passwd, pwd, pass,
 * token, access_token, refresh_token, id_token, secret, client_secret, key,
 * api_key, apikey, api-key, auth, authorization, credential, session,
 * sessionid, jwt, code, X-Amz-Signature, X-Amz-Credential,
 * X-Amz-Security-Token, X-Goog-Credential, and any key ending in "token",
 * "secret", "password", "signature", "_key" or "-key". Over-redacting a
 * harmless value is preferred to leaking a secret.
 *
 * The writers work like snprintf: they never write more than out_size bytes,
 * always NUL-terminate when out_size > 0, and return the full length the
 * result needs (excluding the NUL), so a caller can retry with a larger
 * buffer. Any byte sequence is accepted; nothing is ever read past len.
 */
#ifndef OTELC_INSTRUMENT_REDACT_H
#define OTELC_INSTRUMENT_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The replacement text the conventions prescribe. */
#define OTELC_REDACTED "REDACTED"

/*
 * True when a query parameter named key (len bytes, still percent-encoded
 * as it appears in the URL) holds a secret by the rules at the top of this
 * header.
 */
bool otelc_redact_is_sensitive_key(const char *key, size_t len);

/*
 * Copy a URL (len bytes) into out with its credentials removed: user
 * information becomes "REDACTED:REDACTED@" (or "REDACTED@" when there was no
 * password), and the values of sensitive parameters in the query and in a
 * "key=value" style fragment (OAuth puts tokens there) become "REDACTED".
 * URLs without a scheme, such as "user:pw@host/path" that libcurl accepts,
 * are handled too. Returns the length of the full result.
 */
size_t otelc_redact_url(const char *url, size_t len, char *out, size_t out_size);

/*
 * Copy a query string (without the leading '?'; len bytes) into out with the
 * values of sensitive parameters replaced by "REDACTED". Parameters are
 * separated by '&' or ';'. Returns the length of the full result.
 */
size_t otelc_redact_query(const char *query, size_t len, char *out, size_t out_size);

/*
 * otelc_redact_url() into a new malloc'd string (free() it), or NULL when
 * url is NULL or memory runs out.
 */
char *otelc_redact_url_dup(const char *url);

/* otelc_redact_query() into a new malloc'd string, or NULL. */
char *otelc_redact_query_dup(const char *query);

#ifdef __cplusplus
}
#endif
#endif
