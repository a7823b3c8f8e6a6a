/* mg-preprocess: medical images (NIfTI, TIFF, slides, PNG, JPEG) to model-ready
 * tensor records. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mg_cli.h"
#include "mg_image.h"
#include "mg_image_prep.h"
#include "mg_nifti.h"
#include "mg_preset.h"
#include "mg_resize.h"
#include "mg_slide.h"
#include "mg_stream.h"
#include "mg_tiff.h"
#include "mg_volume_prep.h"

#define PROG "mg-preprocess"

static const char *USAGE =
    "Usage: mg-preprocess [options] FILE...\n"
    "Turn medical images into model-ready tensor records (see mgt(5)). The format of\n"
    "each FILE is sniffed from its first bytes: NIfTI-1/2 (.nii, .nii.gz), TIFF (pages\n"
    "or, with --slide, a pyramidal whole-slide image), PNG, JPEG.\n"
    "\n"
    "General:\n"
    "  -p, --preset NAME        medsiglip-448, medgemma-896, rad-dino (2D); ct-clip,\n"
    "                           m3d, merlin, medgemma-ct (3D); options given after it\n"
    "                           or before it override its settings\n"
    "      --model DIR          2D settings from DIR/preprocessor_config.json\n"
    "      --id ID              record id [file name without extension]; one FILE only\n"
    "      --modality NAME      metadata modality [preset's, CT for 3D presets, else\n"
    "                           volume / image / WSI]\n"
    "      --page N             TIFF: only page N (0-based) [every page]\n"
    "2D images (PNG, JPEG, TIFF pages, and volume slices):\n"
    "      --pad-square         centred zero padding to a square\n"
    "  -s, --size W[xH]         resize to W x H (H = W when omitted)\n"
    "      --shortest-edge N    resize so the shorter side is N, keeping the aspect\n"
    "      --center-crop W[xH]  centre crop after resizing\n"
    "  -r, --resample FILTER    bicubic, bilinear, lanczos, box, hamming, nearest\n"
    "                           [bicubic]; Pillow's arithmetic\n"
    "      --rescale F          multiply 8-bit values by F [1/255]; 16-bit images\n"
    "                           are always divided by 65535\n"
    "      --mean M[,M,M]       subtract per channel after rescaling [no normalisation]\n"
    "      --std S[,S,S]        then divide per channel [1]\n"
    "      --channels 1|3       grey to RGB (3) or keep grey (1) [as read]\n"
    "Volumes (NIfTI):\n"
    "      --clip LO,HI         clip raw values (HU) before anything else\n"
    "      --ras                reorient to RAS by flips and axis swaps (no interpolation)\n"
    "      --spacing X,Y,Z      resample to this voxel size in mm (trilinear)\n"
    "      --spacing-grid G     monai: n=round((n-1)*s/t)+1, first voxel kept [monai];\n"
    "                           scale: n=int(n*s/t) on torch interpolate's grid\n"
    "      --labels             nearest-neighbour resampling (label maps)\n"
    "  -w, --window W           clip to a window and scale: lung, mediastinum,\n"
    "                           abdomen, bone, brain, or L,W in HU\n"
    "      --range LO,HI        output range of --window [0,1]\n"
    "      --minmax             scale the volume's min..max to 0..1\n"
    "      --crop-foreground[=T] crop to the box of voxels > T [0]\n"
    "      --crop-pad X,Y,Z     centre crop / symmetric pad to this many voxels\n"
    "      --pad-value V        value of padded voxels [0]\n"
    "      --resize X,Y,Z       resize to this many voxels (torch trilinear,\n"
    "                           align_corners=False)\n"
    "      --frames             4D volumes: one record per frame [one [C,D,H,W] record]\n"
    "      --slices N           emit at most N evenly spaced axial slices as 2D images\n"
    "                           (then processed by the 2D options) instead of a volume\n"
    "      --slice-windows W;W;W windows of the slice channels [medgemma:\n"
    "                           -1024..1024, -135..215, 0..80 HU]; one W gives grey\n"
    "Slides (tiled pyramidal TIFF):\n"
    "      --slide              read the TIFF as a whole-slide image and emit tiles\n"
    "      --mpp X              use the level nearest X microns per pixel [level 0]\n"
    "      --tile N             tile side in level pixels [224]\n"
    "      --stride N           step between tiles [tile]\n"
    "      --tissue METHOD      saturation, otsu or none [saturation]\n"
    "      --sat-threshold T    saturation (0-255) above which a pixel is tissue [8]\n"
    "      --min-tissue F       keep tiles with at least this tissue fraction [0.25]\n"
    "      --tile-ids           give each tile its own id, ID_X_Y (X, Y level-0\n"
    "                           pixels), the slide's id in metadata slide [all\n"
    "                           tiles share the slide's id]\n"
    "Output and common options:\n"
    "  -o, --output FILE        output stream [stdout]\n"
    "  -@, --threads N          threads for volume and image resampling (same\n"
    "                           output for any N) [1]\n"
    "  -z, --compress[=L]       zstd-compress tensor data [level 3]\n"
    "  -v, --verbose  -q, --quiet  -h, --help  --version  --no-version\n";

enum {
    OPT_MODEL = MG_OPT_FIRST_OWN, OPT_ID, OPT_MODALITY, OPT_PAGE, OPT_PAD_SQUARE,
    OPT_SHORTEST, OPT_CROP, OPT_RESCALE, OPT_MEAN, OPT_STD, OPT_CHANNELS, OPT_CLIP,
    OPT_RAS, OPT_SPACING, OPT_GRID, OPT_LABELS, OPT_RANGE, OPT_MINMAX, OPT_CROP_FG,
    OPT_CROP_PAD, OPT_PAD_VALUE, OPT_RESIZE, OPT_SLICES, OPT_SLICE_WIN, OPT_SLIDE,
    OPT_MPP, OPT_TILE, OPT_STRIDE, OPT_TISSUE, OPT_SAT, OPT_MIN_TISSUE, OPT_FRAMES,
    OPT_TILE_IDS
};

static const struct option OWN[] = {
    {"preset", required_argument, NULL, 'p'}, {"model", required_argument, NULL, OPT_MODEL},
    {"id", required_argument, NULL, OPT_ID}, {"modality", required_argument, NULL, OPT_MODALITY},
    {"page", required_argument, NULL, OPT_PAGE},
    {"pad-square", no_argument, NULL, OPT_PAD_SQUARE}, {"size", required_argument, NULL, 's'},
    {"shortest-edge", required_argument, NULL, OPT_SHORTEST},
    {"center-crop", required_argument, NULL, OPT_CROP}, {"resample", required_argument, NULL, 'r'},
    {"rescale", required_argument, NULL, OPT_RESCALE}, {"mean", required_argument, NULL, OPT_MEAN},
    {"std", required_argument, NULL, OPT_STD}, {"channels", required_argument, NULL, OPT_CHANNELS},
    {"clip", required_argument, NULL, OPT_CLIP}, {"ras", no_argument, NULL, OPT_RAS},
    {"spacing", required_argument, NULL, OPT_SPACING},
    {"spacing-grid", required_argument, NULL, OPT_GRID}, {"labels", no_argument, NULL, OPT_LABELS},
    {"window", required_argument, NULL, 'w'}, {"range", required_argument, NULL, OPT_RANGE},
    {"minmax", no_argument, NULL, OPT_MINMAX},
    {"crop-foreground", optional_argument, NULL, OPT_CROP_FG},
    {"crop-pad", required_argument, NULL, OPT_CROP_PAD},
    {"pad-value", required_argument, NULL, OPT_PAD_VALUE},
    {"resize", required_argument, NULL, OPT_RESIZE}, {"slices", required_argument, NULL, OPT_SLICES},
    {"frames", no_argument, NULL, OPT_FRAMES},
    {"slice-windows", required_argument, NULL, OPT_SLICE_WIN},
    {"slide", no_argument, NULL, OPT_SLIDE}, {"mpp", required_argument, NULL, OPT_MPP},
    {"tile", required_argument, NULL, OPT_TILE}, {"stride", required_argument, NULL, OPT_STRIDE},
    {"tissue", required_argument, NULL, OPT_TISSUE},
    {"sat-threshold", required_argument, NULL, OPT_SAT},
    {"min-tissue", required_argument, NULL, OPT_MIN_TISSUE},
    {"tile-ids", no_argument, NULL, OPT_TILE_IDS},
    {NULL, 0, NULL, 0}
};

typedef struct {
    mg_prep_opts prep;              /* image/volume preparation, slicing, preset */
    mg_slide_params slide;
    int slide_mode;
    int tile_ids;                   /* each tile its own id (tile-level labels) */
    int frames;                     /* 4D: one record per frame */
    const char *model, *id, *modality;
    int page;                       /* -1: all */
    const char *opt2d, *opt3d, *optslide;   /* first explicit option of each kind */
} opts;

