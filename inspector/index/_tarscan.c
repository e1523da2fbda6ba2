/* The accelerator's loops, each with a Python reference it is property-tested against
 * (docs/architecture.md, "Speed"): Scanner.scan (the tar walker's plain members, below),
 * prefix_sums (directory totals), render_rows and json_strings (the export's rows),
 * parents (the merge's parent directories) and classify_rows (the classifier's loop).
 *
 * The contract with Python (as CPython's Modules/_json.c keeps it): an instance exists
 * only with its columns (Scanner has a tp_new and no tp_init); a buffer that is written is
 * requested writable and every buffer is held as an export while it is read (a bytearray
 * or array cannot be resized meanwhile); across a call back into Python (a rule function,
 * a __missing__, a key's __eq__) the loop holds strong references (per-layer lists copied
 * into tuples, the entry's path held, per-entry lists re-checked for their length); every
 * return that can fail is checked; the module exports ABI, which tarscan.py compares.
 *
 * Scanner.scan is the per-member loop of inspector/index/tarwalk.py for plain members.
 *
 * Scanner(paths, kinds, sizes, modes, uids, gids, targets, capture_bases).scan(buf, pos)
 * walks the consecutive headers at buf[pos:] that need none of the walker's special cases
 * and appends their rows to the index columns exactly as TarWalker._members would; it
 * returns the position of the first member it does not handle (or of the first header
 * not wholly in the buffer, or whose data is not), and sets `why`. Python then handles
 * that one member with the proven code and calls scan again. So every unusual case (an
 * extended header, a bad field, a name that needs normalising, a whiteout, a file whose
 * data the walker captures, the end-of-archive marker) stays in Python, and the C side
 * can only ever be stricter: it accepts a header only where Python accepts it the same way.
 *
 * A plain member: checksum valid (unsigned sum, plain octal field); every numeric field
 * plain octal within the range tarfields._num enforces; typeflag '0', '\0', '1', '2', '5';
 * a name (prefix "/" name) without "./" at the start after one "./" is stripped, without
 * empty, "." or ".." components, not a whiteout; a regular file with data must be neither
 * executable nor a capture candidate (capture.candidate: its basename, the end of its
 * basename or the start of its path in the pre-filter tarscan._bases hands over), and its
 * data must lie in the buffer (it is skipped).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* The interface's version: tarscan.py uses the module only if its ABI equals the one it was
 * written for (a stale build left by an editable install degrades to the pure loops). Bump
 * it whenever an entry point's arguments or results change. */
#define ABI 4
#define BLOCK 512
/* the merged filesystem's packed entry, ``layer << SHIFT | row`` (inspector/index/packed.py
   defines it; the module exports these two and tarscan.py does not use a build whose
   figures differ from packed.py's) */
#define SHIFT 32
#define MASK 0xFFFFFFFFu
/* a buffer whose items the loops read as uint64_t/int64_t/uint32_t must be aligned to
 * them (a memoryview slice may not be); an empty one may point anywhere */
#define MISALIGNED(view, size) ((view).len && (uintptr_t)(view).buf % (size))
#define MAX_SIZE ((uint64_t)INT64_MAX)
#define MAX_ID ((uint64_t)UINT32_MAX)
/* kinds, as inspector/index/entries.py numbers them */
enum { FILE_K = 0, HARDLINK_K = 1, SYMLINK_K = 2, DIR_K = 5 };
/* rows collected per scan call before they are appended to the index's arrays */
#define BATCH 4096

typedef struct {
    PyObject_HEAD
    PyObject *paths, *kinds, *sizes, *modes, *uids, *gids, *targets, *bases;
    const char *why;
} Scanner;

/* ---- fields ------------------------------------------------------------------------ */

static int is_space(unsigned char c) {  /* what bytes.strip() strips */
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* tarfields._num for a plain octal field: up to the first NUL, stripped, all octal (empty
 * is 0), <= limit. 0 on success; -1 for anything else (base-256, junk, too large). */
static int octal(const unsigned char *f, int n, uint64_t limit, uint64_t *out) {
    if (f[0] == 0x80 || f[0] == 0xff)
        return -1;
    const unsigned char *nul = memchr(f, 0, n);
    int end = nul ? (int)(nul - f) : n, start = 0;
    while (start < end && is_space(f[start])) start++;
    while (end > start && is_space(f[end - 1])) end--;
    uint64_t v = 0;  /* at most 12 digits: 36 bits, no overflow */
    for (int i = start; i < end; i++) {
        if (f[i] < '0' || f[i] > '7')
            return -1;
        v = v * 8 + (f[i] - '0');
    }
    if (v > limit)
        return -1;
    *out = v;
    return 0;
}

/* The checksum field as Python's fast path reads it, strictly: spaces, octal digits, then
 * only NULs and spaces. -1 if it is anything else (Python then decides). */
static int64_t checksum_field(const unsigned char *f) {
    int i = 0;
    while (i < 8 && f[i] == ' ') i++;
    int digits = i;
    int64_t v = 0;
    while (i < 8 && f[i] >= '0' && f[i] <= '7') v = v * 8 + (f[i++] - '0');
    if (i == digits)
        return -1;
    for (; i < 8; i++)
        if (f[i] != 0 && f[i] != ' ')
            return -1;
    return v;
}

static int checksum_ok(const unsigned char *h) {
    int64_t stored = checksum_field(h + 148);
    if (stored < 0)
        return 0;
    int64_t sum = 8 * ' ';
    for (int i = 0; i < 148; i++) sum += h[i];
    for (int i = 156; i < BLOCK; i++) sum += h[i];
    return sum == stored;
}

/* ---- names ------------------------------------------------------------------------- */

/* A name that normalize() leaves as it is once "/" is put in front: no empty, "." or ".."
 * component (so no leading, trailing or doubled "/"), not empty. */
static int clean_name(const char *s, Py_ssize_t n) {
    if (n == 0)
        return 0;
    Py_ssize_t start = 0;
    for (Py_ssize_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '/')
            continue;
        Py_ssize_t len = i - start;
        if (len == 0 || (s[start] == '.' && (len == 1 || (len == 2 && s[start + 1] == '.'))))
            return 0;
        start = i + 1;
    }
    return 1;
}

static Py_ssize_t nts(const unsigned char *f, Py_ssize_t n) {
    const unsigned char *nul = memchr(f, 0, n);
    return nul ? nul - f : n;
}

/* capture.candidate: the pre-filter (tarscan._bases: a tuple of UTF-8 bytes) admits the
   file ``path`` (``plen`` bytes) whose basename is ``b`` (``n`` bytes): an item "/..." is a
   path prefix, "*..." the end of a basename, anything else a whole basename */
