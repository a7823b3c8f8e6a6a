/* mg-decode generate: text from a decoder checkpoint (MedGemma report writing
 * and visual question answering): the Gemma 3 chat template, image soft tokens
 * from a stream of 'tokens' records, a key/value cache, greedy decoding or
 * sampling, and option scoring by log-probability. */
#include "decode.h"
#include "mg_cli.h"
#include "mg_decoder.h"
#include "mg_err.h"
#include "mg_matmul.h"
#include "mg_npy.h"
#include "mg_output.h"
#include "mg_sample.h"
#include "mg_stream.h"
#include "mg_tensor.h"
#include "mg_tokenizer.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char USAGE[] =
    "Usage: mg-decode [generate] -m DIR [options] [FILE]\n"
    "Generate text with a decoder checkpoint (model_type gemma3 / gemma3_text: MedGemma,\n"
    "Gemma 3). FILE (or '-') is a stream of 'tokens' records [mm_tokens, hidden] from\n"
    "'mg-encode2d -m DIR -k projected'; consecutive records with the same id are the\n"
    "images of one prompt. Without FILE the prompts are text only.\n"
    "\n"
    "Prompt:\n"
    "  -m, --model DIR       checkpoint directory with config.json, safetensors, tokenizer\n"
    "  -p, --prompt TEXT     the user turn\n"
    "  -f, --prompt-file F   the user turn from a file\n"
    "      --prompts TSV     'id<TAB>prompt' lines (\\n \\t \\\\ decoded): one prompt per line,\n"
    "                        or with FILE the prompt of each record id\n"
    "  -s, --system TEXT     system prompt (folded into the first user turn)\n"
    "      --raw             no chat template: BOS + the prompt as written\n"
    "      --prompt-ids IDS  token ids (space-separated) instead of text; no template\n"
    "      --images-per-prompt N  group FILE's records N at a time instead of by id\n"
    "  Images go where the prompt has <start_of_image>, else after the text; each\n"
    "  becomes \\n\\n<start_of_image> + soft tokens + <end_of_image>\\n\\n.\n"
    "Generation:\n"
    "  -n, --max-tokens N    tokens to generate at most [256]\n"
    "  -c, --ctx N           context (cache) length [the model's, at most 8192]\n"
    "      --temperature T   0 = greedy [0]\n"
    "      --top-k K  --top-p P  --min-p P   sampling cuts [off]\n"
    "      --repeat-penalty R  penalise ids of the prompt and output [1 = off]\n"
    "      --seed S          sampling seed [0]; prompt i uses S + i\n"
    "      --stop STR        also stop at STR (repeatable; not part of the text)\n"
    "      --choices A,B,..  score each option by its summed log-probability after\n"
    "                        the prompt instead of generating\n"
    "Output:\n"
    "  -o, --output FILE     JSON Lines: id, text, ids, stop, prompt_tokens,\n"
    "                        generated_tokens, timings, choices [stdout]\n"
    "      --text            only the generated text, one prompt per line\n"
    "      --tsv             a table 'id<TAB>text' (line breaks and tabs in the text\n"
    "                        folded to one space), as mg-score report / vqa read\n"
    "      --no-timings      leave timings out (byte-stable output)\n"
    "      --dump-logits F   logits of every processed position as .npy (one prompt)\n"
    "      --tokenize        print the ids of each input line (FILE or stdin) and exit\n"
    "      --detokenize      print the text of each line of ids and exit\n"
    "  -@, --threads N       worker threads [1]\n"
    MG_CLI_PRECISION_HELP
    "                      (prompt rows; one token at a time reads the weights as\n"
    "                      stored through fp32-accurate matrix-vector products)\n"
    "  -v, --verbose         back end, prompt and generation speed on stderr\n"
    "  -q, --quiet  --no-version  -h, --help  --version\n";

enum {
    OPT_PROMPTS = MG_OPT_FIRST_OWN, OPT_RAW, OPT_IDS, OPT_IPP, OPT_TEMP, OPT_TOPK, OPT_TOPP,
    OPT_MINP, OPT_REP, OPT_SEED, OPT_STOP, OPT_CHOICES, OPT_TEXT, OPT_TSV, OPT_NOTIME, OPT_DUMP,
    OPT_ECHO
};

enum { OUT_JSONL, OUT_TEXT, OUT_TSV };

typedef struct {
    mg_cli *cli;
    const char *dir, *prompt, *system, *prompts_tsv, *prompt_ids, *dump;
    char *prompt_buf;
    int raw, out_kind, no_timings, echo;   /* out_kind: OUT_* */
    long max_tokens, ctx_len, per_prompt;
    mg_sample_params sp;
    char **stops;
    int n_stops;
    char **choices;
    int n_choices;
    /* loaded */
    mg_tokenizer *tok;
    mg_decoder *dec;
    const mg_decoder_info *info;
    int64_t n_vocab;
    int32_t eot;                 /* <end_of_turn>, -1 without a tokenizer */
    mg_nn_ctx ctx;
    char **tsv_id, **tsv_text;   /* --prompts */
    int n_tsv;
    /* output, held until everything succeeded */
    char *out_buf;
    size_t out_len;
    FILE *out;
    float *dump_rows;
    int64_t n_dump, dump_cap;
    int n_prompts;
} gen;

