/* mg_progress.c: one updating progress line on a terminal (mg_progress.h). */
#include "mg_progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Nothing shows during the first second (short runs stay silent), then at
 * most four redraws a second: enough to look alive, too few to cost time. */
#define FIRST_DRAW_S 1.0
#define REDRAW_S 0.25

struct mg_progress {
    const char *prog, *unit;
    uint64_t total, done;
    double t0, last_draw;
    int shown;                 /* a line is on the terminal now */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

mg_progress *mg_progress_new(const char *prog, const char *unit, uint64_t total)
{
    if (!isatty(STDERR_FILENO)) return NULL;
    mg_progress *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->prog = prog;
    p->unit = unit;
    p->total = total;
    p->t0 = now_s();
    p->last_draw = p->t0 - REDRAW_S;
    return p;
}

/* "1:05" or "2:03:04" */
static void fmt_duration(char *buf, size_t n, double s)
{
    long t = s < 0 ? 0 : s > 359999 ? 359999 : (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void draw(mg_progress *p, double t)
{
    double elapsed = t - p->t0, rate = elapsed > 0 ? (double)p->done / elapsed : 0;
    char line[192], left[48] = "";
    int n;
    if (p->total) {
        if (rate > 0 && p->done < p->total) {
            char d[32];
            fmt_duration(d, sizeof d, (double)(p->total - p->done) / rate);
            snprintf(left, sizeof left, ", %s left", d);
        }
        n = snprintf(line, sizeof line, "%s: %" PRIu64 "/%" PRIu64 " %s (%.0f%%), %.3g/s%s",
                     p->prog, p->done, p->total, p->unit,
                     100.0 * (double)p->done / (double)p->total, rate, left);
    } else {
        n = snprintf(line, sizeof line, "%s: %" PRIu64 " %s, %.3g/s", p->prog, p->done,
                     p->unit, rate);
    }
    if (n < 0) return;
    /* \r then erase to the end of the line: a shorter line leaves no tail */
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    p->shown = 1;
    p->last_draw = t;
}

void mg_progress_step(mg_progress *p, uint64_t done)
{
    if (!p) return;
    p->done = done;
    double t = now_s();
    if (t - p->t0 < FIRST_DRAW_S || t - p->last_draw < REDRAW_S) return;
    draw(p, t);
}

void mg_progress_clear(mg_progress *p)
{
    if (!p || !p->shown) return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->shown = 0;
}

void mg_progress_free(mg_progress *p)
{
    mg_progress_clear(p);
    free(p);
}