static int capture_candidate(PyObject *bases, const char *path, Py_ssize_t plen,
                             const char *b, Py_ssize_t n) {
    Py_ssize_t count = PyTuple_GET_SIZE(bases);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PyTuple_GET_ITEM(bases, i);
        const char *s = PyBytes_AS_STRING(item);
        Py_ssize_t len = PyBytes_GET_SIZE(item);
        if (len > 0 && s[0] == '/') {
            if (plen >= len && memcmp(path, s, len) == 0)
                return 1;
        } else if (len > 0 && s[0] == '*') {
            if (n >= len - 1 && memcmp(b + n - (len - 1), s + 1, len - 1) == 0)
                return 1;
        } else if (len == n && memcmp(s, b, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/* the last '/' in s[0:n] (memrchr is a GNU extension: not in macOS's libc), or NULL */
static const char *last_slash(const char *s, Py_ssize_t n) {
    while (n > 0)
        if (s[--n] == '/')
            return s + n;
    return NULL;
}

static PyObject *decode(const char *s, Py_ssize_t n) {
    return PyUnicode_DecodeUTF8(s, n, "surrogateescape");
}

/* ---- rows -------------------------------------------------------------------------- */

typedef struct {
    Py_ssize_t n;
    char kinds[BATCH];
    int64_t sizes[BATCH];
    uint32_t modes[BATCH], uids[BATCH], gids[BATCH];
} Batch;

static int extend(PyObject *array, const void *data, Py_ssize_t bytes) {
    PyObject *r = PyObject_CallMethod(array, "frombytes", "y#", (const char *)data, bytes);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* Append the batched numeric columns (paths and targets are appended as they come). */
static int flush(Scanner *self, Batch *b) {
    Py_ssize_t n = b->n, old;
    if (!n)
        return 0;
    b->n = 0;
    old = PyByteArray_GET_SIZE(self->kinds);
    if (PyByteArray_Resize(self->kinds, old + n) < 0)
        return -1;
    memcpy(PyByteArray_AS_STRING(self->kinds) + old, b->kinds, n);
    if (extend(self->sizes, b->sizes, n * 8) < 0 || extend(self->modes, b->modes, n * 4) < 0
        || extend(self->uids, b->uids, n * 4) < 0 || extend(self->gids, b->gids, n * 4) < 0)
        return -1;
    return 0;
}

/* ---- one member -------------------------------------------------------------------- */

/* The member's path into name[] as "/" + (prefix "/") name, one leading "./" stripped and
 * a directory's one trailing "/" dropped; its length, or 0 if normalize() would change it
 * (Python then handles the member). */
static Py_ssize_t member_path(const unsigned char *h, int kind, char *name) {
    Py_ssize_t n = 0, nlen = nts(h, 100);
    if (h[345]) {
        Py_ssize_t plen = nts(h + 345, 155);
        memcpy(name + 3, h + 345, plen);
        n = plen;
        name[3 + n++] = '/';
    }
    memcpy(name + 3 + n, h, nlen);
    n += nlen;
    char *s = name + 3;  /* room for "/" and a stripped "./" in front */
    if (n >= 2 && s[0] == '.' && s[1] == '/')
        s += 2, n -= 2;
    if (kind == DIR_K && n && s[n - 1] == '/')
        n--;
    if (!clean_name(s, n))
        return 0;
    memmove(name + 1, s, n);
    name[0] = '/';
    return n + 1;
}

/* A link's target (a new reference): a symlink's as written; a hardlink's normalised, for
 * clean ones only. NULL with no error set: Python handles the member. */
static PyObject *link_target(const unsigned char *h, int kind) {
    const char *link = (const char *)h + 157;
    Py_ssize_t llen = nts(h + 157, 100);
    if (kind == SYMLINK_K)
        return decode(link, llen);
    if (llen >= 2 && link[0] == '.' && link[1] == '/')  /* normalize(): "./" stripped */
        link += 2, llen -= 2;
    if (!clean_name(link, llen))
        return NULL;
    char abs[1 + 100];
    abs[0] = '/';
    memcpy(abs + 1, link, llen);
    return decode(abs, llen + 1);
}

/* Append the row: path and target now, the numeric columns to the batch. */
static int record(Scanner *self, Batch *b, const char *path, Py_ssize_t plen, PyObject *target,
                  int kind, uint64_t size, uint64_t mode, uint64_t uid, uint64_t gid) {
    PyObject *str = decode(path, plen);
    if (!str)
        return -1;
    Py_ssize_t row = PyList_GET_SIZE(self->paths);
    int err = PyList_Append(self->paths, str);
    Py_DECREF(str);
    if (!err && target) {
        PyObject *key = PyLong_FromSsize_t(row);
        err = key ? PyDict_SetItem(self->targets, key, target) : -1;
        Py_XDECREF(key);
    }
    if (err)
        return -1;
    Py_ssize_t i = b->n++;
    b->kinds[i] = (char)kind;
    b->sizes[i] = kind == FILE_K ? (int64_t)size : 0;
    b->modes[i] = (uint32_t)mode;
    b->uids[i] = (uint32_t)uid;
    b->gids[i] = (uint32_t)gid;
    return 0;
}

/* Handle the member whose header is at h (len bytes of buffer from h on): 1 and its whole
 * length (header + padded data) in *used if it was plain and is recorded, 0 if Python must
 * handle it (self->why says why), -1 on a Python error. */
static int member(Scanner *self, Batch *b, const unsigned char *h, Py_ssize_t len,
                  Py_ssize_t *used) {
    uint64_t size, mode, uid, gid, mtime, dev;
    if (!checksum_ok(h))
        return self->why = "checksum", 0;
    char type = (char)h[156];
    int kind = type == '0' || type == 0 ? FILE_K : type == '5' ? DIR_K
             : type == '2' ? SYMLINK_K : type == '1' ? HARDLINK_K : -1;
    if (kind < 0)
        return self->why = "type", 0;
    if (octal(h + 124, 12, MAX_SIZE, &size) || octal(h + 100, 8, MAX_ID, &mode)
        || octal(h + 108, 8, MAX_ID, &uid) || octal(h + 116, 8, MAX_ID, &gid)
        || octal(h + 136, 12, UINT64_MAX, &mtime) || octal(h + 329, 8, MAX_ID, &dev)
        || octal(h + 337, 8, MAX_ID, &dev))
        return self->why = "field", 0;
    mode &= 07777;
    char path[3 + 155 + 1 + 100];
    Py_ssize_t plen = member_path(h, kind, path);
    if (!plen)
        return self->why = "name", 0;
    const char *base = last_slash(path, plen) + 1;  /* path starts with '/' */
    Py_ssize_t blen = path + plen - base;
    if (blen >= 4 && memcmp(base, ".wh.", 4) == 0)
        return self->why = "whiteout", 0;
    uint64_t padded = 0;
    if (kind == FILE_K && size) {
        if (mode & 0111 || capture_candidate(self->bases, path, plen, base, blen))
            return self->why = "capture", 0;
        padded = (size + 511) & ~(uint64_t)511;
        if (padded > (uint64_t)(len - BLOCK))
            return self->why = "data", 0;
    }
    PyObject *target = NULL;
    if (kind == SYMLINK_K || kind == HARDLINK_K) {
        if (!(target = link_target(h, kind)))
            return PyErr_Occurred() ? -1 : (self->why = "link", 0);
    }
    int err = record(self, b, path, plen, target, kind, size, mode, uid, gid);
    Py_XDECREF(target);
    if (err)
        return -1;
    *used = BLOCK + (Py_ssize_t)padded;
    return 1;
}

/* ---- the type ---------------------------------------------------------------------- */

static PyObject *scan(Scanner *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "scan(buf, pos)");
        return NULL;
    }
    if (!self->paths || !self->kinds || !self->sizes || !self->modes || !self->uids
        || !self->gids || !self->targets || !self->bases) {  /* cleared by the GC */
        PyErr_SetString(PyExc_TypeError, "scan: the Scanner has no columns");
        return NULL;
    }
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]);
    if (pos == -1 && PyErr_Occurred())
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0)
        return NULL;
    if (pos < 0 || pos > view.len) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "scan: position outside the buffer");
        return NULL;
    }
    Batch *b = PyMem_Malloc(sizeof(Batch));
    if (!b) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    b->n = 0;
    const unsigned char *data = view.buf;
    int r = 1;
    self->why = "end";
    while (view.len - pos >= BLOCK) {
        Py_ssize_t used = 0;
        r = member(self, b, data + pos, view.len - pos, &used);
        if (r <= 0)
            break;
        pos += used;
        if (b->n == BATCH && flush(self, b) < 0) {
            r = -1;
            break;
        }
    }
    if (r < 0) {  /* keep the columns in step (the rows so far), then raise the error */
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        if (flush(self, b) < 0)
            PyErr_Clear();
        PyErr_Restore(type, value, tb);
    } else if (flush(self, b) < 0) {
        r = -1;
    }
    PyMem_Free(b);
    PyBuffer_Release(&view);
    return r < 0 ? NULL : PyLong_FromSsize_t(pos);
}

/* Scanner(...): the columns are set here, once, and never replaced (as _json.c's types
 * do: no tp_init, so no instance exists without them and none changes under a scan). */
static PyObject *scanner_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    PyObject *cols[8];
    if (kwds && PyDict_GET_SIZE(kwds)) {
        PyErr_SetString(PyExc_TypeError, "Scanner() takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "O!O!OOOOO!O!:Scanner", &PyList_Type, &cols[0],
                          &PyByteArray_Type, &cols[1], &cols[2], &cols[3], &cols[4], &cols[5],
                          &PyDict_Type, &cols[6], &PyTuple_Type, &cols[7]))
        return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(cols[7]); i++)
        if (!PyBytes_Check(PyTuple_GET_ITEM(cols[7], i))) {
            PyErr_SetString(PyExc_TypeError, "Scanner: capture basenames must be bytes");
            return NULL;
        }
    Scanner *self = (Scanner *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    PyObject **slots[8] = {&self->paths, &self->kinds, &self->sizes, &self->modes,
                           &self->uids, &self->gids, &self->targets, &self->bases};
    for (int i = 0; i < 8; i++)
        *slots[i] = Py_NewRef(cols[i]);
    self->why = "";
    return (PyObject *)self;
}