/* ---- small helpers ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) { mg_seterr(err, errlen, "cannot open: %m"); return NULL; }
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    while (b) {
        if (n + 1 >= cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) { free(b); b = NULL; break; }
            b = nb;
        }
        size_t k = fread(b + n, 1, cap - n - 1, f);
        n += k;
        if (k == 0) break;
    }
    int bad = ferror(f);
    if (f != stdin) fclose(f);
    if (!b) { mg_seterr(err, errlen, "out of memory"); return NULL; }
    if (bad) { free(b); mg_seterr(err, errlen, "read error"); return NULL; }
    b[n] = 0;
    if (len) *len = n;
    return b;
}

/* Python's str.strip() for the template's |trim (ASCII whitespace). */
static void trim_span(const char *s, size_t *a, size_t *b)
{
    size_t i = 0, j = strlen(s);
    while (i < j && strchr(" \t\n\r\v\f", s[i])) i++;
    while (j > i && strchr(" \t\n\r\v\f", s[j - 1])) j--;
    *a = i;
    *b = j;
}

typedef struct { char *p; size_t n, cap; int oom; } sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = (b->n + n + 1) * 2;
        char *np = realloc(b->p, nc);
        if (!np) { b->oom = 1; return; }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static size_t count_str(const char *s, const char *pat)
{
    size_t n = 0, k = strlen(pat);
    for (const char *p = strstr(s, pat); p; p = strstr(p + k, pat)) n++;
    return n;
}

static char *unescape(const char *s)
{
    char *o = malloc(strlen(s) + 1), *q = o;
    if (!o) return NULL;
    for (; *s; s++) {
        if (*s == '\\' && (s[1] == 'n' || s[1] == 't' || s[1] == '\\')) {
            s++;
            *q++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : '\\';
        } else *q++ = *s;
    }
    *q = 0;
    return o;
}

/* ---- prompt → ids ---- */

static const char *piece_or(const gen *g, int32_t id, const char *def)
{
    const char *p = g->tok && id >= 0 ? mg_tokenizer_piece(g->tok, id) : NULL;
    return p ? p : def;
}

/* The Gemma 3 chat template (tokenizer_config.json chat_template) for one user
 * turn whose content is [text, image × n_img] (images after the text unless the
 * text places them with <start_of_image>), then Gemma3Processor's expansion of
 * every <start_of_image>. */
static char *render(const gen *g, const char *user, int n_img, char *err, size_t errlen)
{
    const char *boi = piece_or(g, g->info->boi_token, "<start_of_image>");
    const char *eoi = piece_or(g, g->info->eoi_token, "<end_of_image>");
    const char *soft = piece_or(g, g->info->image_token, "<image_soft_token>");
    size_t markers = count_str(user, boi);
    if (n_img && !g->info->mm_tokens) {
        mg_seterr(err, errlen, "%s is a text-only decoder; it takes no images", g->info->model_type);
        return NULL;
    }
    if (markers && markers != (size_t)n_img) {
        mg_seterr(err, errlen, "%d image%s but %zu %s marker%s in the prompt", n_img,
                  n_img == 1 ? "" : "s", markers, boi, markers == 1 ? "" : "s");
        return NULL;
    }
    sbuf t = {0};
    if (g->raw) {
        sb_str(&t, piece_or(g, g->info->bos, "<bos>"));
        sb_str(&t, user);
        for (int i = markers ? n_img : 0; i < n_img; i++) sb_str(&t, boi);
    } else {
        size_t a, b;
        sb_str(&t, piece_or(g, g->info->bos, "<bos>"));
        sb_str(&t, "<start_of_turn>user\n");
        if (g->system) { sb_str(&t, g->system); sb_str(&t, "\n\n"); }   /* not trimmed */
        trim_span(user, &a, &b);
        sb_add(&t, user + a, b - a);
        for (int i = markers ? n_img : 0; i < n_img; i++) sb_str(&t, boi);
        sb_str(&t, "<end_of_turn>\n<start_of_turn>model\n");
    }
    if (t.oom) { free(t.p); mg_seterr(err, errlen, "out of memory"); return NULL; }
    if (!n_img) return t.p;
    /* "\n\n<start_of_image>" + mm_tokens × soft token + "<end_of_image>\n\n" */
    sbuf e = {0};
    const char *s = t.p;
    for (const char *p = strstr(s, boi); p; s = p + strlen(boi), p = strstr(s, boi)) {
        sb_add(&e, s, (size_t)(p - s));
        sb_str(&e, "\n\n");
        sb_str(&e, boi);
        for (int k = 0; k < g->info->mm_tokens; k++) sb_str(&e, soft);
        sb_str(&e, eoi);
        sb_str(&e, "\n\n");
    }
    sb_str(&e, s);
    free(t.p);
    if (e.oom) { free(e.p); mg_seterr(err, errlen, "out of memory"); return NULL; }
    return e.p;
}

