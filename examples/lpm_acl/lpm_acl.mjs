// lpm_acl.mjs: an ACL of IPv4 prefixes in an LPM trie; the longest matching prefix decides the action.
// Run from the repository root after `npm install`: node examples/lpm_acl/lpm_acl.mjs
import { loadObject, XDP_DROP, XDP_PASS, XDP_ACTION_NAMES } from 'ebpf-wasm';

const obj = await loadObject(new URL('./lpm_acl.o', import.meta.url).pathname);
const acl = obj.map('acl');
const program = obj.program('xdp_acl');

// Keys are struct { u32 prefixlen; u32 addr (network order) }, values the XDP action (u32).
const key = (cidr) => {
  const [addr, len] = cidr.split('/');
  return Buffer.concat([Buffer.from(Uint32Array.of(Number(len)).buffer), Buffer.from(addr.split('.').map(Number))]);
};
const action = (a) => Buffer.from(Uint32Array.of(a).buffer);
acl.set(key('10.0.0.0/8'), action(XDP_DROP));
acl.set(key('10.1.0.0/16'), action(XDP_PASS));
acl.set(key('10.1.2.3/32'), action(XDP_DROP));

const frame = (src) => {
  const f = Buffer.alloc(42);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  Buffer.from(src.split('.').map(Number)).copy(f, 26);
  return f;
};
for (const src of ['10.9.9.9', '10.1.7.7', '10.1.2.3', '192.168.1.1']) {
  console.log(`${src.padEnd(12)} -> ${XDP_ACTION_NAMES[program.run(frame(src))]}`);
}
