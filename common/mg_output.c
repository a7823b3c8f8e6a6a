/* mg_output.c: temporary-then-rename outputs and their cleanup on fatal
 * signals (see mg_output.h). */
#include "mg_output.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the registry of open temporaries, read by the signal handler ----
 * A signal may arrive in any thread at any moment, so the handler must never
 * see memory being freed or a name half written: entries are pushed onto a
 * list with an atomic store and never freed, only marked free and reused,
 * and a name is written before its entry is marked live. This is the one
 * piece of process-wide state, as a signal handler needs one. */
enum { SLOT_FREE, SLOT_CLAIMED, SLOT_LIVE };

typedef struct tmp_slot {
    struct tmp_slot *next;
    atomic_int state;
    size_t cap;
    char name[];
} tmp_slot;

static _Atomic(tmp_slot *) tmp_list;

static tmp_slot *tmp_register(const char *name)
{
    size_t len = strlen(name) + 1;
    for (tmp_slot *s = atomic_load(&tmp_list); s; s = s->next) {
        int expect = SLOT_FREE;
        if (s->cap >= len && atomic_compare_exchange_strong(&s->state, &expect, SLOT_CLAIMED)) {
            memcpy(s->name, name, len);
            atomic_store(&s->state, SLOT_LIVE);
            return s;
        }
    }
    size_t cap = len < 256 ? 256 : len;
    tmp_slot *s = malloc(sizeof *s + cap);
    if (!s) return NULL;
    s->cap = cap;
    memcpy(s->name, name, len);
    atomic_init(&s->state, SLOT_LIVE);
    s->next = atomic_load(&tmp_list);
    while (!atomic_compare_exchange_weak(&tmp_list, &s->next, s)) {}
    return s;
}

static void tmp_unregister(tmp_slot *s)
{
    if (s) atomic_store(&s->state, SLOT_FREE);
}

static void cleanup_and_reraise(int sig)
{
    int saved = errno;
    for (tmp_slot *s = atomic_load(&tmp_list); s; s = s->next)
        if (atomic_load(&s->state) == SLOT_LIVE) unlink(s->name);
    signal(sig, SIG_DFL);
    raise(sig);
    errno = saved;
}

void mg_output_install_signal_handlers(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGPIPE };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa, old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = cleanup_and_reraise;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
    signal(SIGXFSZ, SIG_IGN);
}

/* ---- one output file ---- */

struct mg_ofile {
    int fd;                 /* -1 once closed */
    FILE *fp;               /* stdio view, when asked for */
    char *path, *tmp;       /* target; temporary (NULL: written directly) */
    int is_stdout;
    tmp_slot *slot;
    struct mg_ofile *next;  /* in a group */
};

static void ofile_free(mg_ofile *f)
{
    free(f->path);
    free(f->tmp);
    free(f);
}

static int sys_err(char *err, size_t errlen, const char *what)
{
    if (what) mg_seterr(err, errlen, "%s: %s", what, strerror(errno));
    else mg_seterr(err, errlen, "%s", strerror(errno));
    return -1;
}

mg_ofile *mg_ofile_open(const char *path, const char *suffix, char *err, size_t errlen)
{
    mg_ofile *f = calloc(1, sizeof *f);
    if (!f) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    f->fd = -1;
    if (strcmp(path, "-") == 0) {
        f->fd = 1;
        f->fp = stdout;
        f->is_stdout = 1;
        return f;
    }
    if (!(f->path = strdup(path))) goto oom;
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* a FIFO, /dev/null, /dev/full …: no rename possible, write straight in */
        if ((f->fd = open(path, O_WRONLY | O_CLOEXEC)) < 0) goto sys;
        if (!(f->fp = fdopen(f->fd, "w"))) { close(f->fd); goto oom; }
        return f;
    }
    size_t len = strlen(path), sl = suffix ? strlen(suffix) : 0;
    if (sl > len || strcmp(path + len - sl, sl ? suffix : "") != 0) sl = 0;
    if (!(f->tmp = malloc(len + 12 + 1))) goto oom;
    snprintf(f->tmp, len + 13, "%.*s.tmp.XXXXXX%s", (int)(len - sl), path, path + len - sl);
    if ((f->fd = mkostemps(f->tmp, (int)sl, O_CLOEXEC)) < 0) { free(f->tmp); f->tmp = NULL; goto sys; }
    f->slot = tmp_register(f->tmp);
    if (!f->slot) { close(f->fd); unlink(f->tmp); goto oom; }
    /* mkstemp makes 0600; give what open(…, 0666) would under the umask */
    mode_t um = umask(0);
    umask(um);
    if (fchmod(f->fd, 0666 & ~um) < 0) { /* keep 0600: still a usable file */ }
    if (!(f->fp = fdopen(f->fd, "w"))) {
        close(f->fd);
        unlink(f->tmp);
        tmp_unregister(f->slot);
        goto oom;
    }
    return f;