static int parse_ids(const char *s, int32_t **ids, size_t *n, char *err, size_t errlen)
{
    size_t cap = 64;
    *n = 0;
    *ids = malloc(cap * sizeof **ids);
    while (*ids) {
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == ',') s++;
        if (!*s) return 0;
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > INT32_MAX) {
            mg_seterr(err, errlen, "invalid token id '%.20s'", s);
            free(*ids);
            *ids = NULL;
            return -1;
        }
        if (*n == cap) {
            int32_t *ni = realloc(*ids, (cap *= 2) * sizeof *ni);
            if (!ni) break;
            *ids = ni;
        }
        (*ids)[(*n)++] = (int32_t)v;
        s = end;
    }
    free(*ids);
    *ids = NULL;
    mg_seterr(err, errlen, "out of memory");
    return -1;
}

/* ---- one prompt ---- */

typedef struct {
    const char *id;
    const char *text;           /* user text, or NULL with prompt_ids */
    float **img;                /* [mm_tokens, hidden] each */
    int n_img;
} job;

static int keep_dump(gen *g, const float *rows, int64_t n)
{
    if (!g->dump) return 0;
    if (g->n_dump + n > g->dump_cap) {
        int64_t nc = (g->n_dump + n) * 2;
        float *p = realloc(g->dump_rows, (size_t)(nc * g->n_vocab) * sizeof(float));
        if (!p) return -1;
        g->dump_rows = p;
        g->dump_cap = nc;
    }
    memcpy(g->dump_rows + g->n_dump * g->n_vocab, rows, (size_t)(n * g->n_vocab) * sizeof(float));
    g->n_dump += n;
    return 0;
}

/* A table cell: each run of tabs and line breaks becomes one space, so that
 * the row stays one line of two columns. */
static void put_tsv_field(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (!strchr("\t\r\n", *s)) { fputc(*s, f); continue; }
        while (s[1] && strchr("\t\r\n", s[1])) s++;
        fputc(' ', f);
    }
}

static int is_stop_id(const gen *g, int32_t t)
{
    for (int i = 0; i < g->info->n_eos; i++) if (g->info->eos[i] == t) return 1;
    return t == g->eot || (g->tok && t == mg_tokenizer_eos(g->tok));
}

