#!/usr/bin/env bash
# The demonstration (make demo) runs end to end on data it makes, ends with the
# Polygenic result table and the summary page's path, and the page renders in
# headless Chromium: every table filled, every image decoded, every plot inline.
. "$(dirname "$0")/../lib.sh"
export DEMO="$T/demo-out"
if ! MG_BIN="$MG_BIN" bash "$TOP/examples/demo.sh" >"$T/demo.log" 2>&1; then
    fail "demo_runs_to_the_end" "$(tail -n 5 "$T/demo.log" | tr '\n' '|')"
    exit 0
fi
pass "demo_runs_to_the_end"
last=$(tail -n 1 "$T/demo.log")
[ "$last" = "summary page: $DEMO/index.html" ] && pass "demo_ends_with_the_summary_page_path" \
    || fail "demo_ends_with_the_summary_page_path" "last line: $last"
grep -q '^  CAD  *CAD  *0\.[0-9]* (' "$T/demo.log" && grep -q '^  stroke  *CAD ' "$T/demo.log" \
    && pass "demo_prints_the_polygenic_result_table" \
    || fail "demo_prints_the_polygenic_result_table" "$(tail -n 6 "$T/demo.log" | tr '\n' '|')"

# Polygenic: the table's AUCs are those mg-score computed, and lie in [0, 1].
"$PY" - "$DEMO/polygenic" <<'PY' && pass "polygenic_table_matches_the_score_json" || fail "polygenic_table_matches_the_score_json"
import json, sys
d = sys.argv[1]
rows = [l.rstrip("\n").split("\t") for l in open(d + "/result.tsv")][1:]
assert [r[0] for r in rows] == ["CAD", "stroke"], rows
for r in rows:
    j = json.load(open("%s/score_%s.json" % (d, r[0])))
    assert r[2].startswith("%.3f (" % j["delong"]["auc"]), (r, j["delong"])
    assert abs(float(r[5]) - j["comparison"]["delong"]["p"]) <= 5e-4 * max(1, float(r[5])) or \
        "%.3g" % j["comparison"]["delong"]["p"] == r[5], r
    assert 0 <= j["delong"]["auc"] <= 1
PY

if ! command -v chromium >/dev/null; then skip "summary_page_renders" "chromium not installed"; exit 0; fi
timeout 120 chromium --headless --no-sandbox --disable-gpu --virtual-time-budget=10000 \
    --dump-dom "file://$DEMO/index.html" >"$T/dom.html" 2>/dev/null
body=$(grep -o '<body[^>]*>' "$T/dom.html" | head -n 1)
attr() { echo "$body" | sed -n "s/.* $1=\"\([0-9a-z]*\)\".*/\1/p"; }
[ "$(attr data-rendered)" = yes ] && pass "summary_page_loads_in_chromium" || fail "summary_page_loads_in_chromium" "$body"
imgs=$(attr data-images); ok=$(attr data-images-ok)
[ -n "$imgs" ] && [ "$imgs" -ge 4 ] && [ "$imgs" = "$ok" ] && pass "summary_page_every_image_decoded" \
    || fail "summary_page_every_image_decoded" "$ok of $imgs images decoded"
want_tables=$(grep -o '"kind": "table"' "$DEMO"/sections/*.json | wc -l)
[ "$(attr data-tables)" = "$want_tables" ] && [ "$want_tables" -ge 2 ] && pass "summary_page_every_table_rendered" \
    || fail "summary_page_every_table_rendered" "$(attr data-tables) of $want_tables tables"
want_svgs=$(grep -o '"kind": "svg"' "$DEMO"/sections/*.json | wc -l)
[ "$(attr data-svgs)" = "$want_svgs" ] && [ "$want_svgs" -ge 2 ] && pass "summary_page_every_plot_inline" \
    || fail "summary_page_every_plot_inline" "$(attr data-svgs) of $want_svgs plots"
grep -q 'Med-Gemini-Polygenic, in simulation' "$T/dom.html" && pass "summary_page_has_the_polygenic_section" \
    || fail "summary_page_has_the_polygenic_section"
exit 0
