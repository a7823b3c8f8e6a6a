#!/usr/bin/env bash
# mg-score --plot: ROC (with bootstrap band), precision-recall and calibration
# SVGs are well-formed XML (python xml.etree) with curves inside the canvas.
source "$(dirname "$0")/../lib.sh"
cd "$T"
"$PY" - <<'PY'
import numpy as np
r = np.random.default_rng(2); n = 200
y = (r.random(n) < .3).astype(int); p = np.round(np.clip(.3 * y + r.random(n) * .7, 0, 1), 3)
open('d.tsv', 'w').write('id\tp\ty\n' + ''.join(f'i{i}\t{p[i]}\t{y[i]}\n' for i in range(n)))
PY
if ! mg-score classify d.tsv --label-col y --bootstrap 50 --plot plots -q >/dev/null; then
    fail plots_written "mg-score failed"; exit 0
fi
"$PY" - <<'PY'
import xml.etree.ElementTree as ET
NS = "{http://www.w3.org/2000/svg}"
def ok(name, cond, why=""):
    print(("PASS %s" % name) if cond else ("FAIL %s: %s" % (name, why)))
def pts(el):
    return [tuple(map(float, q.split(","))) for q in el.get("points").split()]
for f in ("roc", "pr", "calibration"):
    try:
        root = ET.parse("plots/%s.svg" % f).getroot()
    except Exception as e:
        ok("%s_svg_is_well_formed_xml" % f, False, str(e)); continue
    ok("%s_svg_is_well_formed_xml" % f, root.tag == NS + "svg")
    lines = root.findall(NS + "polyline")
    inside = all(0 <= x <= 480 and 0 <= y <= 480 for l in lines for x, y in pts(l))
    ok("%s_curve_inside_canvas" % f, lines and inside, "no curve or points outside")
    if f == "roc":
        p = pts(lines[0])
        ok("roc_curve_runs_from_origin_to_top_right", p[0] == (64.0, 416.0) and p[-1] == (440.0, 40.0), "%r %r" % (p[0], p[-1]))
        band = root.findall(NS + "polygon")
        ok("roc_has_bootstrap_band", len(band) == 1 and len(pts(band[0])) == 202, "no band")
PY

# multiclass: one one-vs-rest curve per class, class names escaped in the legend
"$PY" - <<'PY'
import numpy as np
r = np.random.default_rng(3); n = 150; k = 3
y = r.integers(0, k, n); P = r.dirichlet(np.ones(k), n)
names = ["a<b", "c&d", "e"]
open("m.tsv", "w").write("id\t" + "\t".join(names) + "\n" + "".join("m%d\t" % i + "\t".join(repr(float(v)) for v in P[i]) + "\n" for i in range(n)))
open("m_y.tsv", "w").write("id\tdx\n" + "".join("m%d\t%s\n" % (i, names[y[i]]) for i in range(n)))
PY
if mg-score classify m.tsv m_y.tsv --plot mplots -q >/dev/null; then
"$PY" - <<'PY'
import xml.etree.ElementTree as ET
NS = "{http://www.w3.org/2000/svg}"
for f in ("roc", "pr"):
    try:
        root = ET.parse("mplots/%s.svg" % f).getroot()
        n = len(root.findall(NS + "polyline"))
        texts = "".join(t.text or "" for t in root.iter(NS + "text"))
        good = n == 3 and "a<b" in texts and "c&d" in texts
        print(("PASS" if good else "FAIL") + " multiclass_%s_has_one_curve_per_class%s" % (f, "" if good else ": %d curves" % n))
    except Exception as e:
        print("FAIL multiclass_%s_has_one_curve_per_class: %s" % (f, e))
PY
else fail multiclass_plots_written "mg-score failed"; fi