static int run_job(gen *g, const job *jb, char *err, size_t errlen)
{
    int rc = -1;
    int32_t *ids = NULL, *span = NULL, *out_ids = NULL, *seen = NULL;
    size_t n = 0;
    float *x = NULL, *lg = NULL;
    char *full = NULL, *text = NULL;
    const char *stop_reason = "length";
    int64_t D = g->info->hidden, nv = g->n_vocab, n_out = 0;
    mg_sampler smp = {0};
    json_t *o = NULL;
    double t0 = now_s(), t1, t2;

    if (jb->text) {
        if (!(full = render(g, jb->text, jb->n_img, err, errlen))) goto done;
        if (mg_tokenizer_encode(g->tok, full, strlen(full), 1, &ids, &n, err, errlen) < 0) goto done;
    } else if (parse_ids(g->prompt_ids, &ids, &n, err, errlen) < 0) goto done;
    if (n == 0) { mg_seterr(err, errlen, "empty prompt"); goto done; }
    /* Image soft-token runs: one per image, each exactly mm_tokens long. */
    if (!(span = calloc(n, sizeof *span))) goto oom;
    int runs = 0;
    for (size_t i = 0; i < n;) {
        if (g->info->mm_tokens <= 0 || ids[i] != g->info->image_token) { i++; continue; }
        size_t j = i;
        while (j < n && ids[j] == g->info->image_token) span[j++] = runs + 1;
        if (j - i != (size_t)g->info->mm_tokens) {
            mg_seterr(err, errlen, "a run of %zu image soft tokens; the model takes %d per image",
                      j - i, g->info->mm_tokens);
            goto done;
        }
        runs++;
        i = j;
    }
    if (runs != jb->n_img) {
        mg_seterr(err, errlen, "%d image%s for %d image position%s in the prompt", jb->n_img,
                  jb->n_img == 1 ? "" : "s", runs, runs == 1 ? "" : "s");
        goto done;
    }
    int64_t need = (int64_t)n + (g->n_choices ? 0 : 1);
    if (need > g->info->max_ctx) {
        mg_seterr(err, errlen, "prompt of %zu tokens does not fit the context of %lld", n,
                  (long long)g->info->max_ctx);
        goto done;
    }
    if (!(x = malloc(n * (size_t)D * sizeof *x)) || !(lg = malloc((g->dump ? n : 1) * (size_t)nv * sizeof *lg)))
        goto oom;
    if (mg_decoder_embed(g->dec, ids, (int64_t)n, x, err, errlen) < 0) goto done;
    /* Projector outputs replace the soft-token rows, unscaled. */
    for (size_t i = 0, k = 0; i < n; i++)
        if (span[i]) {
            memcpy(x + i * D, jb->img[span[i] - 1] + k * D, (size_t)D * sizeof *x);
            k = i + 1 < n && span[i + 1] == span[i] ? k + 1 : 0;
        }
    if (mg_decoder_truncate(g->dec, 0) < 0) { mg_seterr(err, errlen, "cache reset failed"); goto done; }
    if (mg_decoder_forward(g->dec, &g->ctx, x, (int64_t)n, span, lg, nv, g->dump != NULL, err, errlen) < 0)
        goto done;
    if (keep_dump(g, lg, g->dump ? (int64_t)n : 0) < 0) goto oom;
    float *last = lg + (g->dump ? (int64_t)(n - 1) * nv : 0);
    t1 = now_s();

    o = json_object();
    if (!o) goto oom;
    json_object_set_new(o, "id", json_string(jb->id));
    if (g->echo) {
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++) json_array_append_new(a, json_integer(ids[i]));
        json_object_set_new(o, "prompt", full ? json_string(full) : json_null());
        json_object_set_new(o, "prompt_ids", a);
    }
    if (g->n_choices) {
        /* Σ log p(option token | prompt, earlier option tokens) */
        json_t *ch = json_object();
        float *row0 = malloc((size_t)nv * sizeof *row0);
        if (!ch || !row0) { free(row0); json_decref(ch); goto oom; }
        memcpy(row0, last, (size_t)nv * sizeof *row0);
        double best = -INFINITY;
        int bi = 0;
        for (int c = 0; c < g->n_choices; c++) {
            int32_t *oi = NULL;
            size_t on = 0;
            float *ol = NULL, *ox = NULL;
            int bad = mg_tokenizer_encode(g->tok, g->choices[c], strlen(g->choices[c]), 0, &oi, &on,
                                          err, errlen) < 0;
            if (!bad && on == 0) { mg_seterr(err, errlen, "empty choice"); bad = 1; }
            if (!bad && (int64_t)(n + on) > g->info->max_ctx) {
                mg_seterr(err, errlen, "prompt and choice '%s' do not fit the context", g->choices[c]);
                bad = 1;
            }
            double s = 0;
            if (!bad && on > 1) {
                ol = malloc((on - 1) * (size_t)nv * sizeof *ol);
                ox = malloc((on - 1) * (size_t)D * sizeof *ox);
                bad = !ol || !ox || mg_decoder_truncate(g->dec, (int64_t)n) < 0;
                if (bad) mg_seterr(err, errlen, "out of memory");
                if (!bad) bad = mg_decoder_embed(g->dec, oi, (int64_t)on - 1, ox, err, errlen) < 0 ||
                                mg_decoder_forward(g->dec, &g->ctx, ox, (int64_t)on - 1, NULL, ol, nv, 1,
                                                   err, errlen) < 0;
            }
            for (size_t k = 0; !bad && k < on; k++) {
                if (oi[k] >= nv) { mg_seterr(err, errlen, "choice token outside the vocabulary"); bad = 1; break; }
                s += mg_log_prob(k ? ol + (k - 1) * nv : row0, nv, oi[k]);
            }
            free(oi); free(ol); free(ox);
            if (bad) { free(row0); json_decref(ch); goto done; }
            json_object_set_new(ch, g->choices[c], json_real(s));
            if (s > best) { best = s; bi = c; }
        }
        free(row0);
        t2 = now_s();
        json_object_set_new(o, "text", json_string(g->choices[bi]));
        json_object_set_new(o, "choices", ch);
        stop_reason = "choices";
        text = strdup(g->choices[bi]);
        if (!text) goto oom;
    } else {
        mg_sample_params sp = g->sp;
        sp.seed += (uint64_t)g->n_prompts;
        int64_t max_out = g->max_tokens;
        if (!(out_ids = malloc((size_t)(max_out + 1) * sizeof *out_ids)) ||
            !(seen = malloc((n + (size_t)max_out + 1) * sizeof *seen)) ||
            mg_sampler_init(&smp, &sp, nv) < 0) goto oom;
        int64_t n_seen = 0;
        for (size_t i = 0; i < n; i++) if (!span[i]) seen[n_seen++] = ids[i];
        float *row = malloc((size_t)nv * sizeof *row), *xr = malloc((size_t)D * sizeof *xr);
        if (!row || !xr) { free(row); free(xr); goto oom; }
        memcpy(row, last, (size_t)nv * sizeof *row);
        int fail = 0;
        while (n_out < max_out) {
            int32_t t = mg_sampler_next(&smp, row, nv, seen, n_seen);
            if (is_stop_id(g, t)) { stop_reason = "eos"; break; }
            out_ids[n_out++] = t;
            seen[n_seen++] = t;
            if (g->n_stops) {
                free(text);
                if (!(text = mg_tokenizer_decode(g->tok, out_ids, (size_t)n_out, 1, err, errlen))) { fail = 1; break; }
                int hit = 0;
                for (int k = 0; k < g->n_stops && !hit; k++) {
                    char *p = strstr(text, g->stops[k]);
                    if (p) { *p = 0; hit = 1; }
                }
                if (hit) { stop_reason = "stop"; break; }
            }
            if (n_out == max_out) break;
            if (mg_decoder_length(g->dec) >= g->info->max_ctx) break;      /* context full */
            if (mg_decoder_embed(g->dec, &t, 1, xr, err, errlen) < 0 ||
                mg_decoder_forward(g->dec, &g->ctx, xr, 1, NULL, row, nv, 0, err, errlen) < 0 ||
                keep_dump(g, row, 1) < 0) { fail = 1; break; }
        }
        free(row);
        free(xr);
        if (fail) { if (!err[0]) mg_seterr(err, errlen, "out of memory"); goto done; }
        t2 = now_s();
        if (!text && g->tok && !(text = mg_tokenizer_decode(g->tok, out_ids, (size_t)n_out, 1, err, errlen)))
            goto done;
        json_object_set_new(o, "text", text ? json_string(text) : json_null());
        json_t *a = json_array();
        for (int64_t i = 0; a && i < n_out; i++) json_array_append_new(a, json_integer(out_ids[i]));
        json_object_set_new(o, "ids", a);
    }
    if (text && !json_is_string(json_object_get(o, "text"))) {
        mg_seterr(err, errlen, "generated text is not valid UTF-8");
        goto done;
    }
    json_object_set_new(o, "stop", json_string(stop_reason));
    json_object_set_new(o, "prompt_tokens", json_integer((json_int_t)n));
    json_object_set_new(o, "image_tokens", json_integer((json_int_t)runs * g->info->mm_tokens));
    json_object_set_new(o, "generated_tokens", json_integer(n_out));
    if (!g->no_timings) {
        json_t *tm = json_object();
        json_object_set_new(tm, "prompt_s", json_real(t1 - t0));
        json_object_set_new(tm, "generate_s", json_real(t2 - t1));
        json_object_set_new(o, "timings", tm);
    }
    mg_info(g->cli, "%s: prompt %zu tokens, %.1f tokens/s; generated %lld tokens, %.2f tokens/s",
            jb->id, n, (double)n / (t1 - t0 > 0 ? t1 - t0 : 1e-9), (long long)n_out,
            n_out ? (double)n_out / (t2 - t1 > 0 ? t2 - t1 : 1e-9) : 0.0);
    if (g->out_kind == OUT_TEXT) {
        fputs(text ? text : "", g->out);
        fputc('\n', g->out);
    } else if (g->out_kind == OUT_TSV) {
        fputs(jb->id, g->out);
        fputc('\t', g->out);
        put_tsv_field(g->out, text ? text : "");
        fputc('\n', g->out);
    } else {
        char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
        if (!line) goto oom;
        fputs(line, g->out);
        fputc('\n', g->out);
        free(line);
    }
    g->n_prompts++;
    mg_progress_step(g->cli->progress, (uint64_t)g->n_prompts);
    rc = 0;
    goto done;
