// Reference for tests/tokenizer/hf_components.sh: Hugging Face tokenizers (the Rust
// library through its Node binding, npm package `tokenizers`).
// Usage: node hf_ref.js TOKENIZER.json MODE IN.json > OUT.jsonl
//   encode       IN: array of strings → one JSON id array per line (no BOS added)
//   decode       IN: array of id arrays → one JSON string per line
//   decode-skip  the same with skip_special_tokens
const fs = require("fs");
const { Tokenizer } = require("tokenizers");
const [file, mode, input] = process.argv.slice(2);
const tok = Tokenizer.fromFile(file);
const data = JSON.parse(fs.readFileSync(input, "utf8"));
(async () => {
  const out = [];
  for (const x of data) {
    if (mode === "encode") {
      const e = await tok.encode(x, null, { addSpecialTokens: false });
      out.push(JSON.stringify(Array.from(e.getIds())));
    } else {
      out.push(JSON.stringify(await tok.decode(x, mode === "decode-skip")));
    }
  }
  process.stdout.write(out.join("\n") + "\n");
})().catch((e) => { console.error(String(e)); process.exit(1); });