static int traverse(Scanner *self, visitproc visit, void *arg) {
    Py_VISIT(self->paths); Py_VISIT(self->kinds); Py_VISIT(self->sizes);
    Py_VISIT(self->modes); Py_VISIT(self->uids); Py_VISIT(self->gids);
    Py_VISIT(self->targets); Py_VISIT(self->bases);
    return 0;
}

static int clear(Scanner *self) {
    Py_CLEAR(self->paths); Py_CLEAR(self->kinds); Py_CLEAR(self->sizes);
    Py_CLEAR(self->modes); Py_CLEAR(self->uids); Py_CLEAR(self->gids);
    Py_CLEAR(self->targets); Py_CLEAR(self->bases);
    return 0;
}

static void dealloc(Scanner *self) {
    PyObject_GC_UnTrack(self);
    clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *get_why(Scanner *self, void *closure) {
    return PyUnicode_FromString(self->why ? self->why : "");
}

static PyMethodDef methods[] = {
    {"scan", (PyCFunction)(void (*)(void))scan, METH_FASTCALL,
     "scan(buf, pos) -> the position of the first member left to Python"},
    {NULL},
};

static PyGetSetDef getset[] = {
    {"why", (getter)get_why, NULL, "why the last scan stopped", NULL},
    {NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "inspector.index._tarscan.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Scanner(paths, kinds, sizes, modes, uids, gids, targets, capture_bases)",
    .tp_new = scanner_new,
    .tp_dealloc = (destructor)dealloc,
    .tp_traverse = (traverseproc)traverse,
    .tp_clear = (inquiry)clear,
    .tp_methods = methods,
    .tp_getset = getset,
};

/* ---- prefix sums over the merged filesystem (the TUI tree's directory totals) ---- */

#define IMPLIED MASK

/* prefix_sums(packed, kinds, sizes, is_file, not_dir, out_bytes, out_counts) ->
   (bytes, count): for each packed ``layer << SHIFT | row`` (IMPLIED rows are directories),
   add the row's size when ``is_file[kind]`` and one when ``not_dir[kind]``; out_*[i + 1]
   is the total of the first i + 1 entries (out_*[0] = 0), and the totals of all are
   returned. kinds/sizes: per layer, a byte column and an int64 column; the outputs are
   writable int64 buffers of len(packed) + 1 items, or both None (totals only). The loop
   runs without the GIL (it only reads and writes buffers). */
static PyObject *prefix_sums(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 7 || !PyList_Check(args[1]) || !PyList_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError,
                        "prefix_sums(packed, kinds: list, sizes: list, is_file, not_dir, out_bytes, out_counts)");
        return NULL;
    }
    Py_ssize_t nl = PyList_GET_SIZE(args[1]);
    if (PyList_GET_SIZE(args[2]) != nl) {
        PyErr_SetString(PyExc_ValueError, "prefix_sums: kinds and sizes differ in length");
        return NULL;
    }
    Py_buffer pk = {0}, isf = {0}, nd = {0}, ob = {0}, oc = {0};
    Py_buffer *kb = PyMem_Calloc(nl ? nl : 1, sizeof(Py_buffer));
    Py_buffer *sb = PyMem_Calloc(nl ? nl : 1, sizeof(Py_buffer));
    Py_ssize_t got_k = 0, got_s = 0;
    PyObject *result = NULL;
    if (!kb || !sb) {
        PyErr_NoMemory();
        goto done;
    }
    if (PyObject_GetBuffer(args[0], &pk, PyBUF_SIMPLE) < 0) goto done;
    if (PyObject_GetBuffer(args[3], &isf, PyBUF_SIMPLE) < 0) goto done;
    if (PyObject_GetBuffer(args[4], &nd, PyBUF_SIMPLE) < 0) goto done;
    int totals_only = args[5] == Py_None && args[6] == Py_None;
    if (!totals_only) {
        if (PyObject_GetBuffer(args[5], &ob, PyBUF_WRITABLE) < 0) goto done;
        if (PyObject_GetBuffer(args[6], &oc, PyBUF_WRITABLE) < 0) goto done;
    }
    for (; got_k < nl; got_k++)
        if (PyObject_GetBuffer(PyList_GET_ITEM(args[1], got_k), &kb[got_k], PyBUF_SIMPLE) < 0) goto done;
    for (; got_s < nl; got_s++) {
        if (PyObject_GetBuffer(PyList_GET_ITEM(args[2], got_s), &sb[got_s], PyBUF_SIMPLE) < 0) goto done;
        if (sb[got_s].len % 8 || MISALIGNED(sb[got_s], 8)) {
            got_s++;
            PyErr_SetString(PyExc_ValueError, "prefix_sums: a sizes column is not an aligned int64 column");
            goto done;
        }
    }
    Py_ssize_t n = pk.len / 8;
    if (pk.len % 8 || MISALIGNED(pk, 8) || MISALIGNED(ob, 8) || MISALIGNED(oc, 8)
        || isf.len != 256 || nd.len != 256
        || (!totals_only && (ob.len != (n + 1) * 8 || oc.len != (n + 1) * 8))) {
        PyErr_SetString(PyExc_ValueError, "prefix_sums: buffer sizes do not fit");
        goto done;
    }
    const uint64_t *packed = pk.buf;
    const unsigned char *is_file = isf.buf, *not_dir = nd.buf;
    int64_t *out_b = ob.buf, *out_c = oc.buf;
    int64_t bytes = 0, count = 0;
    Py_ssize_t bad = -1;
    int overflow = 0;
    Py_BEGIN_ALLOW_THREADS
    if (!totals_only)
        out_b[0] = out_c[0] = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t p = packed[i];
        uint64_t li = p >> SHIFT, row = p & MASK;
        if (row != IMPLIED) {
            if (li >= (uint64_t)nl || row >= (uint64_t)kb[li].len || row >= (uint64_t)(sb[li].len / 8)) {
                bad = i;
                break;
            }
            unsigned char kind = ((const unsigned char *)kb[li].buf)[row];
            if (is_file[kind] && __builtin_add_overflow(bytes, ((const int64_t *)sb[li].buf)[row], &bytes)) {
                overflow = 1;
                break;
            }
            count += not_dir[kind] != 0;
        }
        if (!totals_only) {
            out_b[i + 1] = bytes;
            out_c[i + 1] = count;
        }
    }
    Py_END_ALLOW_THREADS
    if (bad >= 0)
        PyErr_Format(PyExc_IndexError, "prefix_sums: entry %zd points past its layer's columns", bad);
    else if (overflow)
        PyErr_SetString(PyExc_OverflowError, "prefix_sums: total bytes exceed a signed 64-bit integer");
    else
        result = Py_BuildValue("(LL)", (long long)bytes, (long long)count);
done:
    for (Py_ssize_t i = 0; i < got_k; i++) PyBuffer_Release(&kb[i]);
    for (Py_ssize_t i = 0; i < got_s; i++) PyBuffer_Release(&sb[i]);
    PyMem_Free(kb);
    PyMem_Free(sb);
    if (pk.obj) PyBuffer_Release(&pk);
    if (isf.obj) PyBuffer_Release(&isf);
    if (nd.obj) PyBuffer_Release(&nd);
    if (ob.obj) PyBuffer_Release(&ob);
    if (oc.obj) PyBuffer_Release(&oc);
    return result;
}

/* ---- the export's files array (report/export.py ``_batch``, the reference) ---- */

typedef struct {
    char *buf;
    Py_ssize_t len, cap;
} Text;

static int text_grow(Text *t, Py_ssize_t more) {
    if (t->len + more <= t->cap)
        return 0;
    Py_ssize_t cap = t->cap ? t->cap : 1 << 16;
    while (cap < t->len + more)
        cap *= 2;
    char *buf = PyMem_Realloc(t->buf, cap);
    if (!buf) {
        PyErr_NoMemory();
        return -1;
    }
    t->buf = buf;
    t->cap = cap;
    return 0;
}

