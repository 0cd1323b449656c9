/* files_entry.c: the tree entry record codec (one JSON object per line) and
 * the tree order. Byte strings that are not valid UTF-8 (names, link
 * targets, xattr names) are written as "<key>_b64" instead of "<key>", so
 * any byte but NUL round-trips. Invariant: encoding is deterministic (sorted
 * keys, compact), so an unchanged tree gives identical bytes and dedups. */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "engine/source/files/src_files.h"

static const char *const type_names[SRC_FILES_TYPE__COUNT] = {
    "file", "dir", "symlink", "hardlink", "fifo", "char", "block",
};

const char *src_files_type_name(SrcFilesType t)
{
    return (unsigned)t < SRC_FILES_TYPE__COUNT ? type_names[t] : "?";
}

void src_files_entry_clear(SrcFilesEntry *e)
{
    if (!e) return;
    free(e->path);
    free(e->uname);
    free(e->gname);
    json_decref(e->data);
    free(e->sparse);
    free(e->link);
    for (size_t i = 0; i < e->nxattrs; i++) {
        free(e->xattrs[i].name);
        free(e->xattrs[i].value);
    }
    free(e->xattrs);
    free(e->acl_access);
    free(e->acl_default);
    free(e->acl_nfs4);
    free(e->fflags);
    memset(e, 0, sizeof(*e));
}

int src_files_path_cmp(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    while (*x && *x == *y) {
        x++;
        y++;
    }
    /* '/' sorts before every other byte: a directory's subtree comes right
     * after it, before its siblings ("a", "a/z", "a b"). */
    unsigned cx = *x == '/' ? 1u : (*x ? (unsigned)*x + 1u : 0u);
    unsigned cy = *y == '/' ? 1u : (*y ? (unsigned)*y + 1u : 0u);
    return cx < cy ? -1 : cx > cy ? 1 : 0;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t need;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) { need = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { need = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 4; cp = c & 0x07; }
    else return 0;
    if (n < need) return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return need;
}

const char *src_files_path_print(const char *path, char *buf, size_t cap)
{
    const unsigned char *s = (const unsigned char *)path;
    size_t n = strlen(path), o = 0, i = 0;
    if (cap < 8) {
        if (cap) buf[0] = 0;
        return buf;
    }
    while (i < n) {
        size_t q = utf8_seq(s + i, n - i);
        bool esc = q == 0 || s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\';
        size_t w = esc ? 4 : q;
        if (o + w + 4 > cap) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (esc) {
            static const char hx[] = "0123456789abcdef";
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hx[s[i] >> 4];
            buf[o++] = hx[s[i] & 15];
            i++;
        } else {
            memcpy(buf + o, s + i, q);
            o += q;
            i += q;
        }
    }
    buf[o] = 0;
    return buf;
}

/* ---- encoding -------------------------------------------------------- */

static int set_new(json_t *o, const char *key, json_t *v, Err *err)
{
    if (!v || json_object_set_new(o, key, v))
        return err_set(err, ERR_NOMEM, "encode tree entry field %s", key);
    return 0;
}

/* bytes as "<key>" when valid UTF-8, else "<key>_b64". */
static int set_bytes(json_t *o, const char *key, const uint8_t *p, size_t len, Err *err)
{
    json_t *s = json_stringn((const char *)p, len);   /* NULL when not UTF-8 */
    if (s) return set_new(o, key, s, err);
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *b = malloc(cap);
    if (!b) return err_set(err, ERR_NOMEM, "encode tree entry field %s", key);
    sodium_bin2base64(b, cap, p, len, sodium_base64_VARIANT_ORIGINAL);
    char k[64];
    snprintf(k, sizeof(k), "%s_b64", key);
    int rc = set_new(o, k, json_string(b), err);
    free(b);
    return rc;
}

static int set_int(json_t *o, const char *key, int64_t v, Err *err)
{
    return set_new(o, key, json_integer((json_int_t)v), err);
}

