/*
 * protobuf.c - the out-of-line parts of the protobuf reader (protobuf.h):
 * long varints, skipping unknown fields and groups, whole-field reads.
 */
#include "export/protobuf.h"

bool otelc__pb_varint_slow(otelc_pb *r, uint64_t *out)
{
    const uint8_t *p = r->p;
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (p == r->end) return false;
        uint8_t b = *p++;
        if (shift == 63 && b > 1) return false; /* the tenth byte holds bit 63 only */
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            r->p = p;
            *out = v;
            return true;
        }
    }
    return false;
}

/*
 * Iterative, so that hostile nesting costs no stack: open[] holds the
 * field numbers of the groups entered, each of which must be closed by
 * an end-group key with the same number.
 */
bool otelc__pb_skip(otelc_pb *r, uint32_t field, otelc_pb_wire wt)
{
    uint32_t open[OTELC_PB_MAX_GROUP_DEPTH];
    size_t depth = 0;
    for (;;) {
        uint64_t v;
        otelc_pb body;
        switch (wt) {
        case OTELC_PB_VARINT:
            if (!otelc__pb_varint(r, &v)) return false;
            break;
        case OTELC_PB_I64:
            if (!otelc__pb_fixed64(r, &v)) return false;
            break;
        case OTELC_PB_I32:
            if (r->end - r->p < 4) return false;
            r->p += 4;
            break;
        case OTELC_PB_LEN:
            if (!otelc__pb_len(r, &body)) return false;
            break;
        case OTELC_PB_SGROUP:
            if (depth == OTELC_PB_MAX_GROUP_DEPTH) return false;
            open[depth++] = field;
            break;
        case OTELC_PB_EGROUP:
            if (depth == 0 || open[--depth] != field) return false;
            break;
        default:
            return false;
        }
        if (depth == 0) return true;
        if (!otelc__pb_key(r, &field, &wt)) return false;
    }
}

int otelc__pb_next(otelc_pb *r, otelc_pb_field *f)
{
    if (r->p == r->end) return 0;
    f->value = 0;
    f->body = (otelc_pb){r->p, r->p};
    if (!otelc__pb_key(r, &f->num, &f->wt)) return -1;
    uint32_t v32 = 0;
    bool ok;
    switch (f->wt) {
    case OTELC_PB_VARINT:
        ok = otelc__pb_varint(r, &f->value);
        break;
    case OTELC_PB_I64:
        ok = otelc__pb_fixed64(r, &f->value);
        break;
    case OTELC_PB_I32:
        ok = otelc__pb_fixed32(r, &v32);
        f->value = v32;
        break;
    case OTELC_PB_LEN:
        ok = otelc__pb_len(r, &f->body);
        break;
    default:
        ok = otelc__pb_skip(r, f->num, f->wt);
        break;
    }
    return ok ? 1 : -1;
}