/* ------------------------------------------------------------- parsing */

static int parse_list(const char *s, double *v, int n)
{
    /* exactly n comma-separated finite numbers */
    char buf[256];
    if (strlen(s) >= sizeof buf) return -1;
    strcpy(buf, s);
    char *save = NULL, *tok = strtok_r(buf, ",", &save);
    int k = 0;
    for (; tok && k < n; k++, tok = strtok_r(NULL, ",", &save))
        if (mg_parse_double(tok, &v[k]) < 0) return -1;
    return k == n && !tok ? 0 : -1;
}

static int parse_wh(const char *s, int *w, int *h)
{
    long a, b;
    const char *x = strchr(s, 'x');
    if (!x) {
        if (mg_parse_long(s, 1, 65536, &a) < 0) return -1;
        *w = *h = (int)a;
        return 0;
    }
    char buf[64];
    if ((size_t)(x - s) >= sizeof buf) return -1;
    memcpy(buf, s, (size_t)(x - s));
    buf[x - s] = 0;
    if (mg_parse_long(buf, 1, 65536, &a) < 0 || mg_parse_long(x + 1, 1, 65536, &b) < 0) return -1;
    *w = (int)a; *h = (int)b;
    return 0;
}

static int parse_xyz(const char *s, int64_t out[3])
{
    double v[3];
    if (parse_list(s, v, 3) < 0) return -1;
    for (int i = 0; i < 3; i++) {
        if (v[i] < 1 || v[i] > 65536 || v[i] != floor(v[i])) return -1;
        out[i] = (int64_t)v[i];
    }
    return 0;
}