static int text_add(Text *t, const char *s, Py_ssize_t n) {
    if (text_grow(t, n) < 0)
        return -1;
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    return 0;
}

/* an ASCII str (everything handed here is JSON text made by encode_basestring_ascii) */
static int text_str(Text *t, PyObject *s) {
    if (!PyUnicode_Check(s) || !PyUnicode_IS_ASCII(s)) {
        PyErr_SetString(PyExc_ValueError, "render_rows: a text piece is not an ASCII str");
        return -1;
    }
    return text_add(t, (const char *)PyUnicode_1BYTE_DATA(s), PyUnicode_GET_LENGTH(s));
}

/* decimal digits of v (v >= 0 for every figure written here) */
static int text_uint(Text *t, unsigned long long v) {
    char num[24], *end = num + sizeof num, *p = end;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return text_add(t, p, end - p);
}

static int text_int(Text *t, long long v) {
    if (v < 0) {
        if (text_add(t, "-", 1) < 0)
            return -1;
        return text_uint(t, 0ULL - (unsigned long long)v);
    }
    return text_uint(t, (unsigned long long)v);
}

/* ``format(v, "04o")`` */
static int text_mode(Text *t, unsigned long v) {
    char num[24], *end = num + sizeof num, *p = end;
    do {
        *--p = (char)('0' + (v & 7));
        v >>= 3;
    } while (v);
    while (end - p < 4)
        *--p = '0';
    return text_add(t, p, end - p);
}

static const char HEX[] = "0123456789abcdef";

static char *put_u(char *o, unsigned c) {
    *o++ = '\\';
    *o++ = 'u';
    *o++ = HEX[(c >> 12) & 15];
    *o++ = HEX[(c >> 8) & 15];
    *o++ = HEX[(c >> 4) & 15];
    *o++ = HEX[c & 15];
    return o;
}

/* ``json.encoder.encode_basestring_ascii(s)``, the same characters, appended */
static int text_json(Text *t, PyObject *s) {
    if (!PyUnicode_Check(s)) {
        PyErr_SetString(PyExc_TypeError, "render_rows: a name is not a str");
        return -1;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    if (n > (PY_SSIZE_T_MAX - 2) / 12) {
        PyErr_NoMemory();
        return -1;
    }
    if (text_grow(t, 12 * n + 2) < 0) /* worst case: a surrogate pair per character */
        return -1;
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    char *o = t->buf + t->len;
    *o++ = '"';
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c >= ' ' && c <= '~' && c != '\\' && c != '"') {
            *o++ = (char)c;
            continue;
        }
        switch (c) {
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '"': *o++ = '\\'; *o++ = '"'; break;
        case '\b': *o++ = '\\'; *o++ = 'b'; break;
        case '\f': *o++ = '\\'; *o++ = 'f'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        default:
            if (c >= 0x10000) {
                Py_UCS4 v = c - 0x10000;
                o = put_u(o, 0xd800 | ((v >> 10) & 0x3ff));
                o = put_u(o, 0xdc00 | (v & 0x3ff));
            } else {
                o = put_u(o, c);
            }
        }
    }
    *o++ = '"';
    t->len = o - t->buf;
    return 0;
}

#define N_COLS 5 /* kinds, sizes, modes, uids, gids */

/* One render_rows call's state. A dict lookup may run Python (a key's __hash__ or
   __eq__), which may change the arguments: the per-layer lists are copied into tuples,
   each row's path is held while it is used, and the per-row lists are checked for their
   length on each row. */
typedef struct {
    PyObject *paths, *columns, *link_sizes, *owners, *cats, *kind_texts; /* borrowed args */
    PyObject *targets, *tails; /* our tuples */
    PyObject *path;            /* the row's */
    long implied_mode;
    Py_ssize_t n, nl, got;
    Py_buffer pk, *cb; /* cb: per layer N_COLS buffers */
    Text t;
} Render;

/* what one row shows (``target`` borrowed from the targets' tuple) */
typedef struct {
    unsigned kind;
    long long size;
    unsigned long mode, uid, gid;
    PyObject *target;
} Shown;

static int rr_error(PyObject *type, const char *what) {
    PyErr_Format(type, "render_rows: %s", what);
    return -1;
}

/* the arguments checked, the per-layer lists copied, every buffer held */
static int rr_hold(Render *r, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 10 || !PyList_Check(args[0]) || !PyList_Check(args[2]) || !PyList_Check(args[3])
        || !PyDict_Check(args[4]) || !PyList_Check(args[5]) || !PyList_Check(args[6])
        || !PyList_Check(args[7]) || !PyTuple_Check(args[8]) || !PyLong_Check(args[9]))
        return rr_error(PyExc_TypeError, "(paths: list, packed, columns: list, targets: list, "
                        "link_sizes: dict, layer_tails: list, owners: list, cats: list, "
                        "kind_texts: tuple, implied_mode: int)");
    r->paths = args[0], r->columns = args[2], r->link_sizes = args[4];
    r->owners = args[6], r->cats = args[7], r->kind_texts = args[8];
    r->implied_mode = PyLong_AsLong(args[9]);
    if (r->implied_mode == -1 && PyErr_Occurred())
        return -1;
    r->n = PyList_GET_SIZE(r->paths), r->nl = PyList_GET_SIZE(r->columns);
    if (PyList_GET_SIZE(r->owners) != r->n || PyList_GET_SIZE(r->cats) != r->n
        || PyList_GET_SIZE(args[3]) != r->nl || PyList_GET_SIZE(args[5]) != r->nl)
        return rr_error(PyExc_ValueError, "the lists differ in length");
    if (!(r->targets = PyList_AsTuple(args[3])) || !(r->tails = PyList_AsTuple(args[5])))
        return -1;
    if (!(r->cb = PyMem_Calloc(r->nl * N_COLS + 1, sizeof(Py_buffer)))) {
        PyErr_NoMemory();
        return -1;
    }
    if (PyObject_GetBuffer(args[1], &r->pk, PyBUF_SIMPLE) < 0)
        return -1;
    if (r->pk.len != r->n * 8 || MISALIGNED(r->pk, 8))
        return rr_error(PyExc_ValueError, "packed does not match paths (or is not aligned)");
    static const Py_ssize_t item[N_COLS] = {1, 8, 4, 4, 4};
    for (Py_ssize_t li = 0; li < r->nl; li++) {
        PyObject *cols = PyList_GET_ITEM(r->columns, li);
        if (!PyTuple_Check(cols) || PyTuple_GET_SIZE(cols) != N_COLS
            || !PyDict_Check(PyTuple_GET_ITEM(r->targets, li)))
            return rr_error(PyExc_TypeError, "a layer's columns are not a 5-tuple");
        for (int c = 0; c < N_COLS; c++) {
            Py_buffer *b = &r->cb[r->got];
            if (PyObject_GetBuffer(PyTuple_GET_ITEM(cols, c), b, PyBUF_SIMPLE) < 0)
                return -1;
            r->got++;
            if (b->len % item[c] || b->len / item[c] != r->cb[li * N_COLS].len
                || MISALIGNED(*b, item[c]))
                return rr_error(PyExc_ValueError,
                                "a layer's columns differ in length or are not aligned");
        }
    }
    return 0;
}

static void rr_release(Render *r) {
    for (Py_ssize_t i = 0; i < r->got; i++)
        PyBuffer_Release(&r->cb[i]);
    PyMem_Free(r->cb);
    PyMem_Free(r->t.buf);
    if (r->pk.obj)
        PyBuffer_Release(&r->pk);
    Py_XDECREF(r->path);
    Py_XDECREF(r->targets);
    Py_XDECREF(r->tails);
}

/* a hardlink's shown size: the linked file's (``link_sizes[path]``, 0 when absent) */
static int rr_link_size(Render *r, long long *size) {
    PyObject *linked = PyDict_GetItemWithError(r->link_sizes, r->path);
    if (!linked)
        return PyErr_Occurred() ? -1 : 0;
    if (!PyLong_Check(linked))
        return rr_error(PyExc_TypeError, "a link size is not an int");
    *size = PyLong_AsLongLong(linked);
    return *size == -1 && PyErr_Occurred() ? -1 : 0;
}

