#!/usr/bin/env bash
# mg-preprocess speed and memory beside its peers, measured in the same run.
# Rows: workload<TAB>mgpipe<TAB>peer<TAB>ratio<TAB>note (medians of 3 runs).
#   1. CT resample: 300x512x512 float32 at 0.7x0.7x1.25 mm to 1.5 mm isotropic
#      (MONAI Spacing grid) vs torch.nn.functional.interpolate(trilinear,
#      align_corners=False) and scipy.ndimage.zoom(order=1), one thread each;
#      mg-preprocess is timed end to end (reading the .nii and writing the
#      stream), the peers on an array already in memory.
#   2. Peak memory of that run against the input volume size.
#   3. 2D: a 2048x2048 16-bit TIFF to a normalised 3x448x448 float tensor
#      (medsiglip-448), 12 images per run: mg-preprocess end to end (process
#      start, TIFF read, resize, stream written to /dev/null) with -@ 1 and
#      -@ 2 vs Pillow in-process doing the same (TIFF decoded by Pillow,
#      converted to float by Pillow, bicubic resize, numpy normalisation to a
#      3x448x448 float32 array); runs interleaved, medians of 5.
#   4. Slides: tiles/s over a 40k x 40k JPEG pyramid, and peak memory for a 10k
#      and a 40k slide (flat as the slide grows).
#   5. Large volumes read a slab at a time: a 1024^3 int16 .nii.gz (2 GiB
#      stored, 12 MB on disk) to 2 mm, and an ordinary 256x256x128 CT (LPS,
#      scl_inter -1024, noise) through --preset merlin: peak RSS and wall time
#      against nibabel reading the same file to float32 (MONAI's reader); with
#      MG_PREPROCESS_BEFORE=/path/to/an/older/mg-preprocess, that build side by
#      side in the same run.
#   MG_BENCH_SECTIONS: any of "ct 2d slide big" [all].
set -u
cd "$(dirname "$0")/.."
export MG_BENCH_SECTIONS=${MG_BENCH_SECTIONS:-ct 2d slide big}
PY=${PY:-/usr/bin/python3}
B=${BENCH_DIR:-${TMPDIR:-/tmp}/mgpipe-bench}/preprocess
mkdir -p "$B"
export B PATH="${MG_BIN:-$PWD/bin}:$PATH"
cc -O2 -o "$B/mkslide" tests/preprocess/mkslide.c $(pkg-config --cflags --libs libtiff-4) -lm || exit 1
"$PY" - <<'EOF'
import os, subprocess, sys, time
import numpy as np

B = os.environ["B"]
REPEAT = 3
SECTIONS = os.environ["MG_BENCH_SECTIONS"].split()
rng = np.random.default_rng(0)

def row(*a):
    print("\t".join(str(x) for x in a)); sys.stdout.flush()

def median(xs):
    return float(np.median(xs))

def run_timed(cmd):
    """Median wall seconds and peak RSS (MiB) of a command over REPEAT runs."""
    ts, rss = [], 0
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", os.path.join(B, "rss")] + cmd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ts.append(time.perf_counter() - t0)
        if p.returncode:
            raise SystemExit("bench: %s failed: %s" % (cmd[0], p.stderr.decode()[-300:]))
        rss = max(rss, int(open(os.path.join(B, "rss")).read().split()[-1]) / 1024)
    return median(ts), rss

