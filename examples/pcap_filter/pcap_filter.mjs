// pcap_filter.mjs: write a small capture, then filter it three ways: a tcpdump expression compiled straight to
// eBPF, tcpdump's own classic BPF for the same expression (as `tcpdump -ddd` prints it), and by hand.
// Run from the repository root after `npm install`: node examples/pcap_filter/pcap_filter.mjs
import { classicToEbpf, compileFilter, encodePcap, parseClassic, readCapture, Runtime } from 'ebpf-wasm';

// Ethernet + IPv4 + TCP (or UDP) frames to port `dport`; the last one truncated by the capture before its ports.
function frame(proto, dport) {
  const f = Buffer.alloc(14 + 20 + 20);
  f.writeUInt16BE(0x0800, 12); // IPv4
  f[14] = 0x45; // version 4, 20-byte header
  f.writeUInt16BE(40, 16); // total length
  f[23] = proto; // 6 = TCP, 17 = UDP
  Buffer.from([10, 0, 0, 1]).copy(f, 26);
  Buffer.from([10, 0, 0, 2]).copy(f, 30);
  f.writeUInt16BE(40000, 34);
  f.writeUInt16BE(dport, 36);
  return f;
}
const packets = [frame(6, 80), frame(17, 80), frame(6, 443), frame(6, 80)];
const capture = encodePcap(
  packets.map((data, i) => ({ data: i === 3 ? data.subarray(0, 36) : data, origLen: data.length, timestampNs: BigInt(i) * 1000n })),
  { linkType: 1 },
);

// `tcpdump -ddd 'tcp dst port 80'`, one instruction a line after the count.
const ddd = '16,40 0 0 12,21 0 4 34525,48 0 0 20,21 0 11 6,40 0 0 56,21 8 9 80,21 0 8 2048,48 0 0 23,21 0 6 6,40 0 0 20,69 4 0 8191,177 0 0 14,72 0 0 16,21 0 1 80,6 0 0 262144,6 0 0 0';

const rt = new Runtime();
const expression = await rt.load(compileFilter('tcp dst port 80', { length: 'wire' }), { engine: 'jit', verify: 'strict' });
const classic = await rt.load(classicToEbpf(parseClassic(ddd), { length: 'wire' }), { engine: 'jit', verify: 'strict' });

for await (const p of readCapture(capture)) {
  const a = expression.runPacket(p.data, p.originalLength) !== 0;
  const b = classic.runPacket(p.data, p.originalLength) !== 0;
  console.log(`packet ${p.index} (${p.capturedLength} of ${p.originalLength} bytes): expression ${a ? 'match' : '-'}, tcpdump's program ${b ? 'match' : '-'}`);
}