/* what row ``row`` of layer ``li`` shows (an implied directory for IMPLIED) */
static int rr_shown(Render *r, Py_ssize_t i, uint64_t li, uint64_t row, Shown *s) {
    Py_buffer *c = &r->cb[li * N_COLS];
    *s = (Shown){.kind = 5 /* DIR */, .mode = (unsigned long)r->implied_mode};
    if (row == IMPLIED)
        return 0;
    if (row >= (uint64_t)c[0].len) {
        PyErr_Format(PyExc_IndexError, "render_rows: entry %zd points past its layer", i);
        return -1;
    }
    s->kind = ((const unsigned char *)c[0].buf)[row];
    s->mode = ((const uint32_t *)c[2].buf)[row];
    s->uid = ((const uint32_t *)c[3].buf)[row];
    s->gid = ((const uint32_t *)c[4].buf)[row];
    if (s->kind == 0) { /* FILE */
        s->size = ((const int64_t *)c[1].buf)[row];
        return 0;
    }
    if (s->kind == 1 && rr_link_size(r, &s->size) < 0) /* HARDLINK */
        return -1;
    PyObject *key = PyLong_FromUnsignedLongLong(row);
    if (!key)
        return -1;
    s->target = PyDict_GetItemWithError(PyTuple_GET_ITEM(r->targets, li), key);
    Py_DECREF(key);
    return s->target || !PyErr_Occurred() ? 0 : -1;
}

/* row ``i``'s JSON object, after the separator when it is not the first */
static int rr_write(Render *r, Py_ssize_t i, uint64_t li, const Shown *s) {
    static const char sep[] = ",\n  {\"path\": ";
    Text *t = &r->t;
    /* the lookups before may have run Python: owners and cats are read after them */
    if (PyList_GET_SIZE(r->owners) != r->n || PyList_GET_SIZE(r->cats) != r->n)
        return rr_error(PyExc_RuntimeError, "a list changed size during the call");
    if (s->kind >= (unsigned)PyTuple_GET_SIZE(r->kind_texts)) {
        PyErr_Format(PyExc_ValueError, "render_rows: entry %zd has kind %u", i, s->kind);
        return -1;
    }
    if ((i && text_add(t, sep, sizeof sep - 1) < 0)
        || text_json(t, r->path) < 0
        || text_str(t, PyTuple_GET_ITEM(r->kind_texts, s->kind)) < 0
        || text_int(t, s->size) < 0
        || text_add(t, ", \"mode\": \"", 11) < 0
        || text_mode(t, s->mode & 07777) < 0
        || text_add(t, "\", \"uid\": ", 10) < 0
        || text_uint(t, s->uid) < 0
        || text_add(t, ", \"gid\": ", 9) < 0
        || text_uint(t, s->gid) < 0
        || text_add(t, ", \"target\": ", 12) < 0
        || (s->target ? text_json(t, s->target) : text_add(t, "null", 4)) < 0
        || text_str(t, PyTuple_GET_ITEM(r->tails, li)) < 0
        || text_str(t, PyList_GET_ITEM(r->owners, i)) < 0
        || text_add(t, ", \"category\": ", 14) < 0
        || text_str(t, PyList_GET_ITEM(r->cats, i)) < 0
        || text_add(t, "}", 1) < 0)
        return -1;
    return 0;
}

/* render_rows(paths, packed, columns, targets, link_sizes, layer_tails, owners, cats,
               kind_texts, implied_mode) -> str

   The rows of ``paths`` (whose packed values are ``packed``), joined by the row
   separator, exactly as ``export._batch`` + ``_ROW_SEP.join`` write them. ``columns``: per
   layer a 5-tuple of buffers (kinds u8, sizes i64, modes/uids/gids u32); ``targets``: per
   layer a dict row -> str; ``owners``/``cats``: per row, JSON text; ``kind_texts``: per
   kind the text from ``, "type": `` to ``"size": ``. Names are escaped as
   ``json.encoder.encode_basestring_ascii`` does (``text_json``). */
static PyObject *render_rows(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    Render r = {0};
    PyObject *result = NULL;
    if (rr_hold(&r, args, nargs) < 0)
        goto done;
    const uint64_t *packed = r.pk.buf;
    for (Py_ssize_t i = 0; i < r.n; i++) {
        uint64_t li = packed[i] >> SHIFT, row = packed[i] & MASK;
        if (PyList_GET_SIZE(r.paths) != r.n) {
            PyErr_SetString(PyExc_RuntimeError, "render_rows: paths changed size during the call");
            goto done;
        }
        Py_XSETREF(r.path, Py_NewRef(PyList_GET_ITEM(r.paths, i)));
        if (li >= (uint64_t)r.nl) {
            PyErr_Format(PyExc_IndexError, "render_rows: entry %zd names layer %llu of %zd", i,
                         (unsigned long long)li, r.nl);
            goto done;
        }
        Shown s;
        if (rr_shown(&r, i, li, row, &s) < 0 || rr_write(&r, i, li, &s) < 0)
            goto done;
    }
    result = PyUnicode_New(r.t.len, 127);
    if (result)
        memcpy(PyUnicode_1BYTE_DATA(result), r.t.buf ? r.t.buf : "", r.t.len);
done:
    rr_release(&r);
    return result;
}

/* json_strings(strings: list, start, end) -> ``", ".join(map(encode_basestring_ascii,
   strings[start:end]))`` (the export's long lists of paths) */
static PyObject *json_strings(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !PyList_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "json_strings(strings: list, start, end)");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(args[0]);
    Py_ssize_t start = PyLong_AsSsize_t(args[1]), end = PyLong_AsSsize_t(args[2]);
    if ((start == -1 || end == -1) && PyErr_Occurred())
        return NULL;
    if (start < 0) start = 0;
    if (end > n) end = n;
    Text t = {0};
    PyObject *result = NULL;
    for (Py_ssize_t i = start; i < end; i++)
        if ((i > start && text_add(&t, ", ", 2) < 0) || text_json(&t, PyList_GET_ITEM(args[0], i)) < 0)
            goto done;
    result = PyUnicode_New(t.len, 127);
    if (result)
        memcpy(PyUnicode_1BYTE_DATA(result), t.buf ? t.buf : "", t.len);
done:
    PyMem_Free(t.buf);
    return result;
}

/* parents(paths: list) -> set: ``{p.rpartition("/")[0] for p in paths}``, without making
   a new string for a path whose parent is the previous path's (siblings come together in
   tar order): on a million files in a thousand directories, a thousand strings, not
   three million. */
static PyObject *parents(PyObject *mod, PyObject *arg) {
    if (!PyList_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "parents(paths: list)");
        return NULL;
    }
    PyObject *out = PySet_New(NULL);
    if (!out)
        return NULL;
    PyObject *last = NULL; /* the previous parent (a reference of our own) */
    Py_ssize_t n = PyList_GET_SIZE(arg);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *path = PyList_GET_ITEM(arg, i);
        if (!PyUnicode_Check(path)) {
            PyErr_SetString(PyExc_TypeError, "parents: a path is not a str");
            goto fail;
        }
        Py_ssize_t len = PyUnicode_GET_LENGTH(path);
        Py_ssize_t cut = PyUnicode_FindChar(path, '/', 0, len, -1);
        if (cut == -2)
            goto fail;
        if (cut < 0)
            cut = 0; /* no "/": rpartition gives "" */
        if (last && PyUnicode_GET_LENGTH(last) == cut && PyUnicode_KIND(last) == PyUnicode_KIND(path)
            && memcmp(PyUnicode_DATA(last), PyUnicode_DATA(path), cut * PyUnicode_KIND(path)) == 0)
            continue;
        PyObject *parent = PyUnicode_Substring(path, 0, cut);
        if (!parent)
            goto fail;
        Py_XSETREF(last, parent);
        if (PySet_Add(out, parent) < 0)
            goto fail;
    }
    Py_XDECREF(last);
    return out;
fail:
    Py_XDECREF(last);
    Py_DECREF(out);
    return NULL;
}

/* ---- the classifier's per-entry loop (classify.categorize, the reference) ---- */