oom:
    mg_seterr(err, errlen, "out of memory");
done:
    json_decref(o);
    mg_sampler_free(&smp);
    free(ids); free(span); free(out_ids); free(seen); free(x); free(lg); free(full); free(text);
    return rc;
}

/* ---- inputs ---- */

static const char *tsv_lookup(const gen *g, const char *id)
{
    for (int i = 0; i < g->n_tsv; i++) if (strcmp(g->tsv_id[i], id) == 0) return g->tsv_text[i];
    return NULL;
}

static int load_tsv(gen *g, char *err, size_t errlen)
{
    size_t len;
    char *b = read_file(g->prompts_tsv, &len, err, errlen);
    if (!b) return -1;
    int rc = -1, cap = 0;
    for (char *line = b, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r') line[--l] = 0;
        if (!l) continue;
        char *tab = strchr(line, '\t');
        if (!tab) { mg_seterr(err, errlen, "line without a tab: '%.40s'", line); goto out; }
        *tab = 0;
        if (g->n_tsv == cap) {
            cap = cap ? 2 * cap : 16;
            char **a = realloc(g->tsv_id, (size_t)cap * sizeof *a), **t2;
            if (a) g->tsv_id = a;
            t2 = realloc(g->tsv_text, (size_t)cap * sizeof *t2);
            if (t2) g->tsv_text = t2;
            if (!a || !t2) { mg_seterr(err, errlen, "out of memory"); goto out; }
        }
        g->tsv_id[g->n_tsv] = strdup(line);
        g->tsv_text[g->n_tsv] = unescape(tab + 1);
        if (!g->tsv_id[g->n_tsv] || !g->tsv_text[g->n_tsv]) {
            free(g->tsv_id[g->n_tsv]); free(g->tsv_text[g->n_tsv]);
            mg_seterr(err, errlen, "out of memory");
            goto out;
        }
        g->n_tsv++;
    }
    rc = 0;
out:
    free(b);
    return rc;
}

static const char *job_text(gen *g, const char *id, char *err, size_t errlen)
{
    if (g->prompt_ids) return NULL;
    if (g->n_tsv) {
        const char *t = tsv_lookup(g, id);
        if (!t) mg_seterr(err, errlen, "no prompt for id '%s' in %s", id, g->prompts_tsv);
        return t;
    }
    return g->prompt ? g->prompt : "";
}

