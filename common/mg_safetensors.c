/* mg_safetensors.c: memory-mapped safetensors reader (format: safetensors README). */
#include "mg_safetensors.h"
#include "mg_err.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char *path;
    void *map;               /* NULL for caller memory (mg_st_open_mem) */
    size_t size;
} st_file;

struct mg_st {
    int n_files;
    st_file *files;
    int n, m;
    mg_st_tensor *t;        /* sorted by name once loading is finished */
    int sorted;
};

/* The safetensors dtype names, indexed by mg_dtype. */
static const char *const st_names[] = {
    [MG_BOOL] = "BOOL", [MG_U8] = "U8", [MG_I8] = "I8", [MG_F8_E5M2] = "F8_E5M2",
    [MG_F8_E4M3] = "F8_E4M3", [MG_I16] = "I16", [MG_U16] = "U16", [MG_F16] = "F16",
    [MG_BF16] = "BF16", [MG_I32] = "I32", [MG_U32] = "U32", [MG_F32] = "F32",
    [MG_F64] = "F64", [MG_I64] = "I64", [MG_U64] = "U64",
};
#define N_DTYPES ((int)(sizeof st_names / sizeof st_names[0]))

const char *mg_st_dtype_name(int d)
{
    return d > 0 && d < N_DTYPES ? st_names[d] : NULL;
}

static int dtype_from_name(const char *s)
{
    for (int d = 1; d < N_DTYPES; d++)
        if (st_names[d] && strcmp(st_names[d], s) == 0) return d;
    return 0;
}

int mg_st_to_f32(const mg_st_tensor *t, int64_t off, int64_t n, float *out)
{
    return mg_dtype_float_to_f32(t->dtype, t->data, off, n, out);
}

static int push_tensor(mg_st *st, mg_st_tensor *t)
{
    if (st->n == st->m) {
        int m = st->m ? 2 * st->m : 64;
        mg_st_tensor *nt = realloc(st->t, (size_t)m * sizeof *nt);
        if (!nt) return -1;
        st->t = nt;
        st->m = m;
    }
    st->t[st->n++] = *t;
    return 0;
}

typedef struct { uint64_t begin, end; const char *name; } span;

static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 :
           x->end < y->end ? -1 : x->end > y->end;
}

static int get_u64(json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0) return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* Validate the header of a safetensors image b[0, size) and append its tensors,
 * attributed to file index st->n_files (path names it in errors). */
