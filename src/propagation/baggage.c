/*
 * baggage.c - immutable baggage maps, the W3C baggage header and its
 * propagator.
 *
 * A baggage is one allocation: the header, the entry array and every string
 * behind it. It is never modified after it is built, so readers need no
 * locks and "set" is a copy.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "propagation.h"

/* ---- Character classes and percent-encoding ---------------------------------- */

/* RFC 7230 tchar. */
static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

bool otelc__is_token(const char *s, size_t n)
{
    if (s == NULL || n == 0) return false;
    for (size_t i = 0; i < n; i++)
        if (!is_tchar((unsigned char)s[i])) return false;
    return true;
}

bool otelc__baggage_octet(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
           (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

static const char upper_hex[] = "0123456789ABCDEF";

size_t otelc__pct_encode(const char *in, size_t n, bool (*keep)(unsigned char), char *out,
                         size_t out_size)
{
    size_t len = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c != '%' && keep(c)) {
            if (len < out_size) out[len] = (char)c;
            len++;
            continue;
        }
        if (len + 3 <= out_size) {
            out[len] = '%';
            out[len + 1] = upper_hex[c >> 4];
            out[len + 2] = upper_hex[c & 0xf];
        }
        len += 3;
    }
    return len;
}

static int any_hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int otelc__pct_decode(const char *in, size_t n, char *out)
{
    size_t len = 0;

    if (n > INT_MAX) return -1;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (in[i] != '%') {
            if (in[i] == '\0') return -1;
            out[len++] = in[i];
            continue;
        }
        if (i + 2 >= n) return -1;
        hi = any_hex(in[i + 1]);
        lo = any_hex(in[i + 2]);
        if (hi < 0 || lo < 0 || (hi | lo) == 0) return -1;
        out[len++] = (char)(hi << 4 | lo);
        i += 2;
    }
    return (int)len;
}

/* ---- Building --------------------------------------------------------------------- */

/* An entry before it is copied into a baggage; meta NULL means none. */
typedef struct bag_item {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
    const char *meta;
    size_t meta_len;
} bag_item;

static char *put_string(char **pool, const char *s, size_t n)
{
    char *out = *pool;

    if (n) memcpy(out, s, n);
    out[n] = '\0';
    *pool += n + 1;
    return out;
}

static otelc_baggage *bag_build(const bag_item *items, size_t n)
{
    size_t size = sizeof(struct otelc_baggage) + n * sizeof(struct otelc_baggage_entry);
    struct otelc_baggage *bg;
    char *pool;

    for (size_t i = 0; i < n; i++)
        size +=
            items[i].key_len + items[i].value_len + 2 + (items[i].meta ? items[i].meta_len + 1 : 0);
    bg = malloc(size);
    if (bg == NULL) return NULL;
    atomic_init(&bg->refs, 1);
    bg->count = n;
    bg->entries = (struct otelc_baggage_entry *)(bg + 1);
    pool = (char *)(bg->entries + n);
    for (size_t i = 0; i < n; i++) {
        struct otelc_baggage_entry *e = &bg->entries[i];
        e->key = put_string(&pool, items[i].key, items[i].key_len);
        e->value = put_string(&pool, items[i].value, items[i].value_len);
        e->metadata = items[i].meta ? put_string(&pool, items[i].meta, items[i].meta_len) : NULL;
    }
    return bg;
}

static void item_of_entry(const struct otelc_baggage_entry *e, bag_item *it)
{
    it->key = e->key;
    it->key_len = strlen(e->key);
    it->value = e->value;
    it->value_len = strlen(e->value);
    it->meta = e->metadata;
    it->meta_len = e->metadata ? strlen(e->metadata) : 0;
}

/* Copy bg's entries into items (room for bg->count); returns the count. */
static size_t items_of(const otelc_baggage *bg, bag_item *items)
{
    size_t n = bg ? bg->count : 0;

    for (size_t i = 0; i < n; i++) item_of_entry(&bg->entries[i], &items[i]);
    return n;
}

/* Replace the item with its key in place, or append it. Returns the count. */
static size_t items_put(bag_item *items, size_t n, const bag_item *it)
{
    for (size_t i = 0; i < n; i++) {
        if (items[i].key_len == it->key_len && memcmp(items[i].key, it->key, it->key_len) == 0) {
            items[i] = *it;
            return n;
        }
    }
    items[n] = *it;
    return n + 1;
}

static ssize_t find(const otelc_baggage *bg, const char *key)
{
    if (bg == NULL || key == NULL) return -1;
    for (size_t i = 0; i < bg->count; i++)
        if (strcmp(bg->entries[i].key, key) == 0) return (ssize_t)i;
    return -1;
}

/* ---- Public map operations -------------------------------------------------------- */

const char *otelc_baggage_get(const otelc_baggage *bg, const char *key)
{
    ssize_t i = find(bg, key);
    return i < 0 ? NULL : bg->entries[i].value;
}

const char *otelc_baggage_get_metadata(const otelc_baggage *bg, const char *key)
{
    ssize_t i = find(bg, key);
    return i < 0 ? NULL : bg->entries[i].metadata;
}