static int parse_channels3(const char *s, double out[3])
{
    if (parse_list(s, out, 1) == 0) { out[1] = out[2] = out[0]; return 0; }
    return parse_list(s, out, 3);
}

static int parse_windows(const char *s, opts *o)
{
    if (!strcmp(s, "medgemma")) { mg_preset_medgemma_windows(&o->prep); return 0; }
    char buf[256];
    if (strlen(s) >= sizeof buf) return -1;
    strcpy(buf, s);
    char *save = NULL;
    int k = 0;
    for (char *tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        if (k == 3 || mg_window_parse(tok, &o->prep.win[k][0], &o->prep.win[k][1]) < 0) return -1;
        k++;
    }
    if (k != 1 && k != 3) return -1;
    o->prep.nwin = k;
    return 0;
}

/* Handle one own option (second pass). Returns 0, or -1 after a usage error. */
static int handle_opt(mg_cli *cli, opts *o, int c, const char *arg, const char *name)
{
    long l;
    double d, v[3];
    mg_image_prep *ip = &o->prep.img;
    mg_volume_prep *vp = &o->prep.vol;
    int kind = 0;                   /* 2: 2D option, 3: volume option, 4: slide option */
    switch (c) {
    case 'p': case OPT_MODEL: return 0;           /* handled in the first pass */
    case OPT_ID: o->id = arg; return 0;
    case OPT_MODALITY: o->modality = arg; return 0;
    case OPT_PAGE:
        if (mg_parse_long(arg, 0, 1000000, &l) < 0) goto bad;
        o->page = (int)l;
        return 0;
    case OPT_PAD_SQUARE: ip->pad_square = 1; kind = 2; break;
    case 's':
        if (parse_wh(arg, &ip->size_w, &ip->size_h) < 0) goto bad;
        ip->shortest_edge = 0;
        kind = 2;
        break;
    case OPT_SHORTEST:
        if (mg_parse_long(arg, 1, 65536, &l) < 0) goto bad;
        ip->shortest_edge = (int)l;
        ip->size_w = ip->size_h = 0;
        kind = 2;
        break;
    case OPT_CROP: if (parse_wh(arg, &ip->crop_w, &ip->crop_h) < 0) goto bad; kind = 2; break;
    case 'r':
        if ((ip->filter = mg_filter_from_name(arg)) < 0) goto bad;
        kind = 2;
        break;
    case OPT_RESCALE:
        if (mg_parse_double(arg, &d) < 0 || !(d > 0)) goto bad;
        ip->rescale = d;
        kind = 2;
        break;
    case OPT_MEAN:
        if (parse_channels3(arg, ip->mean) < 0) goto bad;
        if (!ip->n_mean) for (int i = 0; i < 3; i++) ip->std[i] = 1;
        ip->n_mean = 3;
        kind = 2;
        break;
    case OPT_STD:
        if (parse_channels3(arg, v) < 0 || !v[0] || !v[1] || !v[2]) goto bad;
        memcpy(ip->std, v, sizeof v);
        ip->n_mean = 3;
        kind = 2;
        break;
    case OPT_CHANNELS:
        if (mg_parse_long(arg, 1, 3, &l) < 0 || l == 2) goto bad;
        ip->channels = (int)l;
        kind = 2;
        break;
    case OPT_CLIP:
        if (parse_list(arg, v, 2) < 0 || !(v[0] < v[1])) goto bad;
        vp->clip = 1; vp->clip_lo = v[0]; vp->clip_hi = v[1];
        kind = 3;
        break;
    case OPT_RAS: vp->ras = 1; kind = 3; break;
    case OPT_SPACING:
        if (parse_list(arg, v, 3) < 0 || !(v[0] > 0 && v[1] > 0 && v[2] > 0)) goto bad;
        memcpy(vp->spacing, v, sizeof v);
        vp->spacing_set = 1;
        kind = 3;
        break;
    case OPT_GRID:
        if (!strcmp(arg, "monai")) vp->grid = MG_GRID_MONAI;
        else if (!strcmp(arg, "scale")) vp->grid = MG_GRID_SCALE;
        else goto bad;
        kind = 3;
        break;
    case OPT_LABELS: vp->labels = 1; kind = 3; break;
    case 'w':
        if (mg_window_parse(arg, &vp->win_lo, &vp->win_hi) < 0) goto bad;
        vp->window = 1;
        kind = 3;
        break;
    case OPT_RANGE:
        if (parse_list(arg, v, 2) < 0 || v[0] == v[1]) goto bad;
        vp->out_lo = v[0]; vp->out_hi = v[1];
        kind = 3;
        break;
    case OPT_MINMAX: vp->minmax = 1; kind = 3; break;
    case OPT_CROP_FG:
        vp->crop_fg = 1;
        vp->fg_threshold = 0;
        if (arg && mg_parse_double(arg, &vp->fg_threshold) < 0) goto bad;
        kind = 3;
        break;
    case OPT_CROP_PAD: if (parse_xyz(arg, vp->crop_pad) < 0) goto bad; kind = 3; break;
    case OPT_PAD_VALUE: if (mg_parse_double(arg, &vp->pad_value) < 0) goto bad; kind = 3; break;
    case OPT_RESIZE: if (parse_xyz(arg, vp->resize) < 0) goto bad; kind = 3; break;
    case OPT_SLICES:
        if (mg_parse_long(arg, 1, 100000, &l) < 0) goto bad;
        o->prep.slices = l;
        if (!o->prep.nwin) mg_preset_medgemma_windows(&o->prep);
        kind = 3;
        break;
    case OPT_SLICE_WIN: if (parse_windows(arg, o) < 0) goto bad; kind = 3; break;
    case OPT_FRAMES: o->frames = 1; kind = 3; break;
    case OPT_SLIDE: o->slide_mode = 1; kind = 4; break;
    case OPT_MPP:
        if (mg_parse_double(arg, &d) < 0 || !(d > 0)) goto bad;
        o->slide.mpp = d;
        kind = 4;
        break;
    case OPT_TILE:
        if (mg_parse_long(arg, 1, 16384, &l) < 0) goto bad;
        if (o->slide.stride == o->slide.tile) o->slide.stride = (int)l;
        o->slide.tile = (int)l;
        kind = 4;
        break;
    case OPT_STRIDE:
        if (mg_parse_long(arg, 1, 1 << 20, &l) < 0) goto bad;
        o->slide.stride = (int)l;
        kind = 4;
        break;
    case OPT_TISSUE:
        if (!strcmp(arg, "saturation")) o->slide.tissue = MG_TISSUE_SATURATION;
        else if (!strcmp(arg, "otsu")) o->slide.tissue = MG_TISSUE_OTSU;
        else if (!strcmp(arg, "none")) o->slide.tissue = MG_TISSUE_NONE;
        else goto bad;
        kind = 4;
        break;
    case OPT_TILE_IDS:
        o->tile_ids = 1;
        kind = 4;
        break;
    case OPT_SAT:
        if (mg_parse_long(arg, 0, 255, &l) < 0) goto bad;
        o->slide.sat_threshold = (int)l;
        kind = 4;
        break;
    case OPT_MIN_TISSUE:
        if (mg_parse_double(arg, &d) < 0 || d < 0 || d > 1) goto bad;
        o->slide.min_tissue = d;
        kind = 4;
        break;
    default:
        mg_usage_error(cli, "unexpected option");
        return -1;
    }
    if (kind == 2 && !o->opt2d) o->opt2d = name;
    if (kind == 3 && !o->opt3d) o->opt3d = name;
    if (kind == 4 && !o->optslide) o->optslide = name;
    return 0;
bad:
    mg_usage_error(cli, "invalid value '%s' for --%s", arg ? arg : "", name);
    return -1;
}