/* Group the stream's records into prompts: by id, or per_prompt at a time. */
static int run_stream(gen *g, const char *path, char *err, size_t errlen)
{
    char msg[600];
    mg_reader *r = mg_reader_open(path, err, errlen);
    if (!r) return -1;
    mg_record *rec = mg_record_init();
    job jb = {0};
    char *cur_id = NULL;
    int rc = -1, cap = 0;
    int64_t recno = 0;
    int64_t mm = g->info->mm_tokens, D = g->info->hidden;
    if (!rec) { mg_seterr(err, errlen, "out of memory"); goto out; }
    for (;;) {
        int k = mg_reader_next(r, rec);
        if (k < 0) { mg_seterr(err, errlen, "%s", mg_reader_error(r)); goto out; }
        const char *id = NULL;
        char idbuf[32];
        if (k > 0) {
            recno++;
            id = mg_record_get_meta(rec, "id");
            if (!id) { snprintf(idbuf, sizeof idbuf, "%lld", (long long)recno); id = idbuf; }
        }
        int flush = jb.n_img > 0 && (k == 0 || (g->per_prompt ? jb.n_img == g->per_prompt
                                                              : strcmp(id, cur_id) != 0));
        if (flush) {
            jb.id = cur_id;
            if (!(jb.text = job_text(g, cur_id, err, errlen)) && !g->prompt_ids) goto out;
            if (run_job(g, &jb, msg, sizeof msg) < 0) {
                mg_seterr(err, errlen, "%s: %s", cur_id, msg);
                goto out;
            }
            for (int i = 0; i < jb.n_img; i++) free(jb.img[i]);
            jb.n_img = 0;
        }
        if (k == 0) break;
        if (!mm) { mg_seterr(err, errlen, "%s is a text-only decoder; it takes no image records",
                             g->info->model_type); goto out; }
        mg_tensor *t = mg_record_find_tensor(rec, "tokens");
        if (!t) { mg_seterr(err, errlen, "record %s has no 'tokens' tensor", id); goto out; }
        if (t->ndim != 2 || t->shape[0] != mm || t->shape[1] != D ||
            (t->dtype != MG_F32 && t->dtype != MG_F16 && t->dtype != MG_BF16)) {
            mg_seterr(err, errlen, "record %s: tokens %s [%lld,%lld]; the decoder takes float [%lld,%lld]",
                      id, mg_dtype_name(t->dtype), (long long)t->shape[0],
                      (long long)(t->ndim > 1 ? t->shape[1] : 0), (long long)mm, (long long)D);
            goto out;
        }
        if (jb.n_img == 0) {
            free(cur_id);
            if (!(cur_id = strdup(id))) { mg_seterr(err, errlen, "out of memory"); goto out; }
        }
        if (jb.n_img == cap) {
            float **ni = realloc(jb.img, (size_t)(cap = cap ? 2 * cap : 4) * sizeof *ni);
            if (!ni) { mg_seterr(err, errlen, "out of memory"); goto out; }
            jb.img = ni;
        }
        if (!(jb.img[jb.n_img] = malloc((size_t)(mm * D) * sizeof(float)))) {
            mg_seterr(err, errlen, "out of memory");
            goto out;
        }
        mg_convert_to_f32(jb.img[jb.n_img++], t->data, t->dtype, (size_t)(mm * D));
    }
    if (g->per_prompt && jb.n_img) { mg_seterr(err, errlen, "last prompt has fewer images"); goto out; }
    if (recno == 0) { mg_seterr(err, errlen, "no records"); goto out; }
    rc = 0;
out:
    for (int i = 0; i < jb.n_img; i++) free(jb.img[i]);
    free(jb.img);
    free(cur_id);
    mg_record_destroy(rec);
    if (mg_reader_close(r) < 0 && rc == 0) { mg_seterr(err, errlen, "read error"); rc = -1; }
    return rc;
}

static int split_list(const char *s, char sep, char ***out, int *n)
{
    char *c = strdup(s);
    if (!c) return -1;
    for (char *p = c, *q; p; p = q) {
        q = strchr(p, sep);
        if (q) *q++ = 0;
        char **a = realloc(*out, (size_t)(*n + 1) * sizeof *a);
        if (!a || !(a[*n] = strdup(p))) { if (a) *out = a; free(c); return -1; }
        *out = a;
        (*n)++;
    }
    free(c);
    return 0;
}

static int write_dump(gen *g, char *err, size_t errlen)
{
    mg_ofile *f = mg_ofile_open(g->dump, NULL, err, errlen);
    if (!f) return -1;
    mg_tensor t = { .name = "logits", .dtype = MG_F32, .ndim = 2, .shape = { g->n_dump, g->n_vocab },
                    .data = g->dump_rows, .nbytes = (size_t)(g->n_dump * g->n_vocab) * sizeof(float) };
    int ok = mg_npy_write(mg_ofile_fp(f), &t, err, errlen) == 0;
    char e2[256];
    if (mg_ofile_close(f, ok, e2, sizeof e2) < 0) {
        if (ok) mg_seterr(err, errlen, "%s", e2);
        return -1;
    }
    return ok ? 0 : -1;
}

