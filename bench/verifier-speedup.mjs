// Verifier speedup: npm run build && node bench/verifier-speedup.mjs (results in bench/RESULTS.md).
// Verifier speedup: JIT with every access checked vs with the verifier's proofs, same process, interleaved.
import { readFileSync } from 'node:fs';
import { assemble, Runtime, loadObject } from '../dist/src/index.js';
const best = (f, reps = 9) => { const r = []; for (let i = 0; i < reps; i++) r.push(f()); return Math.min(...r); };
const rows = [];
for (const [name, size] of [['fnv1a', 1500], ['parse_headers', 54], ['bubble_sort', 256]]) {
  const program = assemble(readFileSync(new URL(`./programs/${name}.s`, import.meta.url), 'utf8'));
  const input = new Uint8Array(size).map((_, i) => (i * 37 + 11) & 255);
  const rt = new Runtime();
  const a = await rt.load(program, { engine: 'jit' });
  const b = await rt.load(program, { engine: 'jit', verify: 'permissive' });
  const time = (lp) => () => { const n = 5000; const t = process.hrtime.bigint(); for (let i = 0; i < n; i++) lp.run(input); return Number(process.hrtime.bigint() - t) / n; };
  for (let i = 0; i < 2000; i++) { a.run(input); b.run(input); }
  const r = []; for (let k = 0; k < 9; k++) r.push([time(a)(), time(b)()]);
  const ca = Math.min(...r.map((x) => x[0])), cb = Math.min(...r.map((x) => x[1]));
  rows.push([name, `${b.verified.proven.size}/${b.verified.accesses.size}`, ca, cb]);
}
const frames = Array.from({ length: 2000 }, (_, i) => { const f = new Uint8Array(64); f[12] = 8; f[14] = 0x45; f[23] = i % 3 ? 6 : 17; f[26] = 10; f[29] = i & 255; f[46] = 0x50; f[47] = i % 5 ? 0x10 : 0x02; return f; });
for (const [dir, prog] of [['blocklist', 'xdp_blocklist'], ['proto_counter', 'xdp_count_protocols'], ['lpm_acl', 'xdp_acl'], ['ringbuf_logger', 'xdp_log_syn']]) {
  const path = new URL(`../examples/${dir}/${dir}.o`, import.meta.url).pathname;
  const off = (await loadObject(path, { verify: 'off' })).program(prog);
  const strict = (await loadObject(path, { verify: 'strict' })).program(prog);
  for (let i = 0; i < 5; i++) { off.runBatch(frames); strict.runBatch(frames); }
  const time = (p) => () => { const t = process.hrtime.bigint(); p.runBatch(frames); return Number(process.hrtime.bigint() - t) / frames.length; };
  const r = []; for (let k = 0; k < 9; k++) r.push([time(off)(), time(strict)()]);
  rows.push([dir, `${strict.verified.proven.size}/${strict.verified.accesses.size}`, Math.min(...r.map((x) => x[0])), Math.min(...r.map((x) => x[1]))]);
}
console.log('| program | accesses proven | JIT, every access checked (ns/run) | JIT, proven accesses unchecked (ns/run) | ratio |');
console.log('|---|---|---|---|---|');
for (const [n, p, a, b] of rows) console.log(`| ${n} | ${p} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(a / b).toFixed(2)}x |`);