/* the int of a rule table's value (a Python int that fits a long) */
static int as_rule(PyObject *v, long *out) {
    if (!v)
        return -1;
    long r = PyLong_AsLong(v);
    if (r == -1 && PyErr_Occurred())
        return -1;
    *out = r;
    return 0;
}

/* the int that ``fn(arg)`` returns (a rule index; ``fn`` may be ``dict.__getitem__``) */
static int call_rule(PyObject *fn, PyObject *arg, long *out) {
    PyObject *got = PyObject_CallOneArg(fn, arg);
    int r = as_rule(got, out);
    Py_XDECREF(got);
    return r;
}

/* ``mapping[key]`` as an int (``__missing__`` of a dict subclass runs) */
static int item_rule(PyObject *mapping, PyObject *key, long *out) {
    PyObject *got = PyObject_GetItem(mapping, key);
    int r = as_rule(got, out);
    Py_XDECREF(got);
    return r;
}

/* ``cache.get(key)``, else ``cache[key] = fill(key)``: a rule index */
static int cached_rule(PyObject *cache, PyObject *fill, PyObject *key, long *out) {
    PyObject *hit = PyDict_GetItemWithError(cache, key);
    if (hit)
        return as_rule(hit, out);
    if (PyErr_Occurred())
        return -1;
    PyObject *got = PyObject_CallOneArg(fill, key);
    if (!got)
        return -1;
    int r = PyDict_SetItem(cache, key, got) < 0 ? -1 : as_rule(got, out);
    Py_DECREF(got);
    return r;
}

/* ``target.rstrip("/").rpartition("/")[2] == name`` (``name`` a str) */
static int is_busybox(PyObject *target, PyObject *name) {
    if (!target || !PyUnicode_Check(target))
        return 0;
    Py_ssize_t end = PyUnicode_GET_LENGTH(target), n = PyUnicode_GET_LENGTH(name);
    while (end > 0 && PyUnicode_READ_CHAR(target, end - 1) == '/')
        end--;
    if (end < n || (end > n && PyUnicode_READ_CHAR(target, end - n - 1) != '/'))
        return 0;
    return PyUnicode_Tailmatch(target, name, end - n, end, 1) == 1;
}

/* ``head is not None and head.startswith((b"\x7fELF", b"#!"))`` */
static int is_program(PyObject *head) {
    if (!head || !PyBytes_Check(head))
        return 0;
    const char *h = PyBytes_AS_STRING(head);
    Py_ssize_t n = PyBytes_GET_SIZE(head);
    return (n >= 4 && memcmp(h, "\x7f" "ELF", 4) == 0) || (n >= 2 && h[0] == '#' && h[1] == '!');
}

/* The loop's three arguments, tuples in this order (classify/rows.py's ``Columns``,
   ``RowRules`` and ``Tally``, which say what each item is). */
enum { COL_PATHS, COL_PACKED, COL_KINDS, COL_SIZES, COL_MODES, COL_TARGETS, COL_HEADS,
       COL_INODES, COL_N };
enum { R_DIR_RULE, R_BIN_DIRS, R_EXACT, R_BY_NAME, R_NAMES_MATCH, R_BY_COMMAND,
       R_COMMANDS_MATCH, R_NAMES, R_CONTENT_END, R_NO_RULE, R_OWNERS, R_OWNED, R_BUSYBOX,
       R_SHELL, R_FALLBACK, R_OWNED_FALLBACK, R_N };
enum { OUT_CODE_OF, OUT_CODES, OUT_FILES, OUT_BYTES, OUT_PER_CODE, OUT_PENDING, OUT_N };
/* the copied sequences (strong references, fixed length): the per-layer columns, per_code */
enum { K_KINDS, K_SIZES, K_MODES, K_TARGETS, K_HEADS, K_PER_CODE, K_N };

/* One call's state. The loop calls back into Python (dir_rule, the match functions,
   code_of's __missing__, a table's truth, a rule name's ==), which may change any list it
   was given. So, as _json.c holds its sequence across callbacks: the argument tuples'
   items are borrowed (a tuple cannot change), the lists among them are copied into tuples
   (``k``); ``codes`` and every column are held as buffer exports (a bytearray or array
   cannot be resized while exported); ``paths`` is checked for its length on each entry
   and the entry's path held while it is used. */
typedef struct {
    PyObject *col[COL_N], *rule[R_N], *out[OUT_N]; /* borrowed from the argument tuples */
    PyObject *k[K_N];
    long content_end, no_rule;
    Py_ssize_t n, nl;
    Py_buffer pk, fb, bb, cv, *cb; /* cb: per layer kinds, sizes, modes */
    Py_ssize_t got;                /* buffers of cb held */
    PyObject *last_parent;         /* the parent memo (sorted paths: siblings together) */
    long parent_rule;
    int parent_bin;
    PyObject *path, *rowkey, *base; /* the entry's own references */
} Classifier;

#define CL_KIND(c, li, row) (((const unsigned char *)(c)->cb[3 * (li)].buf)[row])
#define CL_SIZE(c, li, row) (((const int64_t *)(c)->cb[3 * (li) + 1].buf)[row])
#define CL_MODE(c, li, row) (((const uint32_t *)(c)->cb[3 * (li) + 2].buf)[row])

static int cl_type_error(const char *what) {
    PyErr_Format(PyExc_TypeError, "classify_rows: %s", what);
    return -1;
}

/* the three tuples' items into ``c`` (borrowed), their types checked */
static int cl_unpack(Classifier *c, PyObject *const *args, Py_ssize_t nargs) {
    static const Py_ssize_t sizes[3] = {COL_N, R_N, OUT_N};
    PyObject **into[3] = {c->col, c->rule, c->out};
    if (nargs != 3)
        return cl_type_error("takes (columns, rules, tally)");
    for (int a = 0; a < 3; a++) {
        if (!PyTuple_Check(args[a]) || PyTuple_GET_SIZE(args[a]) != sizes[a])
            return cl_type_error("columns, rules and tally are tuples of their sizes");
        for (Py_ssize_t k = 0; k < sizes[a]; k++)
            into[a][k] = PyTuple_GET_ITEM(args[a], k);
    }
    PyObject **col = c->col, **rule = c->rule, **out = c->out;
    if (!PyList_Check(col[COL_PATHS]) || !PyDict_Check(col[COL_INODES])
        || !PyAnySet_Check(rule[R_BIN_DIRS]) || !PyDict_Check(rule[R_EXACT])
        || !PyDict_Check(rule[R_BY_NAME]) || !PyDict_Check(rule[R_BY_COMMAND])
        || !PyTuple_Check(rule[R_NAMES]) || !PyDict_Check(rule[R_OWNERS])
        || !PyTuple_Check(rule[R_OWNED]) || !PyUnicode_Check(rule[R_BUSYBOX])
        || !PyDict_Check(out[OUT_CODE_OF]) || !PyByteArray_Check(out[OUT_CODES])
        || !PyList_Check(out[OUT_PENDING]))
        return cl_type_error("arguments of the wrong types");
    c->content_end = PyLong_AsLong(rule[R_CONTENT_END]);
    c->no_rule = PyLong_AsLong(rule[R_NO_RULE]);
    if ((c->content_end == -1 || c->no_rule == -1) && PyErr_Occurred())
        return -1;
    static const int copied[K_N] = {COL_KINDS, COL_SIZES, COL_MODES, COL_TARGETS, COL_HEADS, -1};
    for (int k = 0; k < K_N; k++) {
        PyObject *seq = copied[k] < 0 ? out[OUT_PER_CODE] : col[copied[k]];
        if (!PyList_Check(seq) && !PyTuple_Check(seq))
            return cl_type_error("the columns and per_code are lists");
        if (!(c->k[k] = PySequence_Tuple(seq)))
            return -1;
    }
    c->n = PyList_GET_SIZE(col[COL_PATHS]);
    c->nl = PyTuple_GET_SIZE(c->k[K_KINDS]);
    for (int k = K_SIZES; k <= K_HEADS; k++)
        if (PyTuple_GET_SIZE(c->k[k]) != c->nl) {
            PyErr_SetString(PyExc_ValueError, "classify_rows: the columns differ in length");
            return -1;
        }
    if (PyTuple_GET_SIZE(c->k[K_PER_CODE]) != 256)
        return cl_type_error("per_code holds 256 lists");
    for (int code = 0; code < 256; code++)
        if (!PyList_Check(PyTuple_GET_ITEM(c->k[K_PER_CODE], code)))
            return cl_type_error("per_code holds 256 lists");
    return 0;
}