sys:
    sys_err(err, errlen, NULL);
    ofile_free(f);
    return NULL;
oom:
    mg_seterr(err, errlen, "out of memory");
    ofile_free(f);
    return NULL;
}

int mg_ofile_fd(const mg_ofile *f) { return f->fd; }
const char *mg_ofile_name(const mg_ofile *f) { return f->is_stdout ? NULL : f->tmp ? f->tmp : f->path; }
const char *mg_ofile_target(const mg_ofile *f) { return f->is_stdout ? "-" : f->path; }
int mg_ofile_is_temp(const mg_ofile *f) { return f->tmp != NULL; }

FILE *mg_ofile_fp(mg_ofile *f) { return f->fp; }

/* Flush and close the descriptor (stdout is flushed, not closed). 0 or -1. */
static int ofile_finish(mg_ofile *f, char *err, size_t errlen)
{
    int ret = 0;
    if (f->fp) {
        if (fflush(f->fp) != 0 || ferror(f->fp)) ret = sys_err(err, errlen, "write failed");
        if (!f->is_stdout) {
            if (fclose(f->fp) != 0 && ret == 0) ret = sys_err(err, errlen, "close failed");
            f->fd = -1;
        }
        f->fp = NULL;
    }
    if (!f->is_stdout && f->fd >= 0) {
        if (close(f->fd) != 0 && ret == 0) ret = sys_err(err, errlen, "close failed");
    }
    if (!f->is_stdout) f->fd = -1;
    return ret;
}

static void ofile_abort(mg_ofile *f)
{
    if (f->fd >= 0) ofile_finish(f, NULL, 0);
    if (f->tmp) unlink(f->tmp);
    tmp_unregister(f->slot);
    ofile_free(f);
}

void mg_ofile_abort(mg_ofile *f)
{
    if (f) ofile_abort(f);
}

int mg_ofile_close(mg_ofile *f, int ok, char *err, size_t errlen)
{
    if (!f) return -1;
    char *e = ok ? err : NULL;
    int ret = ofile_finish(f, e, errlen) < 0 || !ok ? -1 : 0;
    if (ret == 0 && f->tmp && rename(f->tmp, f->path) < 0) ret = sys_err(e, errlen, "rename failed");
    if (ret < 0) { ofile_abort(f); return -1; }
    tmp_unregister(f->slot);
    ofile_free(f);
    return 0;
}

/* ---- groups ---- */

struct mg_ofile_group {
    mg_ofile *head, **tail;
};

mg_ofile_group *mg_ofile_group_new(void)
{
    mg_ofile_group *g = calloc(1, sizeof *g);
    if (g) g->tail = &g->head;
    return g;
}

int mg_ofile_group_add(mg_ofile_group *g, mg_ofile *f, char *err, size_t errlen)
{
    if (ofile_finish(f, err, errlen) < 0) { ofile_abort(f); return -1; }
    *g->tail = f;
    g->tail = &f->next;
    return 0;
}

int mg_ofile_group_close(mg_ofile_group *g, int ok, char *err, size_t errlen)
{
    if (!g) return -1;
    int ret = ok ? 0 : -1;
    mg_ofile *f = g->head, *failed_at = NULL;
    for (; ret == 0 && f; f = f->next)
        if (f->tmp && rename(f->tmp, f->path) < 0) { ret = sys_err(err, errlen, "rename failed"); failed_at = f; }
    if (failed_at)      /* undo the members already in place */
        for (mg_ofile *h = g->head; h != failed_at; h = h->next)
            if (h->tmp) unlink(h->path);
    for (f = g->head; f;) {
        mg_ofile *next = f->next;
        if (ret < 0) ofile_abort(f);
        else { tmp_unregister(f->slot); ofile_free(f); }
        f = next;
    }
    free(g);
    return ret;
}
