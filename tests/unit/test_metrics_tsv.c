/* Unit tests for mg_metrics_tsv, the table reader: the number parser against glibc's
 * strtod (correctly rounded), bit for bit, on random and halfway-point
 * strings; table splitting (CRLF, no final newline, comments, threads). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_metrics_tsv.h"

static int fails;

static void result(const char *name, int bad, const char *why)
{
    if (bad) { printf("FAIL %s: %s\n", name, why); fails++; }
    else printf("PASS %s\n", name);
}

static uint64_t rng_state = 0x243F6A8885A308D3ULL;
static uint64_t rnd(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* mg_parse_number must give strtod's double (a zero as +0), and reject the
 * string exactly when strtod does not consume it all to a finite value or it
 * has characters outside decimal notation (strtod also takes spaces, hex,
 * inf and nan). */
static int same_as_strtod(const char *s, char *why, size_t n)
{
    double got = 0;
    int rc = mg_parse_number(s, &got);
    char *end;
    double want = strtod(s, &end);
    int ok = *s && !*end && isfinite(want) && !s[strspn(s, "0123456789+-.eE")];
    if (want == 0) want = 0;
    if (ok != (rc == 0)) { snprintf(why, n, "'%s': accepted %d, strtod %d", s, rc == 0, ok); return 0; }
    if (ok && memcmp(&got, &want, sizeof got)) {
        snprintf(why, n, "'%s': %.17g, strtod %.17g", s, got, want);
        return 0;
    }
    return 1;
}

static void check_many(const char *name, int count, void (*gen)(char *, size_t))
{
    char s[128], why[256] = "";
    int bad = 0;
    for (int i = 0; i < count && !bad; i++) {
        gen(s, sizeof s);
        bad = !same_as_strtod(s, why, sizeof why);
    }
    result(name, bad, why);
}

/* random digit strings: 1-25 digits, a point somewhere, an exponent sometimes */
static void gen_digits(char *s, size_t n)
{
    (void)n;
    int nd = 1 + (int)(rnd() % 25), point = (int)(rnd() % (uint64_t)(nd + 2)) - 1, k = 0;
    if (rnd() % 3 == 0) s[k++] = '-';
    for (int i = 0; i < nd; i++) {
        if (i == point) s[k++] = '.';
        s[k++] = (char)('0' + rnd() % 10);
    }
    if (rnd() % 4 == 0) k += sprintf(s + k, "e%d", (int)(rnd() % 80) - 40);
    s[k] = 0;
}

/* doubles printed with 1-19 significant digits */
static void gen_printed(char *s, size_t n)
{
    uint64_t bits = rnd() & 0x7fefffffffffffffULL;
    double x;
    memcpy(&x, &bits, sizeof x);
    if (rnd() % 2) x = ldexp((double)(rnd() >> 11), -(int)(rnd() % 120));  /* everyday magnitudes */
    snprintf(s, n, "%.*g", 1 + (int)(rnd() % 19), x);
}

/* strings within a hair of the point halfway between two neighbouring
 * doubles: the cases where a rounding shortcut would go wrong */
static void gen_halfway(char *s, size_t n)
{
    double x = ldexp((double)((rnd() >> 11) | (1ULL << 52)), -52 + (int)(rnd() % 100) - 50);
    long double mid = ((long double)x + (long double)nextafter(x, INFINITY)) / 2;
    snprintf(s, n, "%.*Le", 15 + (int)(rnd() % 5), mid);  /* 16-20 significant digits */
    if (rnd() % 3 == 0) {
        /* the last digit moved by one, up or down */
        char *e = strchr(s, 'e');
        char *d = e - 1;
        if (*d >= '1' && *d <= '8') *d = (char)(*d + (rnd() % 2 ? 1 : -1));
    }
}

static void check_table(const char *name, const char *text, size_t nrow, const char *last_cell, int threads)
{
    mg_pool *pool = threads > 1 ? mg_pool_create(threads) : NULL;
    mg_tsv t;
    char err[256], why[300] = "";
    FILE *f = tmpfile();
    int bad = 0;
    if (!f) { result(name, 1, "tmpfile"); return; }
    fputs(text, f);
    fflush(f);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fileno(f));
    if (mg_tsv_read_mt(path, pool, &t, err, sizeof err) < 0) { bad = 1; snprintf(why, sizeof why, "%s", err); }
    else if (t.nrow != nrow) { bad = 1; snprintf(why, sizeof why, "%zu rows, want %zu", t.nrow, nrow); }
    else if (strcmp(mg_tsv_cell(&t, nrow - 1, t.ncol - 1), last_cell)) {
        bad = 1;
        snprintf(why, sizeof why, "last cell '%s', want '%s'", mg_tsv_cell(&t, nrow - 1, t.ncol - 1), last_cell);
    }
    mg_tsv_free(&t);
    fclose(f);
    mg_pool_free(pool);
    result(name, bad, why);
}

/* A table of a few MB split on 1..4 threads gives the same cells, and a bad
 * row deep inside is reported with the same line number. */