static const char *opt_name(int c)
{
    for (const struct option *p = OWN; p->name; p++)
        if (p->val == c) return p->name;
    return "?";
}

/* ------------------------------------------------------------- output */

typedef struct {
    mg_cli *cli;
    opts *o;
    mg_writer *w;
    mg_record *rec;
    const char *path;
    char id[512];
    int reported;                   /* the error was already printed */
} run_ctx;

static const char *out_name(const mg_cli *cli)
{
    return strcmp(cli->output, "-") ? cli->output : "(stdout)";
}

static void file_id(const char *path, char *id, size_t n)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(id, n, "%s", b);
    static const char *ext[] = { ".nii.gz", ".nii", ".tiff", ".tif", ".png", ".jpeg", ".jpg",
                                 ".svs", ".gz" };
    size_t L = strlen(id);
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
        size_t e = strlen(ext[i]);
        if (L > e && !strcasecmp(id + L - e, ext[i])) { id[L - e] = 0; break; }
    }
}

static int write_record(run_ctx *x, char *err, size_t errlen)
{
    if (mg_writer_write(x->w, x->rec) < 0) {
        /* a write error belongs to the output, not to the input file */
        mg_error(x->cli, out_name(x->cli), "%s", mg_writer_error(x->w));
        x->reported = 1;
        snprintf(err, errlen, "write failed");
        return -1;
    }
    return 0;
}