otelc_baggage *otelc_baggage_set(const otelc_baggage *bg, const char *key, const char *value,
                                 const char *metadata)
{
    bag_item *items, it;
    otelc_baggage *out;
    size_t n;

    if (key == NULL || value == NULL || !otelc__is_token(key, strlen(key))) return NULL;
    items = malloc(((bg ? bg->count : 0) + 1) * sizeof *items);
    if (items == NULL) return NULL;
    it = (bag_item){key,           strlen(key), value,
                    strlen(value), metadata,    metadata ? strlen(metadata) : 0};
    n = items_put(items, items_of(bg, items), &it);
    out = bag_build(items, n);
    free(items);
    return out;
}

otelc_baggage *otelc_baggage_remove(const otelc_baggage *bg, const char *key)
{
    bag_item *items;
    otelc_baggage *out;
    size_t n = 0;

    if (bg == NULL) return NULL;
    items = malloc((bg->count + 1) * sizeof *items);
    if (items == NULL) return NULL;
    for (size_t i = 0; i < bg->count; i++)
        if (key == NULL || strcmp(bg->entries[i].key, key) != 0)
            item_of_entry(&bg->entries[i], &items[n++]);
    out = bag_build(items, n);
    free(items);
    return out;
}

size_t otelc_baggage_count(const otelc_baggage *bg)
{
    return bg ? bg->count : 0;
}

bool otelc_baggage_entry(const otelc_baggage *bg, size_t i, const char **key, const char **value,
                         const char **metadata)
{
    if (bg == NULL || i >= bg->count) return false;
    if (key) *key = bg->entries[i].key;
    if (value) *value = bg->entries[i].value;
    if (metadata) *metadata = bg->entries[i].metadata;
    return true;
}

otelc_baggage *otelc_baggage_retain(const otelc_baggage *bg)
{
    otelc_baggage *m = (otelc_baggage *)(uintptr_t)bg;

    if (m) atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void otelc_baggage_release(const otelc_baggage *bg)
{
    otelc_baggage *m = (otelc_baggage *)(uintptr_t)bg;

    if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1) free(m);
}

/* ---- The header --------------------------------------------------------------------- */

static bool is_property_char(unsigned char c)
{
    return c >= 0x20 && c <= 0x7e && c != ',';
}

static bool all_chars(const char *s, size_t n, bool (*ok)(unsigned char))
{
    for (size_t i = 0; i < n; i++)
        if (!ok((unsigned char)s[i])) return false;
    return true;
}

/*
 * Parse one list member s[0..n) (OWS trimmed, non-empty). The decoded value
 * goes to *scratch, which advances. False when the member is invalid.
 */
static bool parse_member(const char *s, size_t n, char **scratch, bag_item *it)
{
    const char *semi = memchr(s, ';', n);
    size_t kv_len = semi ? (size_t)(semi - s) : n;
    const char *eq = memchr(s, '=', kv_len);
    const char *key = s, *val;
    size_t key_len, val_len;
    int dec;

    if (n > OTELC_BAGGAGE_MAX_MEMBER_BYTES || eq == NULL) return false;
    key_len = (size_t)(eq - s);
    val = eq + 1;
    val_len = kv_len - key_len - 1;
    otelc__trim_ows(&key, &key_len);
    otelc__trim_ows(&val, &val_len);
    if (!otelc__is_token(key, key_len) || !all_chars(val, val_len, otelc__baggage_octet))
        return false;
    dec = otelc__pct_decode(val, val_len, *scratch);
    if (dec < 0) return false;
    *it = (bag_item){key, key_len, *scratch, (size_t)dec, NULL, 0};
    *scratch += dec;
    if (semi == NULL) return true;
    it->meta = semi + 1;
    it->meta_len = n - kv_len - 1;
    otelc__trim_ows(&it->meta, &it->meta_len);
    return all_chars(it->meta, it->meta_len, is_property_char);
}

/* The parser state: the items so far and what the header has used up. */
typedef struct bag_parse_state {
    bag_item *items;
    size_t count;
    size_t members; /* taken from the header */
    size_t bytes;   /* header bytes those members used */
    size_t rejected;
} bag_parse_state;

static void take_member(bag_parse_state *st, const char *s, size_t n, char **scratch)
{
    size_t bytes = st->bytes + (st->members ? 1 : 0) + n;
    bag_item it;

    if (!parse_member(s, n, scratch, &it)) {
        st->rejected++;
        return;
    }
    if (st->members == OTELC_BAGGAGE_MAX_MEMBERS || bytes > OTELC_BAGGAGE_MAX_BYTES) {
        st->rejected++;
        return;
    }
    st->members++;
    st->bytes = bytes;
    st->count = items_put(st->items, st->count, &it);
}

static void scan_members(bag_parse_state *st, const char *value, size_t len, char *scratch)
{
    const char *pos = value, *end = value + len;

    while (pos < end) {
        const char *comma = memchr(pos, ',', (size_t)(end - pos));
        const char *s = pos;
        size_t n = (size_t)((comma ? comma : end) - pos);

        pos = comma ? comma + 1 : end;
        otelc__trim_ows(&s, &n);
        if (n > 0) take_member(st, s, n, &scratch);
    }
}

