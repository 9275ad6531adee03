// ringbuf_logger.mjs: the program logs every TCP SYN into a ring buffer; Node consumes the records.
// Run from the repository root after `npm install`: node examples/ringbuf_logger/ringbuf_logger.mjs
import { loadObject } from 'ebpf-wasm';

const obj = await loadObject(new URL('./ringbuf_logger.o', import.meta.url).pathname);
const program = obj.program('xdp_log_syn');
const events = obj.map('events');

const tcp = (src, dport, flags) => {
  const f = Buffer.alloc(54);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f[23] = 6;
  Buffer.from(src.split('.').map(Number)).copy(f, 26);
  f.writeUInt16BE(dport, 36);
  f[46] = 0x50;
  f[47] = flags;
  return f;
};
program.runBatch([tcp('10.0.0.1', 22, 0x02), tcp('10.0.0.2', 80, 0x12), tcp('10.0.0.3', 443, 0x02)]);
// struct syn_event { u32 saddr, daddr; u16 sport, dport; u32 length; }
for (const r of events.poll()) console.log(`SYN from ${[...r.subarray(0, 4)].join('.')} to port ${r.readUInt16LE(10)} (${r.readUInt32LE(12)} bytes)`);