static int parse_buffer(mg_st *st, const char *path, const unsigned char *b, size_t size,
                        char *err, size_t errlen)
{
    int rc = -1;
    json_t *root = NULL;
    span *spans = NULL;
    if (size < 8) { mg_seterr(err, errlen, "%s: truncated safetensors file (%zu bytes)", path, size); goto fail; }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | b[i];
    if (hlen > MG_ST_MAX_HEADER) {
        mg_seterr(err, errlen, "%s: header length %llu exceeds the %u-byte limit", path,
               (unsigned long long)hlen, MG_ST_MAX_HEADER);
        goto fail;
    }
    if (hlen < 2 || 8 + hlen > size) {
        mg_seterr(err, errlen, "%s: header length %llu does not fit the %zu-byte file", path,
               (unsigned long long)hlen, size);
        goto fail;
    }
    json_error_t je;
    root = json_loadb((const char *)b + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &je);
    if (!root) { mg_seterr(err, errlen, "%s: bad header JSON: %s", path, je.text); goto fail; }
    if (!json_is_object(root)) { mg_seterr(err, errlen, "%s: header is not a JSON object", path); goto fail; }
    uint64_t bufsize = size - 8 - hlen;
    size_t nt = json_object_size(root), ns = 0;
    spans = calloc(nt ? nt : 1, sizeof *spans);
    if (!spans) { mg_seterr(err, errlen, "out of memory"); goto fail; }
    int file_idx = st->n_files;
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (strcmp(key, "__metadata__") == 0) {
            const char *mk;
            json_t *mv;
            if (!json_is_object(val)) { mg_seterr(err, errlen, "%s: __metadata__ is not an object", path); goto fail; }
            json_object_foreach(val, mk, mv)
                if (!json_is_string(mv)) { mg_seterr(err, errlen, "%s: __metadata__ value '%s' is not a string", path, mk); goto fail; }
            continue;
        }
        json_t *jd = json_object_get(val, "dtype"), *js = json_object_get(val, "shape"),
               *jo = json_object_get(val, "data_offsets");
        if (!json_is_object(val) || !json_is_string(jd) || !json_is_array(js) ||
            !json_is_array(jo) || json_array_size(jo) != 2) {
            mg_seterr(err, errlen, "%s: tensor '%s': malformed header entry", path, key);
            goto fail;
        }
        mg_st_tensor t = {0};
        t.dtype = dtype_from_name(json_string_value(jd));
        if (!t.dtype) {
            mg_seterr(err, errlen, "%s: tensor '%s': unknown dtype '%s'", path, key, json_string_value(jd));
            goto fail;
        }
        if (json_array_size(js) > MG_ST_MAX_DIMS) {
            mg_seterr(err, errlen, "%s: tensor '%s': more than %d dimensions", path, key, MG_ST_MAX_DIMS);
            goto fail;
        }
        t.ndim = (int)json_array_size(js);
        uint64_t numel = 1;
        for (int d = 0; d < t.ndim; d++) {
            uint64_t v;
            if (get_u64(json_array_get(js, d), &v) < 0 || v > (1ull << 40)) {
                mg_seterr(err, errlen, "%s: tensor '%s': bad shape", path, key);
                goto fail;
            }
            t.shape[d] = (int64_t)v;
            if (v && numel > (1ull << 62) / v) {
                mg_seterr(err, errlen, "%s: tensor '%s': shape too large", path, key);
                goto fail;
            }
            numel *= v;
        }
        uint64_t beg = 0, end = 0;
        if (get_u64(json_array_get(jo, 0), &beg) < 0 || get_u64(json_array_get(jo, 1), &end) < 0 ||
            end < beg || end > bufsize) {
            mg_seterr(err, errlen, "%s: tensor '%s': data offsets [%llu, %llu) outside the %llu-byte "
                   "data buffer (truncated file?)", path, key, (unsigned long long)beg,
                   (unsigned long long)end, (unsigned long long)bufsize);
            goto fail;
        }
        if (end - beg != numel * mg_dtype_size(t.dtype)) {
            mg_seterr(err, errlen, "%s: tensor '%s': %llu bytes for %llu elements of %s", path, key,
                   (unsigned long long)(end - beg), (unsigned long long)numel, st_names[t.dtype]);
            goto fail;
        }
        if (mg_st_find(st, key)) {
            mg_seterr(err, errlen, "%s: tensor '%s' appears twice in the checkpoint", path, key);
            goto fail;
        }
        t.numel = (int64_t)numel;
        t.data = b + 8 + hlen + beg;
        t.nbytes = (size_t)(end - beg);
        t.file = file_idx;
        char *nm = strdup(key);
        if (!nm || push_tensor(st, &t) < 0) { free(nm); mg_seterr(err, errlen, "out of memory"); goto fail; }
        st->t[st->n - 1].name = nm;
        spans[ns].begin = beg;
        spans[ns].end = end;
        spans[ns].name = nm;
        ns++;
    }
    /* The buffer must be tiled exactly: sorted spans contiguous from 0 to its end. */
    qsort(spans, ns, sizeof *spans, span_cmp);
    uint64_t pos = 0;
    for (size_t i = 0; i < ns; i++) {
        if (spans[i].begin != pos) {
            mg_seterr(err, errlen, "%s: tensor '%s': data offsets %s the previous tensor", path,
                   spans[i].name, spans[i].begin < pos ? "overlap" : "leave a gap after");
            goto fail;
        }
        pos = spans[i].end;
    }
    if (pos != bufsize) {
        mg_seterr(err, errlen, "%s: data buffer is %llu bytes but the header describes %llu "
               "(truncated or padded file)", path, (unsigned long long)bufsize, (unsigned long long)pos);
        goto fail;
    }
    rc = 0;