# ---- 1/2: CT resampling ----
def section_ct():
    import nibabel as nib
    import torch, torch.nn.functional as F
    from scipy import ndimage
    torch.set_num_threads(1)
    shape = (512, 512, 300)          # x, y, z
    zooms = (0.7, 0.7, 1.25)
    ct = os.path.join(B, "ct.nii")
    vol = (rng.standard_normal(shape, dtype=np.float32) * 300 - 200)
    if not os.path.exists(ct):
        nib.save(nib.Nifti1Image(vol, np.diag(list(zooms) + [1.0])), ct)
    n_out = [int(np.round((n - 1) * s / 1.5)) + 1 for n, s in zip(shape, zooms)]
    mg_t, mg_rss = run_timed(["mg-preprocess", "--no-version", "--spacing", "1.5,1.5,1.5", "-@", "1", "-o", "/dev/null", ct])
    def kernel_secs(threads):
        """The resampling step alone, as mg-preprocess -v reports it."""
        ks = []
        for _ in range(REPEAT):
            e = subprocess.run(["mg-preprocess", "-v", "--no-version", "--spacing", "1.5,1.5,1.5", "-@", str(threads),
                                "-o", "/dev/null", ct], capture_output=True, text=True).stderr
            ks.append(float(e.split("volume operations ")[1].split()[0]))
        return median(ks)
    mg_k1, mg_k2 = kernel_secs(1), kernel_secs(2)
    t = torch.from_numpy(np.ascontiguousarray(vol.transpose(2, 1, 0)))[None, None]
    ts = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        F.interpolate(t, size=tuple(n_out[::-1]), mode="trilinear", align_corners=False)
        ts.append(time.perf_counter() - t0)
    torch_t = median(ts)
    ts = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        ndimage.zoom(vol, [a / b for a, b in zip(n_out, shape)], order=1)
        ts.append(time.perf_counter() - t0)
    scipy_t = median(ts)
    row("CT resample 300x512x512 -> 1.5mm (1 thread)", "%.3f s" % mg_k1, "torch %.3f s" % torch_t,
        "%.2fx" % (torch_t / mg_k1), "resampling step vs F.interpolate trilinear, both on data in memory")
    row("CT resample end to end (1 thread)", "%.2f s" % mg_t, "torch %.3f s" % torch_t,
        "%.2fx" % (torch_t / mg_t), "mg incl. .nii read + stream write; torch kernel only")
    row("CT resample 300x512x512 -> 1.5mm (1 thread)", "%.3f s" % mg_k1, "scipy zoom %.2f s" % scipy_t,
        "%.2fx" % (scipy_t / mg_k1), "scipy.ndimage.zoom(order=1), same output shape; end to end %.2fx" % (scipy_t / mg_t))
    row("CT resample step, mg -@ 2 vs -@ 1", "%.3f s" % mg_k2, "%.3f s" % mg_k1, "%.2fx" % (mg_k1 / mg_k2), "2 cores shared with other jobs")
    in_mb = vol.nbytes / 2**20
    row("CT resample peak RSS", "%.0f MiB" % mg_rss, "input %.0f MiB" % in_mb, "%.2fx input" % (mg_rss / in_mb),
        "target <= 2.5x the input volume")

if "ct" in SECTIONS:
    section_ct()

# ---- 3: 2D ----
def section_2d():
    import tifffile
    from PIL import Image
    sys.path.insert(0, "examples")
    import mgt
    xr = os.path.join(B, "xray2048.tif")
    if not os.path.exists(xr):
        y, x = np.mgrid[0:2048, 0:2048] / 2048.0
        v = 40000 + 20000 * np.sin(x * 9) * np.cos(y * 7) + np.random.default_rng(1).normal(0, 800, (2048, 2048))
        tifffile.imwrite(xr, np.clip(v, 0, 65535).astype(np.uint16))
    N, REP = 12, 5
    files = [xr] * N
    def mg_cmd(threads, out="/dev/null", fs=files):
        return ["mg-preprocess", "--no-version", "-@", str(threads), "--preset", "medsiglip-448", "-o", out] + fs
    def pil_one(f):
        # Pillow decodes the 16-bit TIFF and converts it to float itself (its
        # fastest route; np.asarray(...)/65535 first is ~2x slower)
        with Image.open(f) as im:
            r = np.asarray(im.convert("F").resize((448, 448), Image.BICUBIC)) * np.float32(1 / 65535)
        return np.repeat(((r - np.float32(0.5)) / np.float32(0.5))[None], 3, axis=0)
    def wall(fn):
        t0 = time.perf_counter(); fn(); return time.perf_counter() - t0
    def run_mg(threads):
        subprocess.run(mg_cmd(threads), check=True, stdout=subprocess.DEVNULL)
    # same output: mg's tensor against Pillow's array
    o = os.path.join(B, "xray.mgt")
    subprocess.run(mg_cmd(1, o, [xr]), check=True)
    got = next(iter(mgt.read(open(o, "rb"))[1][0][1].values()))
    diff = float(np.abs(got - pil_one(xr)).max())
    t1, t2, tp = [], [], []
    for _ in range(REP):                     # interleaved, so load changes hit all three
        t1.append(wall(lambda: run_mg(1)))
        t2.append(wall(lambda: run_mg(2)))
        tp.append(wall(lambda: [pil_one(f) for f in files]))
    m1, m2, mp = median(t1), median(t2), median(tp)
    note = "%d images per run, medians of %d interleaved runs; mg incl. process start, TIFF read, stream write; max |mg - Pillow| %.1e" % (N, REP, diff)
    row("2D 2048^2 16-bit TIFF -> 3x448^2 normalised", "%.1f img/s" % (N / m1), "Pillow %.1f img/s" % (N / mp),
        "%.2fx" % (mp / m1), note)
    row("2D 2048^2 16-bit TIFF -> 3x448^2, mg -@ 2", "%.1f img/s" % (N / m2), "Pillow %.1f img/s" % (N / mp),
        "%.2fx" % (mp / m2), "2 threads split output rows (same bytes); Pillow single-threaded; 2 cores shared with other jobs")

if "2d" in SECTIONS:
    section_2d()