static int meta_common(run_ctx *x, const char *modality)
{
    int rc = mg_record_set_meta(x->rec, "id", x->id);
    rc |= mg_record_set_meta(x->rec, "modality", x->o->modality ? x->o->modality : modality);
    if (x->o->prep.preset) rc |= mg_record_set_meta(x->rec, "preset", x->o->prep.preset);
    return rc;
}

/* 2D pipeline on im and one "image" record. extra: caller's metadata already set. */
static int emit_image(run_ctx *x, const mg_image *im, char *err, size_t errlen)
{
    float *buf = NULL;
    int c, h, w;
    if (mg_image_prep_run(&x->o->prep.img, im, &buf, &c, &h, &w, err, errlen) < 0) return -1;
    int64_t shape[3] = { c, h, w };
    int rc = -1;
    if (!mg_record_add_tensor_ref(x->rec, "image", MG_F32, 3, shape, buf)) {
        snprintf(err, errlen, "cannot add tensor");
        goto out;
    }
    if (mg_record_set_metaf(x->rec, "original_shape", "%d,%d,%d", im->c, im->h, im->w) < 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = write_record(x, err, errlen);
out:
    mg_record_clear(x->rec);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------- inputs */

static int do_2d_file(run_ctx *x, mg_format fmt, char *err, size_t errlen)
{
    mg_image *im = fmt == MG_FMT_PNG ? mg_image_read_png(x->path, err, errlen)
                                     : mg_image_read_jpeg(x->path, err, errlen);
    if (!im) return -1;
    int rc = -1;
    if (meta_common(x, "image") < 0) { snprintf(err, errlen, "out of memory"); goto out; }
    rc = emit_image(x, im, err, errlen);
out:
    mg_image_free(im);
    return rc;
}

static int do_tiff_pages(run_ctx *x, char *err, size_t errlen)
{
    mg_tiff *t = mg_tiff_open(x->path, err, errlen);
    if (!t) return -1;
    int rc = -1, n = mg_tiff_npages(t);
    int first = x->o->page >= 0 ? x->o->page : 0, last = x->o->page >= 0 ? x->o->page : n - 1;
    if (first >= n) { snprintf(err, errlen, "no page %d (the file has %d)", first, n); goto out; }
    for (int p = first; p <= last; p++) {
        mg_tiff_dir d;
        if (mg_tiff_select(t, p, 0, &d, err, errlen) < 0) goto out;
        mg_image *im = mg_tiff_read_dir(t, err, errlen);
        if (!im) goto out;
        int r = meta_common(x, "image");
        if (n > 1) r |= mg_record_set_metaf(x->rec, "page", "%d", p);
        if (r < 0) { mg_image_free(im); snprintf(err, errlen, "out of memory"); goto out; }
        r = emit_image(x, im, err, errlen);
        mg_image_free(im);
        if (r < 0) goto out;
    }
    rc = 0;
out:
    mg_tiff_close(t);
    return rc;
}

static int tile_cb(void *ctx, const mg_image *tile, int64_t x0, int64_t y0, int level, double mpp)
{
    run_ctx *x = ctx;
    char e[256];
    int r = meta_common(x, "WSI");
    r |= mg_record_set_metaf(x->rec, "x", "%lld", (long long)x0);
    r |= mg_record_set_metaf(x->rec, "y", "%lld", (long long)y0);
    r |= mg_record_set_metaf(x->rec, "level", "%d", level);
    if (x->o->tile_ids) {
        /* replaces the id meta_common set; the slide keeps its own key */
        r |= mg_record_set_meta(x->rec, "slide", x->id);
        r |= mg_record_set_metaf(x->rec, "id", "%s_%lld_%lld", x->id, (long long)x0, (long long)y0);
    }
    if (mpp > 0) r |= mg_record_set_metaf(x->rec, "mpp", "%.6g", mpp);
    if (r < 0) { mg_error(x->cli, x->path, "out of memory"); x->reported = 1; return -1; }
    if (emit_image(x, tile, e, sizeof e) < 0) {
        if (!x->reported) mg_error(x->cli, x->path, "%s", e);
        x->reported = 1;
        return -1;
    }
    return 0;
}

static int do_slide(run_ctx *x, char *err, size_t errlen)
{
    mg_slide *s = mg_slide_open(x->path, err, errlen);
    if (!s) return -1;
    const mg_slide_level *l = mg_slide_level_info(s, mg_slide_best_level(s, x->o->slide.mpp));
    mg_info(x->cli, "%s: %d levels; using %lldx%lld at %.4g mpp", x->path, mg_slide_nlevels(s),
            (long long)l->w, (long long)l->h, l->mpp);
    int64_t n = mg_slide_tiles(s, &x->o->slide, tile_cb, x, err, errlen);
    mg_slide_close(s);
    if (n < 0) return -1;
    mg_info(x->cli, "%s: %lld tiles", x->path, (long long)n);
    return 0;
}

static int set_volume_meta(run_ctx *x, const mg_volume *v, const int64_t orig[4])
{
    double sp[3];
    char codes[4];
    mg_volume_spacing(v, sp);
    mg_affine_axcodes(v->affine, codes);
    int r = mg_record_set_metaf(x->rec, "spacing", "%.6g,%.6g,%.6g", sp[0], sp[1], sp[2]);
    char aff[16 * 26], *p = aff;
    for (int i = 0; i < 16; i++)
        p += snprintf(p, sizeof aff - (size_t)(p - aff), "%s%.10g", i ? "," : "", v->affine[i]);
    r |= mg_record_set_meta(x->rec, "affine", aff);
    r |= mg_record_set_meta(x->rec, "orientation", codes);
    if (orig[3] > 1)
        r |= mg_record_set_metaf(x->rec, "original_shape", "%lld,%lld,%lld,%lld", (long long)orig[3],
                                 (long long)orig[2], (long long)orig[1], (long long)orig[0]);
    else
        r |= mg_record_set_metaf(x->rec, "original_shape", "%lld,%lld,%lld", (long long)orig[2],
                                 (long long)orig[1], (long long)orig[0]);
    const mg_volume_prep *vp = &x->o->prep.vol;
    if (vp->window)
        r |= mg_record_set_metaf(x->rec, "window", "%.6g,%.6g", 0.5 * (vp->win_lo + vp->win_hi),
                                 vp->win_hi - vp->win_lo);
    return r < 0 ? -1 : 0;
}

static int do_volume(run_ctx *x, char *err, size_t errlen)
{
    mg_nifti_info info;
    mg_nifti_file *f = mg_nifti_open(x->path, &info, err, errlen);
    if (!f) return -1;
    if (info.qs_diff > MG_NIFTI_QS_TOL)
        mg_warn(x->cli, x->path, "sform and qform disagree (max difference %.3g mm); using the sform",
                info.qs_diff);
    const mg_volume_src *src = mg_nifti_src(f);
    int64_t orig[4] = { src->nx, src->ny, src->nz, src->nc };
    int rc = -1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* read while processing: the volume is never held whole as float when
     * it is resampled */
    mg_volume *v = mg_volume_prep_src(&x->o->prep.vol, src, x->cli->pool, err, errlen);
    mg_nifti_close(f);
    if (!v) return -1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    mg_info(x->cli, "%s: volume operations %.3f s, %lldx%lldx%lld voxels out", x->path,
            (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec),
            (long long)v->nx, (long long)v->ny, (long long)v->nz);
    const char *modality = x->o->prep.vol.window || x->o->prep.vol.clip || x->o->prep.slices ? "CT" : "volume";
    if (x->o->prep.kind == MG_PRESET_3D) modality = "CT";
    if (!x->o->prep.slices) {
        if (meta_common(x, modality) < 0 || set_volume_meta(x, v, orig) < 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        int64_t shape[4] = { v->nc, v->nz, v->ny, v->nx };
        int split = x->o->frames && v->nc > 1;
        size_t plane = (size_t)(v->nx * v->ny * v->nz);
        for (int64_t f = 0; f < (split ? v->nc : 1); f++) {
            if (f > 0 && (meta_common(x, modality) < 0 || set_volume_meta(x, v, orig) < 0)) {
                snprintf(err, errlen, "out of memory");
                goto out;
            }
            int nd = v->nc > 1 && !split ? 4 : 3;
            if ((split && mg_record_set_metaf(x->rec, "frame", "%lld", (long long)f) < 0) ||
                !mg_record_add_tensor_ref(x->rec, "volume", MG_F32, nd, nd == 4 ? shape : shape + 1,
                                          v->data + (size_t)f * plane)) {
                snprintf(err, errlen, "cannot add tensor");
                goto out;
            }
            int r = write_record(x, err, errlen);
            mg_record_clear(x->rec);
            if (r < 0) goto out;
        }
    } else {
        int64_t *idx = malloc((size_t)x->o->prep.slices * sizeof *idx);
        if (!idx) { snprintf(err, errlen, "out of memory"); goto out; }
        int64_t ns = mg_slice_indices(v->nz, x->o->prep.slices, idx);
        for (int64_t k = 0; k < ns; k++) {
            mg_image *im = mg_volume_slice_image(v, idx[k], x->o->prep.nwin, x->o->prep.win, x->o->prep.vol.ras,
                                                 err, errlen);
            if (!im) { free(idx); goto out; }
            int r = meta_common(x, modality) | set_volume_meta(x, v, orig);
            r |= mg_record_set_metaf(x->rec, "slice", "%lld", (long long)idx[k]);
            r |= mg_record_set_metaf(x->rec, "n_slices", "%lld", (long long)ns);
            if (r < 0) { mg_image_free(im); free(idx); snprintf(err, errlen, "out of memory"); goto out; }
            r = emit_image(x, im, err, errlen);
            mg_image_free(im);
            if (r < 0) { free(idx); goto out; }
        }
        free(idx);
    }
    rc = 0;
out:
    mg_volume_free(v);
    return rc;
}

/* Returns 0, or 1 after reporting an error. */
static int do_file(run_ctx *x)
{
    char err[512] = "";
    mg_format fmt;
    opts *o = x->o;
    if (mg_format_sniff_file(x->path, &fmt, err, sizeof err) < 0) goto fail;
    const char *bad = NULL, *why = NULL;
    if (fmt == MG_FMT_NIFTI) {
        if (o->optslide) { bad = o->optslide; why = "applies to slides (TIFF)"; }
        else if (o->opt2d && !o->prep.slices) { bad = o->opt2d; why = "applies to 2D images (add --slices to take slices of a volume)"; }
        else if (o->prep.kind == MG_PRESET_2D) { why = "is a 2D preset and this is a volume"; }
    } else if (fmt == MG_FMT_TIFF && (o->slide_mode || o->optslide)) {
        if (o->opt3d) { bad = o->opt3d; why = "applies to volumes (NIfTI)"; }
        else if (o->prep.kind == MG_PRESET_3D) { why = "is a volume preset and this is a slide"; }
    } else {
        if (o->opt3d) { bad = o->opt3d; why = "applies to volumes (NIfTI)"; }
        else if (o->optslide) { bad = o->optslide; why = "applies to slides (TIFF)"; }
        else if (o->prep.kind == MG_PRESET_3D) { why = "is a volume preset and this is a 2D image"; }
    }
    if (why) {
        if (bad) snprintf(err, sizeof err, "option --%s %s", bad, why);
        else if (o->prep.preset) snprintf(err, sizeof err, "preset %s %s", o->prep.preset, why);
        else snprintf(err, sizeof err, "--model %s %s", o->model, why);
        goto fail;
    }
    if (o->id) snprintf(x->id, sizeof x->id, "%s", o->id);
    else file_id(x->path, x->id, sizeof x->id);
    int rc;
    switch (fmt) {
    case MG_FMT_NIFTI: rc = do_volume(x, err, sizeof err); break;
    case MG_FMT_TIFF:
        rc = o->slide_mode || o->optslide ? do_slide(x, err, sizeof err) : do_tiff_pages(x, err, sizeof err);
        break;
    default: rc = do_2d_file(x, fmt, err, sizeof err); break;
    }
    if (rc < 0) goto fail;
    return 0;
fail:
    if (!x->reported) mg_error(x->cli, x->path, "%s", err[0] ? err : "failed");
    return 1;
}

int main(int argc, char **argv)
{
    mg_cli cli = mg_cli_default(PROG, argc, argv);
    cli.usage = USAGE;
    opts o;
    memset(&o, 0, sizeof o);
    o.prep = mg_prep_opts_default();
    o.slide = mg_slide_params_default();
    o.page = -1;
    int status = 2, c;
    struct option *lo = mg_cli_long_options(OWN);
    const char *shortopts = MG_CLI_SHORT "p:s:r:w:";
    mg_record *rec = NULL;
    mg_writer *w = NULL;
    if (!lo) { mg_error(&cli, NULL, "out of memory"); status = 1; goto done; }
    /* Pass 1: common options, --preset and --model (so that other options
     * override them whatever their order). */
    opterr = 1;
    while ((c = getopt_long(argc, argv, shortopts, lo, NULL)) >= 0) {
        int k = mg_cli_common(&cli, c, optarg);
        if (k == MG_CLI_HANDLED) continue;
        if (k == MG_CLI_EXIT_OK) { status = 0; goto done; }
        if (k == MG_CLI_USAGE) goto done;
        if (c == 'p') {
            char err[256];
            if (mg_preset_apply(optarg, &o.prep, err, sizeof err) < 0) {
                mg_usage_error(&cli, "%s", err);
                goto done;
            }
        } else if (c == OPT_MODEL) {
            o.model = optarg;
        }
    }
    if (o.model) {
        char err[512];
        if (mg_image_prep_from_hf(o.model, &o.prep.img, err, sizeof err) < 0) {
            mg_error(&cli, o.model, "%s", err);
            status = 1;
            goto done;
        }
        if (!o.prep.kind) o.prep.kind = MG_PRESET_2D;
    }
    /* Pass 2: everything else. */
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shortopts, lo, NULL)) >= 0) {
        if (mg_cli_common(&cli, c, optarg) != MG_CLI_NOT_COMMON) continue;
        if (handle_opt(&cli, &o, c, optarg, opt_name(c)) < 0) goto done;
    }
    if (optind >= argc) { mg_usage_error(&cli, "no input files"); goto done; }
    o.prep.img.pool = cli.pool;
    if (o.id && argc - optind > 1) { mg_usage_error(&cli, "--id needs exactly one input file"); goto done; }
    if (o.prep.slices && !o.prep.nwin) mg_preset_medgemma_windows(&o.prep);
    if (o.prep.nwin && !o.prep.slices) { mg_usage_error(&cli, "--slice-windows needs --slices"); goto done; }

    status = 1;
    char err[512];
    mg_prov prov = mg_cli_prov(&cli, NULL);
    mg_writer_opts wo = mg_cli_writer_opts(&cli);
    w = mg_writer_open(cli.output, &prov, &wo, err, sizeof err);
    mg_prov_free(&prov);
    if (!w) { mg_error(&cli, out_name(&cli), "%s", err); goto done; }
    rec = mg_record_init();
    if (!rec) { mg_error(&cli, NULL, "out of memory"); goto done; }
    run_ctx x = { &cli, &o, w, rec, NULL, "", 0 };
    int ok = 1;
    mg_cli_progress_begin(&cli, "files", (uint64_t)(argc - optind));
    for (int i = optind; i < argc && ok; i++) {
        x.path = argv[i];
        if (do_file(&x)) ok = 0;
        mg_progress_step(cli.progress, (uint64_t)(i - optind + 1));
    }
    mg_cli_progress_end(&cli);
    if (mg_writer_close(w, ok, err, sizeof err) < 0 && ok) {
        mg_error(&cli, out_name(&cli), "%s", err);
        ok = 0;
    }
    w = NULL;
    status = ok ? 0 : 1;
    if (ok && mg_close_stdout(&cli) < 0) status = 1;
done:
    mg_writer_abort(w);
    mg_record_destroy(rec);
    free(lo);
    mg_cli_free(&cli);
    return status;
}
