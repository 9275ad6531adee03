// tailcall_pipeline.mjs: parse -> classify -> act, chained by tail calls through the object's PROG_ARRAY;
// prints the per-class counters, then hot-swaps the last stage out and shows the pipeline falling through.
// Run from the repository root after `npm install`: node examples/tailcall_pipeline/tailcall_pipeline.mjs
import { loadObject, XDP_ACTION_NAMES } from 'ebpf-wasm';

const obj = await loadObject(new URL('./tailcall_pipeline.o', import.meta.url).pathname);
const parse = obj.program('parse');
const counts = obj.map('class_count').typed('u32', 'u64');

const frame = (protocol, size = 64) => {
  const f = Buffer.alloc(size);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f[23] = protocol;
  return f;
};
const verdicts = parse.runBatch([frame(6), frame(17), frame(1), frame(1, 1400)]);
console.log('verdicts:', [...verdicts].map((v) => XDP_ACTION_NAMES[v]).join(', '));
console.log('per class (other, tcp, udp, icmp):', [0, 1, 2, 3].map((c) => counts.get(c)).join(', '));

obj.runtime.setProgram(obj.map('stages'), 2, undefined); // hot swap: no action stage any more
console.log('big ICMP without the act stage:', XDP_ACTION_NAMES[parse.run(frame(1, 1400))]);
