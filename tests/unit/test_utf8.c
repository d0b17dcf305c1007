/*
 * test_utf8.c - the one UTF-8 validator (util.c): RFC 3629's rules, and
 * its ASCII fast path, which reads eight bytes at a time, at every
 * length and with the odd byte at every position.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

#define MAX_LEN 40

static void test_ascii_every_length(void **state)
{
    (void)state;
    char s[MAX_LEN];
    memset(s, 'a', sizeof s);
    for (size_t n = 0; n <= MAX_LEN; n++) assert_true(otelc__utf8_valid(s, n));
    assert_true(otelc__utf8_valid("", 0));
    assert_true(otelc__utf8_valid("\0\x7f", 2)); /* NUL and DEL are ASCII */
}

/* A bad byte, or a good multi-byte sequence, at each position of each length. */
static void test_every_position(void **state)
{
    (void)state;
    static const struct {
        const char *seq;
        bool valid;
    } cases[] = {
        {"\xff", false},             /* never in UTF-8 */
        {"\x80", false},             /* a continuation byte alone */
        {"\xc3\xa9", true},          /* U+00E9 */
        {"\xe2\x82\xac", true},      /* U+20AC */
        {"\xf0\x9f\x98\x80", true},  /* U+1F600 */
        {"\xc0\xaf", false},         /* overlong '/' */
        {"\xe0\x80\xaf", false},     /* overlong '/' */
        {"\xed\xa0\x80", false},     /* a surrogate, U+D800 */
        {"\xf4\x90\x80\x80", false}, /* above U+10FFFF */
        {"\xe2\x82", false},         /* cut short */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t k = strlen(cases[c].seq);
        for (size_t n = k; n <= MAX_LEN; n++)
            for (size_t at = 0; at + k <= n; at++) {
                char s[MAX_LEN];
                memset(s, 'a', n);
                memcpy(s + at, cases[c].seq, k);
                if (otelc__utf8_valid(s, n) != cases[c].valid)
                    fail_msg("case %zu at %zu of %zu", c, at, n);
            }
    }
}

/* A valid sequence cut by the end of the string is invalid, wherever the end falls. */
static void test_truncated_at_the_end(void **state)
{
    (void)state;
    char s[MAX_LEN];
    for (size_t n = 1; n <= MAX_LEN; n++) {
        memset(s, 'a', n);
        s[n - 1] = '\xe2';
        assert_false(otelc__utf8_valid(s, n));
        if (n >= 2) {
            s[n - 2] = '\xf0', s[n - 1] = '\x9f';
            assert_false(otelc__utf8_valid(s, n));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii_every_length),
        cmocka_unit_test(test_every_position),
        cmocka_unit_test(test_truncated_at_the_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
