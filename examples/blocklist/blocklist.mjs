// blocklist.mjs: load the XDP blocklist, block a few sources while a stream of frames flows, print counters.
// Run from the repository root after `npm install`: node examples/blocklist/blocklist.mjs
import { loadObject, XDP_DROP } from 'ebpf-wasm';

const obj = await loadObject(new URL('./blocklist.o', import.meta.url).pathname);
const filter = obj.program('xdp_blocklist');
const blocklist = obj.map('blocklist');

const ip = (s) => Buffer.from(s.split('.').map(Number));
function frame(src) {
  const f = Buffer.alloc(14 + 20 + 8);
  f.writeUInt16BE(0x0800, 12); // IPv4
  f[14] = 0x45;
  f[23] = 17; // UDP
  ip(src).copy(f, 26);
  return f;
}

const sources = ['192.0.2.1', '192.0.2.2', '198.51.100.7', '203.0.113.9'];
let dropped = 0;
for (let round = 0; round < 4; round++) {
  if (round === 1) blocklist.set(ip('192.0.2.1'), Buffer.alloc(8)); // block while traffic flows
  if (round === 2) blocklist.set(ip('198.51.100.7'), Buffer.alloc(8));
  if (round === 3) blocklist.delete(ip('192.0.2.1')); // and unblock
  const verdicts = filter.runBatch(Array.from({ length: 1000 }, (_, i) => frame(sources[i % sources.length])));
  dropped += verdicts.filter((v) => v === XDP_DROP).length;
}
console.log(`dropped ${dropped} of 4000 frames`);
for (const [key, value] of blocklist.entries()) console.log(`  ${[...key].join('.')}: ${value.readBigUInt64LE(0)} drops`);