static json_t *entry_to_json(const SrcFilesEntry *e, Err *err)
{
    json_t *o = json_object();
    int rc = o ? 0 : err_set(err, ERR_NOMEM, "encode tree entry");
    const SrcFilesType t = e->type;
    const bool content = t == SRC_FILES_FILE || t == SRC_FILES_HARDLINK;

    if (!rc) rc = set_bytes(o, "path", (const uint8_t *)e->path, strlen(e->path), err);
    if (!rc) rc = set_new(o, "type", json_string(src_files_type_name(t)), err);
    if (!rc) rc = set_int(o, "mode", e->mode, err);
    if (!rc) rc = set_int(o, "uid", e->uid, err);
    if (!rc) rc = set_int(o, "gid", e->gid, err);
    if (!rc && e->uname) rc = set_bytes(o, "uname", (const uint8_t *)e->uname, strlen(e->uname), err);
    if (!rc && e->gname) rc = set_bytes(o, "gname", (const uint8_t *)e->gname, strlen(e->gname), err);
    if (!rc) rc = set_int(o, "mtime", e->mtime_ns, err);
    if (!rc) rc = set_int(o, "ctime", e->ctime_ns, err);
    if (!rc) rc = set_int(o, "ino", (int64_t)e->ino, err);
    if (!rc) rc = set_int(o, "dev", (int64_t)e->dev, err);
    if (!rc && e->nlink > 1) rc = set_int(o, "nlink", e->nlink, err);
    if (!rc && content) rc = set_int(o, "size", (int64_t)e->size, err);
    if (!rc && content) {
        if (!e->data) rc = err_set(err, ERR_INVALID, "encode tree entry: file without data");
        else rc = set_new(o, "data", json_incref(e->data), err);
    }
    if (!rc && e->nsparse) {
        json_t *a = json_array();
        rc = set_new(o, "sparse", a, err);
        for (size_t i = 0; !rc && i < e->nsparse; i++) {
            json_t *pair = json_pack("[II]", (json_int_t)e->sparse[2 * i],
                                     (json_int_t)e->sparse[2 * i + 1]);
            if (!pair || json_array_append_new(a, pair))
                rc = err_set(err, ERR_NOMEM, "encode tree entry sparse map");
        }
    }
    if (!rc && e->link) rc = set_bytes(o, "link", (const uint8_t *)e->link, strlen(e->link), err);
    if (!rc && (t == SRC_FILES_CHAR || t == SRC_FILES_BLOCK)) rc = set_int(o, "rdev", (int64_t)e->rdev, err);
    if (!rc && e->nxattrs) {
        json_t *a = json_array();
        rc = set_new(o, "xattrs", a, err);
        for (size_t i = 0; !rc && i < e->nxattrs; i++) {
            const SrcFilesXattr *x = &e->xattrs[i];
            json_t *xo = json_object();
            if (!xo || json_array_append_new(a, xo)) {
                rc = err_set(err, ERR_NOMEM, "encode tree entry xattrs");
                break;
            }
            rc = set_bytes(xo, "name", (const uint8_t *)x->name, strlen(x->name), err);
            if (!rc) {
                size_t cap = sodium_base64_ENCODED_LEN(x->len, sodium_base64_VARIANT_ORIGINAL);
                char *b = malloc(cap);
                if (!b) rc = err_set(err, ERR_NOMEM, "encode xattr");
                else {
                    sodium_bin2base64(b, cap, x->value, x->len, sodium_base64_VARIANT_ORIGINAL);
                    rc = set_new(xo, "value_b64", json_string(b), err);
                    free(b);
                }
            }
        }
    }
    if (!rc && e->acl_access) rc = set_new(o, "acl_access", json_string(e->acl_access), err);
    if (!rc && e->acl_default) rc = set_new(o, "acl_default", json_string(e->acl_default), err);
    if (!rc && e->acl_nfs4) rc = set_new(o, "acl_nfs4", json_string(e->acl_nfs4), err);
    if (!rc && e->fflags) rc = set_new(o, "fflags", json_string(e->fflags), err);
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int src_files_entry_encode(const SrcFilesEntry *e, Buf *out, Err *err)
{
    json_t *o = entry_to_json(e, err);
    if (!o) return err->code ? err->code : ERR_NOMEM;
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (!s) return err_set(err, ERR_NOMEM, "encode tree entry");
    int rc = buf_append_str(out, s, err);
    if (!rc) rc = buf_append(out, "\n", 1, err);
    free(s);
    return rc;
}

/* ---- decoding -------------------------------------------------------- */

/* Byte string field: "<key>" or "<key>_b64". *out NULL when absent (and
 * required is false). NUL bytes are refused (a C path cannot hold them). */
static int get_bytes(const json_t *o, const char *key, bool required, char **out, size_t *out_len,
                     Err *err)
{
    char k[64];
    const json_t *v = json_object_get(o, key);
    *out = NULL;
    snprintf(k, sizeof(k), "%s_b64", key);
    const json_t *b = json_object_get(o, k);
    if (v && b) return err_set(err, ERR_CORRUPT, "tree entry has both %s and %s", key, k);
    if (!v && !b) {
        if (required) return err_set(err, ERR_CORRUPT, "tree entry without %s", key);
        return 0;
    }
    if (!json_is_string(v ? v : b)) return err_set(err, ERR_CORRUPT, "tree entry field %s is not a string", v ? key : k);
    const char *s = json_string_value(v ? v : b);
    size_t slen = json_string_length(v ? v : b);
    char *r = malloc(slen + 1);
    size_t n = 0;
    if (!r) return err_set(err, ERR_NOMEM, "decode tree entry");
    if (v) {
        memcpy(r, s, slen);
        n = slen;
    } else if (sodium_base642bin((unsigned char *)r, slen + 1, s, slen, NULL, &n, NULL,
                                 sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(r);
        return err_set(err, ERR_CORRUPT, "tree entry field %s is not valid base64", k);
    }
    r[n] = 0;
    if (!out_len && memchr(r, 0, n)) {
        free(r);
        return err_set(err, ERR_CORRUPT, "tree entry field %s contains a NUL byte", key);
    }
    *out = r;
    if (out_len) *out_len = n;
    return 0;
}

static int get_int(const json_t *o, const char *key, bool required, int64_t lo, int64_t hi,
                   int64_t *out, Err *err)
{
    const json_t *v = json_object_get(o, key);
    if (!v) {
        if (required) return err_set(err, ERR_CORRUPT, "tree entry without %s", key);
        return 0;
    }
    if (!json_is_integer(v)) return err_set(err, ERR_CORRUPT, "tree entry field %s is not an integer", key);
    int64_t x = (int64_t)json_integer_value(v);
    if (x < lo || x > hi) return err_set(err, ERR_CORRUPT, "tree entry field %s out of range", key);
    *out = x;
    return 0;
}

static int get_text(const json_t *o, const char *key, char **out, Err *err)
{
    const json_t *v = json_object_get(o, key);
    if (!v) return 0;
    if (!json_is_string(v)) return err_set(err, ERR_CORRUPT, "tree entry field %s is not a string", key);
    *out = strdup(json_string_value(v));
    return *out ? 0 : err_set(err, ERR_NOMEM, "decode tree entry");
}

static int decode_obj(const json_t *o, SrcFilesEntry *e, Err *err)
{
    int rc;
    int64_t v = 0;
    const char *tn = json_string_value(json_object_get(o, "type"));

    if (!json_is_object(o)) return err_set(err, ERR_CORRUPT, "tree entry is not an object");
    rc = get_bytes(o, "path", true, &e->path, NULL, err);
    if (rc) return rc;
    if (!tn) return err_set(err, ERR_CORRUPT, "tree entry without type");
    e->type = SRC_FILES_TYPE__COUNT;
    for (int i = 0; i < SRC_FILES_TYPE__COUNT; i++)
        if (!strcmp(tn, type_names[i])) e->type = (SrcFilesType)i;
    if (e->type == SRC_FILES_TYPE__COUNT) return err_set(err, ERR_CORRUPT, "tree entry has unknown type");
    const bool content = e->type == SRC_FILES_FILE || e->type == SRC_FILES_HARDLINK;

    if ((rc = get_int(o, "mode", true, 0, 07777, &v, err))) return rc;
    e->mode = (uint32_t)v;
    if ((rc = get_int(o, "uid", true, INT64_MIN, INT64_MAX, &e->uid, err))) return rc;
    if ((rc = get_int(o, "gid", true, INT64_MIN, INT64_MAX, &e->gid, err))) return rc;
    if ((rc = get_bytes(o, "uname", false, &e->uname, NULL, err))) return rc;
    if ((rc = get_bytes(o, "gname", false, &e->gname, NULL, err))) return rc;
    if ((rc = get_int(o, "mtime", true, INT64_MIN, INT64_MAX, &e->mtime_ns, err))) return rc;
    if ((rc = get_int(o, "ctime", false, INT64_MIN, INT64_MAX, &e->ctime_ns, err))) return rc;
    v = 0;
    if ((rc = get_int(o, "ino", false, INT64_MIN, INT64_MAX, &v, err))) return rc;
    e->ino = (uint64_t)v;
    v = 0;
    if ((rc = get_int(o, "dev", false, INT64_MIN, INT64_MAX, &v, err))) return rc;
    e->dev = (uint64_t)v;
    v = 1;
    if ((rc = get_int(o, "nlink", false, 0, UINT32_MAX, &v, err))) return rc;
    e->nlink = (uint32_t)v;
    if (content) {
        if ((rc = get_int(o, "size", true, 0, INT64_MAX, &v, err))) return rc;
        e->size = (uint64_t)v;
        json_t *d = json_object_get(o, "data");
        if (!json_is_object(d)) return err_set(err, ERR_CORRUPT, "tree entry without data");
        e->data = json_incref(d);
    }
    json_t *sp = json_object_get(o, "sparse");
    if (sp) {
        uint64_t end = 0, total = 0;
        if (!json_is_array(sp) || !content) return err_set(err, ERR_CORRUPT, "tree entry has a bad sparse map");
        e->nsparse = json_array_size(sp);
        e->sparse = calloc(e->nsparse ? 2 * e->nsparse : 1, sizeof(uint64_t));
        if (!e->sparse) return err_set(err, ERR_NOMEM, "decode tree entry");
        for (size_t i = 0; i < e->nsparse; i++) {
            json_int_t off = 0, len = 0;
            if (json_unpack(json_array_get(sp, i), "[II]", &off, &len) || off < 0 || len < 0 ||
                (uint64_t)off < end || (uint64_t)off + (uint64_t)len > e->size)
                return err_set(err, ERR_CORRUPT, "tree entry has a bad sparse map");
            e->sparse[2 * i] = (uint64_t)off;
            e->sparse[2 * i + 1] = (uint64_t)len;
            end = (uint64_t)off + (uint64_t)len;
            total += (uint64_t)len;
        }
        json_int_t dsz = json_integer_value(json_object_get(e->data, "size"));
        if ((uint64_t)dsz != total)
            return err_set(err, ERR_CORRUPT, "tree entry sparse map does not match its data size");
    }
    if ((rc = get_bytes(o, "link", false, &e->link, NULL, err))) return rc;
    if ((e->type == SRC_FILES_SYMLINK || e->type == SRC_FILES_HARDLINK) && !e->link)
        return err_set(err, ERR_CORRUPT, "tree entry of type %s without link", tn);
    v = 0;
    if ((rc = get_int(o, "rdev", false, INT64_MIN, INT64_MAX, &v, err))) return rc;
    e->rdev = (uint64_t)v;
    json_t *xa = json_object_get(o, "xattrs");
    if (xa) {
        if (!json_is_array(xa)) return err_set(err, ERR_CORRUPT, "tree entry has bad xattrs");
        size_t n = json_array_size(xa);
        e->xattrs = calloc(n ? n : 1, sizeof(*e->xattrs));
        if (!e->xattrs) return err_set(err, ERR_NOMEM, "decode tree entry");
        for (size_t i = 0; i < n; i++) {
            json_t *xo = json_array_get(xa, i);
            SrcFilesXattr *x = &e->xattrs[i];
            e->nxattrs = i + 1;
            if (!json_is_object(xo)) return err_set(err, ERR_CORRUPT, "tree entry has bad xattrs");
            if ((rc = get_bytes(xo, "name", true, &x->name, NULL, err))) return rc;
            char *val = NULL;
            if ((rc = get_bytes(xo, "value", true, &val, &x->len, err))) return rc;
            x->value = (uint8_t *)val;
        }
    }
    if ((rc = get_text(o, "acl_access", &e->acl_access, err))) return rc;
    if ((rc = get_text(o, "acl_default", &e->acl_default, err))) return rc;
    if ((rc = get_text(o, "acl_nfs4", &e->acl_nfs4, err))) return rc;
    if ((rc = get_text(o, "fflags", &e->fflags, err))) return rc;
    return 0;
}

int src_files_entry_decode(const char *line, size_t len, SrcFilesEntry *out, Err *err)
{
    json_error_t je;
    src_files_entry_clear(out);
    if (len && line[len - 1] == '\n') len--;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!o) return err_set(err, ERR_CORRUPT, "tree entry is not valid JSON: %s", je.text);
    int rc = decode_obj(o, out, err);
    json_decref(o);
    if (rc) src_files_entry_clear(out);
    return rc;
}