otelc_baggage *otelc__baggage_parse(const otelc_baggage *base, const char *value, size_t len,
                                    size_t *rejected)
{
    size_t base_count = base ? base->count : 0;
    bag_parse_state st = {0};
    otelc_baggage *out = NULL;
    char *scratch;

    *rejected = 0;
    if (value == NULL) {
        value = "";
        len = 0;
    }
    st.items = malloc((base_count + OTELC_BAGGAGE_MAX_MEMBERS) * sizeof *st.items);
    scratch = malloc(len + 1);
    if (st.items == NULL || scratch == NULL) goto done;
    st.count = items_of(base, st.items);
    scan_members(&st, value, len, scratch);
    *rejected = st.rejected;
    if (st.members == 0)
        out = otelc_baggage_retain(base);
    else
        out = bag_build(st.items, st.count);
done:
    free(st.items);
    free(scratch);
    return out;
}

otelc_baggage *otelc_baggage_parse(const otelc_baggage *base, const char *value, size_t len)
{
    size_t rejected;
    return otelc__baggage_parse(base, value, len, &rejected);
}

/* '=' is a legal value octet, but naive readers split on it: escape it too. */
static bool value_keep(unsigned char c)
{
    return c != '=' && otelc__baggage_octet(c);
}

/* The length of e as a list member, or 0 when it cannot be sent. */
static size_t member_len(const struct otelc_baggage_entry *e)
{
    size_t n =
        strlen(e->key) + 1 + otelc__pct_encode(e->value, strlen(e->value), value_keep, NULL, 0);

    if (!otelc__is_token(e->key, strlen(e->key))) return 0;
    if (e->metadata) {
        size_t m = strlen(e->metadata);
        if (!all_chars(e->metadata, m, is_property_char)) return 0;
        n += 1 + m;
    }
    return n > OTELC_BAGGAGE_MAX_MEMBER_BYTES ? 0 : n;
}

/* Write e at out + pos when it fits in out_size (NUL included). */
static void write_member(const struct otelc_baggage_entry *e, char *out, size_t out_size,
                         size_t pos, size_t n)
{
    size_t k = strlen(e->key);

    if (out == NULL || pos + n + 1 > out_size) return;
    memcpy(out + pos, e->key, k);
    out[pos + k] = '=';
    pos += k + 1;
    pos += otelc__pct_encode(e->value, strlen(e->value), value_keep, out + pos, out_size - pos);
    if (e->metadata) {
        out[pos++] = ';';
        memcpy(out + pos, e->metadata, strlen(e->metadata));
    }
}

int otelc_baggage_format(const otelc_baggage *bg, char *out, size_t out_size)
{
    size_t len = 0, members = 0;

    for (size_t i = 0; bg && i < bg->count && members < OTELC_BAGGAGE_MAX_MEMBERS; i++) {
        size_t n = member_len(&bg->entries[i]);
        size_t sep = len ? 1 : 0;

        if (n == 0 || len + sep + n > OTELC_BAGGAGE_MAX_BYTES) continue;
        if (sep && len + 1 < out_size) out[len] = ',';
        write_member(&bg->entries[i], out, out_size, len + sep, n);
        len += sep + n;
        members++;
    }
    if (out != NULL && out_size > 0) out[len < out_size ? len : out_size - 1] = '\0';
    return (int)len;
}

/* ---- The propagator ------------------------------------------------------------------ */

static void bg_inject(const otelc_propagator *p, const otelc_context *ctx,
                      const otelc_carrier *carrier)
{
    char buf[OTELC_BAGGAGE_MAX_BYTES + 1];
    int n = otelc_baggage_format(otelc_context_baggage(ctx), buf, sizeof buf);

    if (n > 0 && (size_t)n < sizeof buf) carrier->set(carrier->self, "baggage", buf);
}

static otelc_context *bg_extract(const otelc_propagator *p, otelc_context *ctx,
                                 const otelc_carrier *carrier)
{
    const otelc_baggage *base = otelc_context_baggage(ctx);
    size_t rejected;
    char *owned;
    const char *value = otelc__carrier_get_lines(carrier, "baggage", &owned);
    otelc_baggage *bg;

    if (value == NULL) return ctx;
    bg = otelc__baggage_parse(base, value, strlen(value), &rejected);
    free(owned);
    if (rejected) otelc__stats_global_add(OTELC_STAT_PROPAGATION_ERRORS, 1);
    if (bg != NULL && bg != base) ctx = otelc__ctx_put_baggage(ctx, bg);
    otelc_baggage_release(bg);
    return ctx;
}

static const otelc_propagator_ops baggage_ops = {bg_inject, bg_extract, NULL};
static otelc_propagator baggage_propagator = {&baggage_ops, 0, NULL, OTELC__HEADER_LETTER('b')};

otelc_propagator *otelc_propagator_baggage(void)
{
    return &baggage_propagator;
}