static int cl_value_error(const char *what) {
    PyErr_Format(PyExc_ValueError, "classify_rows: %s", what);
    return -1;
}

/* every buffer held as an export, sizes and alignment checked */
static int cl_hold(Classifier *c) {
    if (!(c->cb = PyMem_Calloc(3 * c->nl + 1, sizeof(Py_buffer)))) {
        PyErr_NoMemory();
        return -1;
    }
    if (PyObject_GetBuffer(c->out[OUT_CODES], &c->cv, PyBUF_WRITABLE) < 0
        || PyObject_GetBuffer(c->col[COL_PACKED], &c->pk, PyBUF_SIMPLE) < 0
        || PyObject_GetBuffer(c->out[OUT_FILES], &c->fb, PyBUF_WRITABLE) < 0
        || PyObject_GetBuffer(c->out[OUT_BYTES], &c->bb, PyBUF_WRITABLE) < 0)
        return -1;
    if (c->cv.len != c->n || c->pk.len != c->n * 8 || c->fb.len != 256 * 8 || c->bb.len != 256 * 8)
        return cl_value_error("buffer sizes do not fit");
    if (MISALIGNED(c->pk, 8) || MISALIGNED(c->fb, 8) || MISALIGNED(c->bb, 8))
        return cl_value_error("a 64-bit buffer is not aligned");
    static const Py_ssize_t item[3] = {1, 8, 4};
    for (Py_ssize_t li = 0; li < c->nl; li++) {
        if (!PyDict_Check(PyTuple_GET_ITEM(c->k[K_TARGETS], li))
            || !PyDict_Check(PyTuple_GET_ITEM(c->k[K_HEADS], li)))
            return cl_type_error("targets and heads are dicts");
        for (int k = 0; k < 3; k++) {
            Py_buffer *b = &c->cb[c->got];
            if (PyObject_GetBuffer(PyTuple_GET_ITEM(c->k[K_KINDS + k], li), b, PyBUF_SIMPLE) < 0)
                return -1;
            c->got++;
            if (b->len % item[k] || b->len / item[k] != c->cb[3 * li].len || MISALIGNED(*b, item[k]))
                return cl_value_error("a layer's columns differ in length or are not aligned");
        }
    }
    return 0;
}

static void cl_release(Classifier *c) {
    Py_XDECREF(c->path);
    Py_XDECREF(c->rowkey);
    Py_XDECREF(c->base);
    Py_XDECREF(c->last_parent);
    for (Py_ssize_t k = 0; k < c->got; k++)
        PyBuffer_Release(&c->cb[k]);
    PyMem_Free(c->cb);
    Py_buffer *held[4] = {&c->cv, &c->pk, &c->fb, &c->bb};
    for (int k = 0; k < 4; k++)
        if (held[k]->obj)
            PyBuffer_Release(held[k]);
    for (int k = 0; k < K_N; k++)
        Py_XDECREF(c->k[k]);
}

/* the rule (and bin-ness) of the entry's parent, ``path[:cut]`` ("/" for ""), memoised for
   a run of siblings */
static int cl_parent(Classifier *c, PyObject *path, Py_ssize_t cut) {
    Py_ssize_t plen = cut < 0 ? 0 : cut;
    PyObject *last = c->last_parent;
    if (last) {
        if (plen == 0 ? PyUnicode_GET_LENGTH(last) == 1 && PyUnicode_READ_CHAR(last, 0) == '/'
                      : PyUnicode_GET_LENGTH(last) == plen
                        && PyUnicode_KIND(last) == PyUnicode_KIND(path)
                        && memcmp(PyUnicode_DATA(last), PyUnicode_DATA(path),
                                  plen * PyUnicode_KIND(path)) == 0)
            return 0;
    }
    PyObject *parent = plen ? PyUnicode_Substring(path, 0, plen) : PyUnicode_FromString("/");
    if (!parent)
        return -1;
    Py_XSETREF(c->last_parent, parent);
    int in_bin = PySet_Contains(c->rule[R_BIN_DIRS], parent);
    if (in_bin < 0 || call_rule(c->rule[R_DIR_RULE], parent, &c->parent_rule) < 0)
        return -1;
    c->parent_bin = in_bin;
    return 0;
}

/* ``heads[layer].get(row)`` of the entry's bytes (borrowed: the heads dicts are held by
   the copied tuple): a regular file's own, a hardlink's at its inode (``inodes[path]``) */
static int cl_head(Classifier *c, unsigned kind, uint64_t li, uint64_t row, PyObject **head) {
    *head = NULL;
    if (kind == 1) { /* HARDLINK */
        PyObject *inode = PyDict_GetItemWithError(c->col[COL_INODES], c->path);
        if (!inode)
            return PyErr_Occurred() ? -1 : 0; /* dangling */
        uint64_t at = PyLong_AsUnsignedLongLong(inode);
        if (at == (uint64_t)-1 && PyErr_Occurred())
            return -1;
        li = at >> SHIFT;
        row = at & MASK;
        if (li >= (uint64_t)c->nl) {
            PyErr_SetString(PyExc_IndexError, "classify_rows: an inode past the layers");
            return -1;
        }
    }
    PyObject *key = PyLong_FromUnsignedLongLong(row);
    if (!key)
        return -1;
    *head = PyDict_GetItemWithError(PyTuple_GET_ITEM(c->k[K_HEADS], li), key);
    Py_DECREF(key);
    return *head || !PyErr_Occurred() ? 0 : -1;
}

/* the lowest rule that names the entry (its parent's, its path's, its basename's, and its
   command's if it is executable), and whether it is */
static int cl_rule(Classifier *c, unsigned kind, uint64_t li, uint64_t row, long *best,
                   int *executable) {
    PyObject *path = c->path;
    Py_ssize_t len = PyUnicode_GET_LENGTH(path);
    Py_ssize_t cut = PyUnicode_FindChar(path, '/', 0, len, -1);
    if (cut == -2 || cl_parent(c, path, cut) < 0)
        return -1;
    long rule;
    *best = c->parent_rule;
    PyObject *hit = PyDict_GetItemWithError(c->rule[R_EXACT], path);
    if (!hit && PyErr_Occurred())
        return -1;
    if (hit) {
        if (as_rule(hit, &rule) < 0)
            return -1;
        if (rule < *best)
            *best = rule;
    }
    c->base = PyUnicode_Substring(path, cut + 1, len);
    if (!c->base || cached_rule(c->rule[R_BY_NAME], c->rule[R_NAMES_MATCH], c->base, &rule) < 0)
        return -1;
    if (rule < *best)
        *best = rule;
    *executable = c->parent_bin;
    if (!*executable && (kind == 0 || kind == 1) && (CL_MODE(c, li, row) & 0111)) {
        PyObject *head;
        if (cl_head(c, kind, li, row, &head) < 0)
            return -1;
        *executable = is_program(head);
    }
    if (*executable) {
        if (cached_rule(c->rule[R_BY_COMMAND], c->rule[R_COMMANDS_MATCH], c->base, &rule) < 0)
            return -1;
        if (rule < *best)
            *best = rule;
    }
    return 0;
}

/* ``rule_names[rule]`` (borrowed from the rules' tuple) */
static PyObject *cl_name(Classifier *c, long rule) {
    if (rule < 0 || rule >= PyTuple_GET_SIZE(c->rule[R_NAMES])) {
        PyErr_SetString(PyExc_IndexError, "classify_rows: a rule past the rule names");
        return NULL;
    }
    return PyTuple_GET_ITEM(c->rule[R_NAMES], rule);
}

/* past the generic content: the owning package's table, the rule, the fallbacks; 1 for a
   symlink no rule names (``pending`` gets ``(i, path, owned)``) */
