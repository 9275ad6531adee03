// proto_counter.mjs: count packets per IPv4 protocol in a per-CPU array and print the totals.
// Run from the repository root after `npm install`: node examples/proto_counter/proto_counter.mjs
import { loadObject } from 'ebpf-wasm';

const obj = await loadObject(new URL('./proto_counter.o', import.meta.url).pathname);
const program = obj.program('xdp_count_protocols');
const counts = obj.map('proto_count').typed('u32', 'u64'); // per-CPU: an array of counters per key

const frame = (protocol) => {
  const f = Buffer.alloc(60);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f[23] = protocol;
  return f;
};
const mix = [6, 6, 6, 17, 17, 1];
program.runBatch(Array.from({ length: 6000 }, (_, i) => frame(mix[i % mix.length])));
for (const [name, proto] of [['tcp', 6], ['udp', 17], ['icmp', 1]]) {
  const perCpu = counts.get(proto);
  console.log(`${name.padEnd(5)} ${perCpu.reduce((a, b) => a + b, 0n)} (per CPU: ${perCpu.join(', ')})`);
}