static void check_threads(void)
{
    size_t n = 300000;
    char *text = malloc(n * 40 + 64), *p = text;
    p += sprintf(p, "# comment\nid\tp\ty\r\n");
    for (size_t i = 0; i < n; i++) {
        if (i % 1000 == 7) p += sprintf(p, "\n# note %zu\n", i);
        p += sprintf(p, "case%zu\t0.%04zu\t%zu%s", i, (i * 7919) % 10000, i % 2, i % 3 ? "\n" : "\r\n");
    }
    size_t len = (size_t)(p - text);
    mg_tsv ref, t;
    char err[256], why[300] = "";
    int bad = mg_tsv_parse_mem(text, len, &ref, err, sizeof err) < 0;
    if (bad) snprintf(why, sizeof why, "%s", err);
    for (int th = 1; th <= 4 && !bad; th++) {
        mg_pool *pool = th > 1 ? mg_pool_create(th) : NULL;
        FILE *f = tmpfile();
        char path[64];
        if (!f || fwrite(text, 1, len, f) != len || fflush(f)) { bad = 1; snprintf(why, sizeof why, "tmpfile"); break; }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fileno(f));
        if (mg_tsv_read_mt(path, pool, &t, err, sizeof err) < 0) { bad = 1; snprintf(why, sizeof why, "%s", err); }
        else if (t.nrow != n || ref.nrow != n) { bad = 1; snprintf(why, sizeof why, "-@%d: %zu rows", th, t.nrow); }
        else
            for (size_t r = 0; r < n && !bad; r++)
                for (int c = 0; c < 3; c++)
                    if (strcmp(mg_tsv_cell(&t, r, c), mg_tsv_cell(&ref, r, c))) {
                        bad = 1;
                        snprintf(why, sizeof why, "-@%d: row %zu differs", th, r);
                        break;
                    }
        if (!bad) {
            double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
            if (mg_tsv_numbers(&t, 1, NULL, n, x, pool) != n || mg_tsv_numbers(&ref, 1, NULL, n, y, NULL) != n ||
                memcmp(x, y, n * sizeof *x)) { bad = 1; snprintf(why, sizeof why, "-@%d: numbers differ", th); }
            free(x); free(y);
        }
        mg_tsv_free(&t);
        fclose(f);
        mg_pool_free(pool);
    }
    mg_tsv_free(&ref);
    result("tsv_same_cells_any_threads", bad, why);

    /* a 2-field row near the end: the same error line for any thread count */
    char *q = text + len - 30;
    while (*q != '\n') q++;
    q++;
    char *tab = strchr(q, '\t');
    tab = strchr(tab + 1, '\t');
    *tab = ' ';
    size_t line = 1;
    for (char *c = text; c < q; c++) line += *c == '\n';
    char want[128], first[512] = "";
    bad = 0;
    for (int th = 1; th <= 4 && !bad; th++) {
        mg_pool *pool = th > 1 ? mg_pool_create(th) : NULL;
        FILE *f = tmpfile();
        char path[64];
        if (!f || fwrite(text, 1, len, f) != len || fflush(f)) { bad = 1; break; }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fileno(f));
        snprintf(want, sizeof want, "%s:%zu: 2 fields, header has 3", path, line);
        int rc = mg_tsv_read_mt(path, pool, &t, err, sizeof err);
        if (rc == 0 || strcmp(err, want)) { bad = 1; snprintf(first, sizeof first, "-@%d: '%s', want '%s'", th, rc ? err : "no error", want); }
        mg_tsv_free(&t);
        fclose(f);
        mg_pool_free(pool);
    }
    result("tsv_bad_row_line_any_threads", bad, first);
    free(text);
}

int main(void)
{
    static const char *edge[] = {
        "0", "-0", "+0", "0.0", "-0.000", "1", "-1", "+1", ".5", "5.", "-.5", "0.1", "0.2", "0.3",
        "1e0", "1E5", "1e-5", "1e+5", "2.5e-3", "9007199254740992", "9007199254740993",
        "9007199254740994", "9007199254740995", "18446744073709551615", "18446744073709551616",
        "9999999999999999999", "99999999999999999999", "1e22", "1e23", "1e-22", "1e-23", "1e27",
        "1e28", "1e-27", "1e-28", "123456789012345678e-10", "1234567890123456789e-27",
        "0.30000000000000004", "0.1000000000000000055511151231257827",
        "2.2250738585072011e-308", "2.2250738585072014e-308", "4.9e-324", "2e-324", "1e-400",
        "1.7976931348623157e308", "1.7976931348623159e308", "1e309", "0e999999999",
        "00000000000000000000000000000001.5", "0.000000000000000000000000000000012345",
        "7.1e10", "3.4028236692093846346e38", "", "-", "+", ".", "e5", "1e", "1e+", "1.2.3",
        "1e5.5", " 1", "1 ", "0x10", "inf", "nan", "1,5", "--1", "1-", "1e-", "１",
    };
    char why[256] = "";
    int bad = 0;
    for (size_t i = 0; i < sizeof edge / sizeof *edge && !bad; i++) bad = !same_as_strtod(edge[i], why, sizeof why);
    result("number_edge_cases_equal_strtod", bad, why);
    check_many("number_random_digit_strings_equal_strtod", 300000, gen_digits);
    check_many("number_printed_doubles_equal_strtod", 300000, gen_printed);
    check_many("number_halfway_points_equal_strtod", 300000, gen_halfway);

    check_table("tsv_crlf_lines", "id\tp\r\na\t0.5\r\nb\t0.25\r\n", 2, "0.25", 1);
    check_table("tsv_no_final_newline", "id\tp\na\t0.5\nb\t0.25", 2, "0.25", 1);
    check_table("tsv_crlf_no_final_newline", "id\tp\r\na\t0.5\r\nb\t0.25\r", 2, "0.25", 1);
    check_table("tsv_comments_and_blank_lines", "# c\n\nid\tp\n\r\na\t1\n# x\n\nb\t\n", 2, "", 1);
    check_threads();
    return fails ? 1 : 0;
}
