/* Unit tests for mg_prs: the plink2-compatible number formatting of .sscore values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg_prs.h"

static int fails;

static void expect(const char *name, const char *got, const char *want)
{
    if (strcmp(got, want)) { printf("FAIL %s: got '%s', want '%s'\n", name, got, want); fails++; }
    else printf("PASS %s\n", name);
}

int main(void)
{
    char b[64], p[64];
    /* away from ties, dtoa_g and %.6g agree */
    int bad = 0;
    srand(7);
    for (int i = 0; i < 200000; i++) {
        double x = (rand() / (double)RAND_MAX - 0.5) * pow(10, rand() % 24 - 12);
        mg_prs_format_g6(x, b);
        snprintf(p, sizeof p, "%.6g", x);
        double s = fabs(x) * pow(10, 5 - floor(log10(fabs(x))));
        double frac = s - floor(s);
        if (fabs(frac - 0.5) > 1e-5 && strcmp(b, p)) {
            if (bad++ < 3) printf("# %.17g: %s vs %s\n", x, b, p);
        }
    }
    if (bad) { printf("FAIL g6_matches_printf_away_from_ties: %d differ\n", bad); fails++; }
    else printf("PASS g6_matches_printf_away_from_ties\n");
    mg_prs_format_g6(-0.0075811749999999912, b);
    expect("g6_near_tie_rounds_to_even_digit", b, "-0.00758118");
    mg_prs_format_g6(0.12345650000000001, b);
    expect("g6_near_tie_keeps_even_digit", b, "0.123456");
    mg_prs_format_g6(999999.5, b);
    expect("g6_carry_into_next_decade", b, "1e+06");
    mg_prs_format_g6(1e-5, b);
    expect("g6_small_exponent", b, "1e-05");
    mg_prs_format_g6(100000, b);
    expect("g6_integer", b, "100000");
    mg_prs_format_g6(0, b);
    expect("g6_zero", b, "0");
    mg_prs_format_dosage_sum(1985 * 32768 + 10354, b);  /* 1985.31597 */
    expect("dosage_sum_three_decimals", b, "1985.316");
    mg_prs_format_dosage_sum(2 * 32768 + 25232, b);     /* 2.770019 */
    expect("dosage_sum_trailing_zero_dropped", b, "2.77");
    mg_prs_format_dosage_sum(1961 * 32768, b);
    expect("dosage_sum_integer", b, "1961");
    mg_prs_format_dosage_sum(2048, b);                  /* 0.0625 exactly: plink2 rounds up */
    expect("dosage_sum_tie_rounds_up", b, "0.063");
    mg_prs_format_dosage_sum(2 * 32768 + 1, b);         /* a haploid half unit */
    expect("dosage_sum_half_unit", b, "2");
    mg_prs_format_dosage_sum(2097LL * 32768 + 28608, b); /* 0.873046875: plink2 prints .872 */
    expect("dosage_sum_plink2_off_by_one_at_4048", b, "2097.872");
    mg_prs_format_dosage_sum(32768 - 16, b);             /* 0.99951: carries */
    expect("dosage_sum_carries_to_integer", b, "1");
    return fails ? 1 : 0;
}