fail:
    if (rc < 0) {
        /* drop this file's tensors */
        while (st->n > 0 && st->t[st->n - 1].file == st->n_files) {
            free((char *)st->t[st->n - 1].name);
            st->n--;
        }
    }
    free(spans);
    json_decref(root);
    return rc;
}

static int add_file(mg_st *st, const char *path, void *map, size_t size)
{
    st_file *nf = realloc(st->files, (size_t)(st->n_files + 1) * sizeof *nf);
    if (!nf) return -1;
    st->files = nf;
    nf[st->n_files].path = strdup(path);
    nf[st->n_files].map = map;
    nf[st->n_files].size = size;
    if (!nf[st->n_files].path) return -1;
    st->n_files++;
    return 0;
}

/* Map one file and append its tensors; messages name it by label. */
static int load_file(mg_st *st, const char *path, const char *label, char *err, size_t errlen)
{
    int fd = -1, rc = -1;
    void *map = MAP_FAILED;
    size_t size = 0;
    struct stat sb;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { mg_seterr(err, errlen, "%s: %s", label, strerror(errno)); goto fail; }
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        mg_seterr(err, errlen, "%s: not a regular file", label);
        goto fail;
    }
    size = (size_t)sb.st_size;
    if (size < 8) { mg_seterr(err, errlen, "%s: truncated safetensors file (%zu bytes)", label, size); goto fail; }
    map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) { mg_seterr(err, errlen, "%s: mmap: %s", label, strerror(errno)); goto fail; }
    if (parse_buffer(st, label, map, size, err, errlen) < 0) goto fail;
    if (add_file(st, path, map, size) < 0) {
        while (st->n > 0 && st->t[st->n - 1].file == st->n_files) {
            free((char *)st->t[st->n - 1].name);
            st->n--;
        }
        mg_seterr(err, errlen, "out of memory");
        goto fail;
    }
    map = MAP_FAILED;
    rc = 0;
fail:
    if (map != MAP_FAILED) munmap(map, size);
    if (fd >= 0) close(fd);
    return rc;
}

static int tensor_cmp(const void *a, const void *b)
{
    return strcmp(((const mg_st_tensor *)a)->name, ((const mg_st_tensor *)b)->name);
}

mg_st_tensor *mg_st_find(mg_st *st, const char *name)
{
    /* Linear while loading (unsorted), binary once sorted. */
    if (st->sorted) {
        mg_st_tensor key = {.name = name};
        if (st->n == 0) return NULL;     /* st->t is NULL: not even bsearch may see it */
        return bsearch(&key, st->t, (size_t)st->n, sizeof *st->t, tensor_cmp);
    }
    for (int i = 0; i < st->n; i++)
        if (strcmp(st->t[i].name, name) == 0) return &st->t[i];
    return NULL;
}

static void finish(mg_st *st)
{
    if (st->n > 0) qsort(st->t, (size_t)st->n, sizeof *st->t, tensor_cmp);
    st->sorted = 1;
}

mg_st *mg_st_open_file(const char *path, char *err, size_t errlen)
{
    mg_st *st = calloc(1, sizeof *st);
    if (!st) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    if (load_file(st, path, path, err, errlen) < 0) { mg_st_close(st); return NULL; }
    finish(st);
    return st;
}

