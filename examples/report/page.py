#!/usr/bin/python3
"""The demonstration's summary page: one self-contained HTML file.

Each step of the demonstration describes what it made as a *section* (a small
JSON file under DEMO/sections/), and `page.py build` puts every section into
DEMO/index.html: tables, text, SVG plots inline and PNG images as data: URIs,
so the page can be mailed or copied off a cluster as one file.

  page.py section OUT.json --title T [--order N] [--text LINE]... [--pre FILE]...
                  [--table TSV [--caption C]]... [--svg FILE]... [--image PNG [--label L]]...
  page.py build DEMO_DIR [-o DEMO_DIR/index.html]

Tables are TSV files with a header line. Only the Python standard library is used.
"""
import argparse
import base64
import datetime
import glob
import html
import json
import os
import sys


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    if not rows:
        raise SystemExit("page.py: %s: empty table" % path)
    return rows[0], rows[1:]


def cmd_section(argv):
    ap = argparse.ArgumentParser(prog="page.py section")
    ap.add_argument("out")
    ap.add_argument("--title", required=True)
    ap.add_argument("--order", type=int, default=50)
    items = []

    class Add(argparse.Action):
        def __call__(self, parser, ns, value, option=None):
            items.append([option.lstrip("-"), value])

    class Attr(argparse.Action):
        """--caption / --label apply to the item just before them."""
        def __call__(self, parser, ns, value, option=None):
            if not items:
                parser.error("%s must follow a table or image" % option)
            items[-1].append(value)

    for opt in ("--text", "--pre", "--table", "--svg", "--image"):
        ap.add_argument(opt, action=Add, default=None)
    ap.add_argument("--caption", action=Attr)
    ap.add_argument("--label", action=Attr)
    a = ap.parse_args(argv)
    sec = {"title": a.title, "order": a.order, "items": []}
    for it in items:
        kind, value, extra = it[0], it[1], (it[2] if len(it) > 2 else "")
        if kind == "text":
            sec["items"].append({"kind": "text", "text": value})
        elif kind == "pre":
            with open(value, encoding="utf-8") as f:
                sec["items"].append({"kind": "pre", "text": f.read()})
        elif kind == "table":
            head, rows = read_tsv(value)
            sec["items"].append({"kind": "table", "caption": extra, "header": head, "rows": rows})
        elif kind == "svg":
            with open(value, encoding="utf-8") as f:
                svg = f.read()
            if "<svg" not in svg:
                raise SystemExit("page.py: %s: not an SVG file" % value)
            sec["items"].append({"kind": "svg", "name": os.path.basename(value),
                                 "svg": svg[svg.index("<svg"):]})
        elif kind == "image":
            with open(value, "rb") as f:
                data = f.read()
            if not data.startswith(b"\x89PNG\r\n\x1a\n"):
                raise SystemExit("page.py: %s: not a PNG file" % value)
            sec["items"].append({"kind": "image", "label": extra or os.path.basename(value),
                                 "png": base64.b64encode(data).decode("ascii")})
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(sec, f)
    os.replace(tmp, a.out)


STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 0.3em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f3f3f3; } pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 13px; }
.gallery { display: flex; flex-wrap: wrap; gap: 1em; } figure { margin: 0; }
figure img { image-rendering: pixelated; max-width: 256px; min-width: 96px; border: 1px solid #ddd; }
figcaption { font-size: 12px; color: #555; } .svg { display: inline-block; margin: 0.5em 1em 0.5em 0; }
.note { color: #555; }
"""

# After load, the page counts what rendered (tables with cells that take up
# room on the page, images that decoded, inline SVGs) into data- attributes on <body>, so a headless browser
# can check the page in one --dump-dom.
CHECK = """
window.addEventListener('load', function () {
  var imgs = document.querySelectorAll('img'), ok = 0;
  imgs.forEach(function (i) { if (i.complete && i.naturalWidth > 0) ok++; });
  var b = document.body;
  b.setAttribute('data-images', imgs.length); b.setAttribute('data-images-ok', ok);
  var filled = 0;
  document.querySelectorAll('table').forEach(function (t) {
    if (t.querySelectorAll('tbody tr td').length > 0 && t.offsetHeight > 0) filled++; });
  b.setAttribute('data-tables', filled);
  b.setAttribute('data-svgs', document.querySelectorAll('.svg svg').length);
  b.setAttribute('data-rendered', 'yes');
});
"""


def render(sections, title):
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<title>%s</title>" % e(title), "<style>%s</style>" % STYLE,
           "<script>%s</script>" % CHECK, "</head><body>", "<h1>%s</h1>" % e(title),
           '<p class="note">Made by <code>make demo</code> on %s from data the demonstration '
           "simulated itself. Model weights in it are tiny and random unless a section says "
           "otherwise: its numbers show the pipeline working, not a model's skill.</p>"
           % e(datetime.date.today().isoformat())]
    out.append("<ul>" + "".join('<li><a href="#s%d">%s</a></li>' % (i, e(s["title"]))
                                for i, s in enumerate(sections)) + "</ul>")
    for i, s in enumerate(sections):
        out.append('<section id="s%d"><h2>%s</h2>' % (i, e(s["title"])))
        gallery = []
        for it in s["items"]:
            if it["kind"] != "image" and gallery:
                out.append('<div class="gallery">%s</div>' % "".join(gallery))
                gallery = []
            if it["kind"] == "text":
                out.append("<p>%s</p>" % e(it["text"]))
            elif it["kind"] == "pre":
                out.append("<pre>%s</pre>" % e(it["text"]))
            elif it["kind"] == "table":
                cap = "<caption>%s</caption>" % e(it["caption"]) if it["caption"] else ""
                head = "".join("<th>%s</th>" % e(h) for h in it["header"])
                body = "".join("<tr>%s</tr>" % "".join("<td>%s</td>" % e(c) for c in r) for r in it["rows"])
                out.append("<table>%s<thead><tr>%s</tr></thead><tbody>%s</tbody></table>" % (cap, head, body))
            elif it["kind"] == "svg":
                out.append('<div class="svg" title="%s">%s</div>' % (e(it["name"]), it["svg"]))
            elif it["kind"] == "image":
                gallery.append('<figure><img alt="%s" src="data:image/png;base64,%s"><figcaption>%s</figcaption></figure>'
                               % (e(it["label"]), it["png"], e(it["label"])))
        if gallery:
            out.append('<div class="gallery">%s</div>' % "".join(gallery))
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def cmd_build(argv):
    ap = argparse.ArgumentParser(prog="page.py build")
    ap.add_argument("demo")
    ap.add_argument("-o", "--output")
    ap.add_argument("--title", default="mgpipe demonstration")
    a = ap.parse_args(argv)
    files = sorted(glob.glob(os.path.join(a.demo, "sections", "*.json")))
    if not files:
        raise SystemExit("page.py: %s: no sections to put on the page" % a.demo)
    sections = []
    for fn in files:
        with open(fn, encoding="utf-8") as f:
            sections.append(json.load(f))
    sections.sort(key=lambda s: (s.get("order", 50), s["title"]))
    out = a.output or os.path.join(a.demo, "index.html")
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(render(sections, a.title))
    os.replace(tmp, out)
    print(out)


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("section", "build"):
        raise SystemExit(__doc__)
    (cmd_section if sys.argv[1] == "section" else cmd_build)(sys.argv[2:])


if __name__ == "__main__":
    main()