int mg_decode_generate(int argc, char **argv)
{
    mg_cli cli = mg_cli_default("mg-decode", argc, argv);
    cli.usage = USAGE;
    static const struct option own[] = {
        {"model", required_argument, NULL, 'm'}, {"prompt", required_argument, NULL, 'p'},
        {"prompt-file", required_argument, NULL, 'f'}, {"system", required_argument, NULL, 's'},
        {"prompts", required_argument, NULL, OPT_PROMPTS}, {"raw", no_argument, NULL, OPT_RAW},
        {"prompt-ids", required_argument, NULL, OPT_IDS},
        {"images-per-prompt", required_argument, NULL, OPT_IPP},
        {"max-tokens", required_argument, NULL, 'n'}, {"ctx", required_argument, NULL, 'c'},
        {"temperature", required_argument, NULL, OPT_TEMP}, {"top-k", required_argument, NULL, OPT_TOPK},
        {"top-p", required_argument, NULL, OPT_TOPP}, {"min-p", required_argument, NULL, OPT_MINP},
        {"repeat-penalty", required_argument, NULL, OPT_REP}, {"seed", required_argument, NULL, OPT_SEED},
        {"stop", required_argument, NULL, OPT_STOP}, {"choices", required_argument, NULL, OPT_CHOICES},
        {"text", no_argument, NULL, OPT_TEXT}, {"tsv", no_argument, NULL, OPT_TSV},
        {"no-timings", no_argument, NULL, OPT_NOTIME},
        {"dump-logits", required_argument, NULL, OPT_DUMP},
        {"echo-prompt", no_argument, NULL, OPT_ECHO}, MG_CLI_PRECISION_OPTION,
        {NULL, 0, NULL, 0}};
    struct option *lo = mg_cli_long_options(own);
    gen g = { .cli = &cli, .max_tokens = 256, .sp = mg_sample_default_params(), .eot = -1,
              .ctx.precision = MG_PREC_AUTO };
    const char *pfile = NULL;
    int c, ret = 2;
    double dv;
    long lv;
    char err[768] = "";
    const char *efile = NULL;
    if (!lo) { mg_error(&cli, NULL, "out of memory"); mg_cli_free(&cli); return 1; }
    while ((c = getopt_long(argc, argv, MG_CLI_SHORT "m:p:f:s:n:c:", lo, NULL)) >= 0) {
        switch (mg_cli_common(&cli, c, optarg)) {
        case MG_CLI_HANDLED: continue;
        case MG_CLI_EXIT_OK: ret = 0; goto out;
        case MG_CLI_USAGE: goto out;
        default: break;
        }
        switch (c) {
        case 'm': g.dir = optarg; break;
        case MG_OPT_PRECISION:
            if (mg_cli_precision(&cli, optarg, &g.ctx.precision) != MG_CLI_HANDLED) goto out;
            break;
        case 'p': g.prompt = optarg; break;
        case 'f': pfile = optarg; break;
        case 's': g.system = optarg; break;
        case OPT_PROMPTS: g.prompts_tsv = optarg; break;
        case OPT_RAW: g.raw = 1; break;
        case OPT_IDS: g.prompt_ids = optarg; break;
        case OPT_TEXT: g.out_kind = OUT_TEXT; break;
        case OPT_TSV: g.out_kind = OUT_TSV; break;
        case OPT_NOTIME: g.no_timings = 1; break;
        case OPT_DUMP: g.dump = optarg; break;
        case OPT_ECHO: g.echo = 1; break;
        case OPT_IPP:
            if (mg_parse_long(optarg, 1, 4096, &g.per_prompt) < 0) { mg_usage_error(&cli, "invalid --images-per-prompt '%s'", optarg); goto out; }
            break;
        case 'n':
            if (mg_parse_long(optarg, 0, 1 << 24, &g.max_tokens) < 0) { mg_usage_error(&cli, "invalid --max-tokens '%s'", optarg); goto out; }
            break;
        case 'c':
            if (mg_parse_long(optarg, 1, 1 << 24, &g.ctx_len) < 0) { mg_usage_error(&cli, "invalid --ctx '%s'", optarg); goto out; }
            break;
        case OPT_TEMP:
            if (mg_parse_double(optarg, &dv) < 0 || dv < 0) { mg_usage_error(&cli, "invalid --temperature '%s'", optarg); goto out; }
            g.sp.temperature = dv;
            break;
        case OPT_TOPK:
            if (mg_parse_long(optarg, 0, INT32_MAX, &lv) < 0) { mg_usage_error(&cli, "invalid --top-k '%s'", optarg); goto out; }
            g.sp.top_k = (int)lv;
            break;
        case OPT_TOPP:
            if (mg_parse_double(optarg, &dv) < 0 || dv <= 0 || dv > 1) { mg_usage_error(&cli, "invalid --top-p '%s'", optarg); goto out; }
            g.sp.top_p = dv;
            break;
        case OPT_MINP:
            if (mg_parse_double(optarg, &dv) < 0 || dv < 0 || dv > 1) { mg_usage_error(&cli, "invalid --min-p '%s'", optarg); goto out; }
            g.sp.min_p = dv;
            break;
        case OPT_REP:
            if (mg_parse_double(optarg, &dv) < 0 || dv <= 0) { mg_usage_error(&cli, "invalid --repeat-penalty '%s'", optarg); goto out; }
            g.sp.repeat_penalty = dv;
            break;
        case OPT_SEED:
            if (mg_parse_long(optarg, 0, INT64_MAX > LONG_MAX ? LONG_MAX : INT64_MAX, &lv) < 0) { mg_usage_error(&cli, "invalid --seed '%s'", optarg); goto out; }
            g.sp.seed = (uint64_t)lv;
            break;
        case OPT_STOP:
            if (!*optarg) { mg_usage_error(&cli, "empty --stop string"); goto out; }
            {
                char **a = realloc(g.stops, (size_t)(g.n_stops + 1) * sizeof *a);
                if (!a) { mg_error(&cli, NULL, "out of memory"); ret = 1; goto out; }
                g.stops = a;
                g.stops[g.n_stops++] = optarg;
            }
            break;
        case OPT_CHOICES:
            if (split_list(optarg, ',', &g.choices, &g.n_choices) < 0) { mg_error(&cli, NULL, "out of memory"); ret = 1; goto out; }
            break;
        default: mg_usage_error(&cli, "unknown option"); goto out;
        }
    }
    if (!g.dir) { mg_usage_error(&cli, "a checkpoint directory (-m DIR) is required"); goto out; }
    if (argc - optind > 1) { mg_usage_error(&cli, "one input file at most"); goto out; }
    if (!!g.prompt + !!pfile + !!g.prompt_ids > 1) { mg_usage_error(&cli, "-p, -f and --prompt-ids exclude each other"); goto out; }
    if (g.prompt_ids && (g.n_choices || g.n_stops)) { mg_usage_error(&cli, "--choices and --stop need text prompts"); goto out; }
    const char *in = optind < argc ? argv[optind] : NULL;
    g.ctx.threads = cli.threads;
    g.ctx.pool = cli.pool;
    ret = 1;

    mg_ofile *of = NULL;
    if (!(g.out = open_memstream(&g.out_buf, &g.out_len))) { mg_error(&cli, NULL, "out of memory"); goto out; }
    if (g.out_kind == OUT_TSV) fputs("id\ttext\n", g.out);
    if (pfile) {
        size_t l;
        if (!(g.prompt_buf = read_file(pfile, &l, err, sizeof err))) { efile = pfile; goto fail; }
        if (strlen(g.prompt_buf) != l) { mg_seterr(err, sizeof err, "NUL byte in the prompt"); efile = pfile; goto fail; }
        g.prompt = g.prompt_buf;
    }
    if (g.prompts_tsv && load_tsv(&g, err, sizeof err) < 0) { efile = g.prompts_tsv; goto fail; }
    /* The tokenizer is needed for text; token-id prompts work without one. */
    if (!g.prompt_ids) {
        if (!(g.tok = mg_tokenizer_load(g.dir, err, sizeof err))) { efile = g.dir; goto fail; }
        g.eot = mg_tokenizer_id(g.tok, "<end_of_turn>");
    }
    {
        if (!(g.dec = mg_decoder_load(g.dir, g.ctx_len, g.ctx.precision, err, sizeof err))) { efile = g.dir; goto fail; }
        g.info = mg_decoder_get_info(g.dec);
        g.n_vocab = g.info->vocab;
        if (g.tok && mg_tokenizer_vocab_size(g.tok) < g.n_vocab) g.n_vocab = mg_tokenizer_vocab_size(g.tok);
        mg_info(&cli, "%s: %s decoder, hidden %d, context %lld, %lld output ids; prompt rows %s; "
                "%d thread(s)", g.dir, g.info->model_type, g.info->hidden, (long long)g.info->max_ctx,
                (long long)g.n_vocab, g.info->backend, cli.threads);
        mg_cli_progress_begin(&cli, "prompts", in ? 0 : (uint64_t)g.n_tsv);
        if (in) {
            if (run_stream(&g, in, err, sizeof err) < 0) { efile = in; goto fail; }
        } else if (g.n_tsv && !g.prompt_ids) {
            for (int i = 0; i < g.n_tsv; i++) {
                job jb = { g.tsv_id[i], g.tsv_text[i], NULL, 0 };
                char e2[600];
                if (run_job(&g, &jb, e2, sizeof e2) < 0) {
                    mg_seterr(err, sizeof err, "%s: %s", jb.id, e2);
                    efile = g.prompts_tsv;
                    goto fail;
                }
            }
        } else {
            job jb = { "prompt", g.prompt_ids ? NULL : g.prompt ? g.prompt : "", NULL, 0 };
            if (run_job(&g, &jb, err, sizeof err) < 0) { efile = pfile; goto fail; }
        }
        if (g.dump) {
            if (g.n_prompts != 1) { mg_seterr(err, sizeof err, "--dump-logits takes one prompt"); efile = g.dump; goto fail; }
            if (write_dump(&g, err, sizeof err) < 0) { efile = g.dump; goto fail; }
        }
    }
    if (fclose(g.out) != 0) { g.out = NULL; mg_error(&cli, NULL, "out of memory"); goto out; }
    g.out = NULL;
    /* Everything succeeded: now write the output. */
    if (!(of = mg_ofile_open(cli.output, NULL, err, sizeof err))) { mg_error(&cli, cli.output, "%s", err); goto out; }
    int ok = fwrite(g.out_buf, 1, g.out_len, mg_ofile_fp(of)) == g.out_len;
    if (mg_ofile_close(of, ok, err, sizeof err) < 0) { mg_error(&cli, cli.output, "%s", err); goto out; }
    if (strcmp(cli.output, "-") == 0 && mg_close_stdout(&cli) < 0) goto out;
    ret = 0;
    goto out;
fail:
    mg_error(&cli, efile, "%s", err);
out:
    if (g.out) fclose(g.out);
    free(g.out_buf);
    free(g.prompt_buf);
    for (int i = 0; i < g.n_tsv; i++) { free(g.tsv_id[i]); free(g.tsv_text[i]); }
    free(g.tsv_id); free(g.tsv_text);
    for (int i = 0; i < g.n_choices; i++) free(g.choices[i]);
    free(g.choices);
    free(g.stops);
    free(g.dump_rows);
    mg_decoder_free(g.dec);
    if (g.tok) mg_tokenizer_free(g.tok);
    free(lo);
    mg_cli_free(&cli);
    return ret;
}