mg_st *mg_st_open_mem(const void *data, size_t size, char *err, size_t errlen)
{
    mg_st *st = calloc(1, sizeof *st);
    if (!st) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    if (parse_buffer(st, "(memory)", data, size, err, errlen) < 0) { mg_st_close(st); return NULL; }
    if (add_file(st, "(memory)", NULL, size) < 0) {
        mg_seterr(err, errlen, "out of memory");
        mg_st_close(st);
        return NULL;
    }
    finish(st);
    return st;
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

mg_st *mg_st_open_dir(const char *dir, char *err, size_t errlen)
{
    mg_st *st = NULL;
    json_t *root = NULL;
    char *ipath = join(dir, "model.safetensors.index.json"), *path = NULL;
    const char **shards = NULL;
    if (!ipath) { mg_seterr(err, errlen, "out of memory"); goto fail; }
    st = calloc(1, sizeof *st);
    if (!st) { mg_seterr(err, errlen, "out of memory"); goto fail; }
    if (access(ipath, F_OK) != 0) {
        path = join(dir, "model.safetensors");
        if (!path) { mg_seterr(err, errlen, "out of memory"); goto fail; }
        if (load_file(st, path, "model.safetensors", err, errlen) < 0) goto fail;
        goto done;
    }
    json_error_t je;
    root = json_load_file(ipath, JSON_REJECT_DUPLICATES, &je);
    if (!root) { mg_seterr(err, errlen, "model.safetensors.index.json: %s", je.text); goto fail; }
    json_t *wm = json_object_get(root, "weight_map");
    if (!json_is_object(wm) || json_object_size(wm) == 0) {
        mg_seterr(err, errlen, "model.safetensors.index.json: no weight_map object");
        goto fail;
    }
    size_t nsh = 0;
    shards = calloc(json_object_size(wm), sizeof *shards);
    if (!shards) { mg_seterr(err, errlen, "out of memory"); goto fail; }
    const char *key;
    json_t *val;
    json_object_foreach(wm, key, val) {
        const char *f = json_string_value(val);
        if (!f || !*f || strchr(f, '/')) {
            mg_seterr(err, errlen, "model.safetensors.index.json: weight_map entry '%s' is not a file name in the directory", key);
            goto fail;
        }
        size_t i;
        for (i = 0; i < nsh; i++) if (strcmp(shards[i], f) == 0) break;
        if (i == nsh) shards[nsh++] = f;
    }
    for (size_t i = 0; i < nsh; i++) {
        free(path);
        path = join(dir, shards[i]);
        if (!path) { mg_seterr(err, errlen, "out of memory"); goto fail; }
        if (load_file(st, path, shards[i], err, errlen) < 0) goto fail;
    }
    finish(st);
    /* Every mapped tensor must live in the shard the index names, and vice versa. */
    json_object_foreach(wm, key, val) {
        mg_st_tensor *t = mg_st_find(st, key);
        const char *f = json_string_value(val), *have = t ? strrchr(st->files[t->file].path, '/') + 1 : NULL;
        if (!t || strcmp(have, f) != 0) {
            mg_seterr(err, errlen, "model.safetensors.index.json: tensor '%s' is not in shard %s", key, f);
            goto fail;
        }
    }
    if ((size_t)st->n != json_object_size(wm)) {
        for (int i = 0; i < st->n; i++)
            if (!json_object_get(wm, st->t[i].name)) {
                mg_seterr(err, errlen, "model.safetensors.index.json: tensor '%s' of %s is missing "
                       "from the weight_map", st->t[i].name,
                       strrchr(st->files[st->t[i].file].path, '/') + 1);
                goto fail;
            }
    }
done:
    finish(st);
    free(shards);
    json_decref(root);
    free(ipath);
    free(path);
    return st;
fail:
    free(shards);
    json_decref(root);
    free(ipath);
    free(path);
    mg_st_close(st);
    return NULL;
}

void mg_st_close(mg_st *st)
{
    if (!st) return;
    for (int i = 0; i < st->n; i++) free((char *)st->t[i].name);
    free(st->t);
    for (int i = 0; i < st->n_files; i++) {
        if (st->files[i].map) munmap(st->files[i].map, st->files[i].size);
        free(st->files[i].path);
    }
    free(st->files);
    free(st);
}

int mg_st_count(const mg_st *st) { return st->n; }

mg_st_tensor *mg_st_at(mg_st *st, int i) { return i >= 0 && i < st->n ? &st->t[i] : NULL; }