# ---- 4: slides ----
def section_slide():
    global REPEAT
    def slide(side):
        p = os.path.join(B, "slide%d.tif" % side)
        if not os.path.exists(p):
            subprocess.run([os.path.join(B, "mkslide"), p, "reduced", "jpeg", str(side), str(side), "256", "0.25"], check=True)
        return p
    s40, s10 = slide(40000), slide(10000)
    args = ["mg-preprocess", "--no-version", "--slide", "--tile", "224", "--mpp", "0.5", "--rescale", "1", "-o", "/dev/null"]
    cnt = subprocess.run(["mg-preprocess", "--no-version", "--slide", "--tile", "224", "--mpp", "0.5", "-v", "-o", "/dev/null", s40],
                         capture_output=True, text=True).stderr
    ntiles = int([l for l in cnt.splitlines() if l.endswith(" tiles")][-1].split()[-2])
    REPEAT = 1
    t40, rss40 = run_timed(args + [s40])
    t10, rss10 = run_timed(args + [s10])
    row("slide 40k^2 JPEG pyramid, 224px tiles at 0.5 mpp", "%.0f tiles/s" % (ntiles / t40), "-", "-",
        "%d tissue tiles of level 1 (20k^2); no slide reader peer installed (openslide absent)" % ntiles)
    row("slide peak RSS 10k^2 vs 40k^2", "%.0f MiB" % rss40, "%.0f MiB" % rss10, "%.2fx" % (rss40 / rss10),
        "memory flat as the slide grows 16x (single run each)")

if "slide" in SECTIONS:
    section_slide()

# ---- 5: large volumes, slab reading ----
def section_big():
    sys.path.insert(0, "tests/preprocess")
    import bigvol
    big, ct = os.path.join(B, "big1024.nii.gz"), os.path.join(B, "ct256.nii.gz")
    if not os.path.exists(big):
        bigvol.write(big + ".tmp", 1024, 1024, 1024)
        os.rename(big + ".tmp", big)
    if not os.path.exists(ct):
        bigvol.write(ct + ".tmp", 256, 256, 128, zooms=(0.8, 0.8, 2.5), axes=np.diag([-1, -1, 1]),
                     slope=1.0, inter=-1024.0, noise=20)
        os.rename(ct + ".tmp", ct)
    nib_cmd = ["/usr/bin/python3", "-c", "import sys, numpy as np, nibabel as nib; "
               "nib.load(sys.argv[1]).get_fdata(dtype=np.float32)"]
    before = os.environ.get("MG_PREPROCESS_BEFORE")
    def run_interleaved(cmds, rep):
        """Per command: median wall s, median CPU s (user+sys), peak RSS MiB;
        the commands take turns, so load changes hit them alike."""
        res = [([], [], 0) for _ in cmds]
        for _ in range(rep):
            for i, cmd in enumerate(cmds):
                t0 = time.perf_counter()
                p = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", os.path.join(B, "rss")] + cmd,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                wall = time.perf_counter() - t0
                if p.returncode:
                    raise SystemExit("bench: %s failed: %s" % (cmd[0], p.stderr.decode()[-300:]))
                m, u, sy = open(os.path.join(B, "rss")).read().split()[-3:]
                ts, cs, r = res[i]
                res[i] = (ts + [wall], cs + [float(u) + float(sy)], max(r, int(m) / 1024))
        return [(median(ts), median(cs), r) for ts, cs, r in res]
    cases = [(big, ["--spacing", "2,2,2"], 3, "1024^3 int16 .nii.gz -> 2 mm", 2048),
             (ct, ["--preset", "merlin"], 5, "256x256x128 CT .nii.gz, --preset merlin", 16)]
    for path, args, rep, label, stored in cases:
        load = open("/proc/loadavg").read().split()[0]
        cmds = [["mg-preprocess", "--no-version"] + args + ["-o", "/dev/null", path], nib_cmd + [path]]
        if before:
            cmds.append([before, "--no-version"] + args + ["-o", "/dev/null", path])
        res = run_interleaved(cmds, rep)
        (mg_t, mg_c, mg_rss), (nb_t, nb_c, nb_rss) = res[0], res[1]
        note = ("stored %d MiB; nibabel only reads (get_fdata float32), mg reads, resamples, writes; "
                "medians of %d interleaved runs, load %s at start" % (stored, rep, load))
        row(label + " peak RSS", "%.0f MiB" % mg_rss, "nibabel %.0f MiB" % nb_rss, "%.2fx" % (nb_rss / mg_rss), note)
        row(label + " wall (CPU)", "%.2f s (%.2f s)" % (mg_t, mg_c), "nibabel %.2f s (%.2f s)" % (nb_t, nb_c),
            "%.2fx" % (nb_t / mg_t), note)
        if before:
            b_t, b_c, b_rss = res[2]
            row(label + " slab reading vs whole volume", "%.0f MiB %.2f s (%.2f s CPU)" % (mg_rss, mg_t, mg_c),
                "before %.0f MiB %.2f s (%.2f s CPU)" % (b_rss, b_t, b_c),
                "%.2fx RSS %.2fx wall" % (b_rss / mg_rss, b_t / mg_t), "same output; " + note)

if "big" in SECTIONS:
    section_big()
EOF