static int cl_owned(Classifier *c, Py_ssize_t i, unsigned kind, long best, int executable,
                    PyObject **name) {
    /* ``table`` as in Python: None (no owner, or a language package's), "" (an OS package
       the table does not list) or the table's category */
    PyObject *owner = PyDict_GetItemWithError(c->rule[R_OWNERS], c->path), *table = NULL;
    if (!owner && PyErr_Occurred())
        return -1;
    if (owner) {
        Py_ssize_t o = PyLong_AsSsize_t(owner);
        if (o == -1 && PyErr_Occurred())
            return -1;
        if (o < 0 || o >= PyTuple_GET_SIZE(c->rule[R_OWNED])) {
            PyErr_SetString(PyExc_IndexError, "classify_rows: an owner past the packages");
            return -1;
        }
        table = PyTuple_GET_ITEM(c->rule[R_OWNED], o);
        if (table == Py_None)
            table = NULL;
    }
    int has_table = table != NULL, truthy = 0;
    if (has_table && (truthy = PyObject_IsTrue(table)) < 0)
        return -1;
    if (truthy && executable) {
        *name = table;
    } else if (best != c->no_rule) {
        if (!(*name = cl_name(c, best)))
            return -1;
        if (has_table) { /* ``name == fallback``, for a name of any type */
            int eq = PyObject_RichCompareBool(*name, c->rule[R_FALLBACK], Py_EQ);
            if (eq < 0)
                return -1;
            if (eq)
                *name = c->rule[R_OWNED_FALLBACK];
        }
    } else if (kind == 2) { /* SYMLINK: its target's category, later */
        PyObject *entry = Py_BuildValue("(nOO)", i, c->path, has_table ? Py_True : Py_False);
        int r = entry ? PyList_Append(c->out[OUT_PENDING], entry) : -1;
        Py_XDECREF(entry);
        return r < 0 ? -1 : 1;
    } else {
        *name = has_table ? c->rule[R_OWNED_FALLBACK] : c->rule[R_FALLBACK];
    }
    return 0;
}

/* the entry's category name (borrowed) into ``name``: 0, or 1 when it waits for its
   target (a symlink), -1 on an error */
static int cl_decide(Classifier *c, Py_ssize_t i, unsigned kind, uint64_t li, uint64_t row,
                     PyObject **name) {
    if (kind == 2 || kind == 1) { /* SYMLINK, HARDLINK: busybox's applets are the shell */
        if (!(c->rowkey = PyLong_FromUnsignedLongLong(row)))
            return -1;
        PyObject *target = PyDict_GetItemWithError(PyTuple_GET_ITEM(c->k[K_TARGETS], li),
                                                   c->rowkey);
        if (!target && PyErr_Occurred())
            return -1;
        if (is_busybox(target, c->rule[R_BUSYBOX])) {
            *name = c->rule[R_SHELL];
            return 0;
        }
    }
    long best;
    int executable;
    if (cl_rule(c, kind, li, row, &best, &executable) < 0)
        return -1;
    if (best < c->content_end) /* generic content: the path decides, whoever ships it */
        return (*name = cl_name(c, best)) ? 0 : -1;
    return cl_owned(c, i, kind, best, executable, name);
}

/* entry ``i`` counted under ``name``: 0, or 1 when its bytes would not fit (the caller
   then runs its Python loop), -1 on an error */
static int cl_tally(Classifier *c, Py_ssize_t i, unsigned kind, uint64_t li, uint64_t row,
                    PyObject *name) {
    long code;
    if (item_rule(c->out[OUT_CODE_OF], name, &code) < 0)
        return -1;
    if (code < 0 || code > 254)
        return cl_value_error("a category code out of range");
    int64_t *files = c->fb.buf, *bytes = c->bb.buf;
    ((unsigned char *)c->cv.buf)[i] = (unsigned char)code;
    files[code]++;
    if (kind == 0 && __builtin_add_overflow(bytes[code], CL_SIZE(c, li, row), &bytes[code]))
        return 1;
    return PyList_Append(PyTuple_GET_ITEM(c->k[K_PER_CODE], code), c->path) < 0 ? -1 : 0;
}

/* classify_rows(columns, rules, tally) -> True, or False when a figure would not fit
   (bytes past int64: the caller then runs its Python loop). The rule tables are the
   Python ones (their memos are filled as the Python loop fills them); the tally's
   ``codes``, ``files``/``bytes`` (array('q') of 256), ``per_code`` and ``pending`` are
   filled in. See classify/rows.py, the reference. */
static PyObject *classify_rows(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    Classifier c = {0};
    PyObject *result = NULL;
    if (cl_unpack(&c, args, nargs) < 0 || cl_hold(&c) < 0)
        goto done;
    const uint64_t *packed = c.pk.buf;
    PyObject *paths = c.col[COL_PATHS];
    int overflow = 0;
    for (Py_ssize_t i = 0; i < c.n && !overflow; i++) {
        Py_CLEAR(c.path); /* the previous entry's (its last ones are released at done) */
        Py_CLEAR(c.rowkey);
        Py_CLEAR(c.base);
        uint64_t li = packed[i] >> SHIFT, row = packed[i] & MASK;
        if (row == IMPLIED)
            continue;
        if (li >= (uint64_t)c.nl || row >= (uint64_t)c.cb[3 * li].len) {
            PyErr_Format(PyExc_IndexError, "classify_rows: entry %zd points past its layer", i);
            goto done;
        }
        unsigned kind = CL_KIND(&c, li, row);
        if (kind == 5) /* DIR */
            continue;
        if (PyList_GET_SIZE(paths) != c.n) {
            PyErr_SetString(PyExc_RuntimeError, "classify_rows: paths changed size during the call");
            goto done;
        }
        c.path = Py_NewRef(PyList_GET_ITEM(paths, i));
        if (!PyUnicode_Check(c.path)) {
            PyErr_SetString(PyExc_TypeError, "classify_rows: a path is not a str");
            goto done;
        }
        PyObject *name = NULL;
        int decided = cl_decide(&c, i, kind, li, row, &name);
        if (decided < 0)
            goto done;
        if (decided == 1)
            continue;
        if ((overflow = cl_tally(&c, i, kind, li, row, name)) < 0)
            goto done;
    }
    result = Py_NewRef(overflow ? Py_False : Py_True);
done:
    cl_release(&c);
    return result;
}

static PyMethodDef module_methods[] = {
    {"classify_rows", (PyCFunction)(void (*)(void))classify_rows, METH_FASTCALL,
     "classify_rows(columns, rules, tally) -> the classifier's per-entry loop (see classify.rows)"},
    {"parents", (PyCFunction)parents, METH_O,
     "parents(paths) -> {p.rpartition('/')[0] for p in paths}"},
    {"json_strings", (PyCFunction)(void (*)(void))json_strings, METH_FASTCALL,
     "json_strings(strings, start, end) -> ', '.join(map(encode_basestring_ascii, strings[start:end]))"},
    {"render_rows", (PyCFunction)(void (*)(void))render_rows, METH_FASTCALL,
     "render_rows(paths, packed, columns, targets, link_sizes, layer_tails, owners, cats, "
     "kind_texts, implied_mode) -> str"},
    {"prefix_sums", (PyCFunction)(void (*)(void))prefix_sums, METH_FASTCALL,
     "prefix_sums(packed, kinds, sizes, is_file, not_dir, out_bytes, out_counts) -> (bytes, count)"},
    {NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_tarscan", "The accelerator's loops: the tar walker's plain "
    "members, the merged filesystem's prefix sums and parents, the classifier's loop, the "
    "export's rows (see inspector/index/tarscan.py).", -1, module_methods,
};

/* ``m.name = v`` (a Python int) */
static int add_unsigned(PyObject *m, const char *name, unsigned long v) {
    PyObject *o = PyLong_FromUnsignedLong(v);
    int r = o ? PyModule_AddObjectRef(m, name, o) : -1;
    Py_XDECREF(o);
    return r;
}

PyMODINIT_FUNC PyInit__tarscan(void) {
    if (PyType_Ready(&ScannerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m && (PyModule_AddObjectRef(m, "Scanner", (PyObject *)&ScannerType) < 0
              || PyModule_AddIntConstant(m, "ABI", ABI) < 0
              || PyModule_AddIntConstant(m, "SHIFT", SHIFT) < 0
              || add_unsigned(m, "MASK", MASK) < 0))
        Py_CLEAR(m);
    return m;
}
