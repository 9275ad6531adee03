// udp_filter.mjs: attach the socket filter to a UDP socket; dropped datagrams never reach 'message'.
// Run from the repository root after `npm install`: node examples/udp_filter/udp_filter.mjs
import { createSocket } from 'node:dgram';
import { attachFilter, loadObject } from 'ebpf-wasm';

const obj = await loadObject(new URL('./udp_filter.o', import.meta.url).pathname);
const server = createSocket('udp4');
const client = createSocket('udp4');
await new Promise((r) => server.bind(0, '127.0.0.1', r));
const filter = attachFilter(server, obj.program('udp_payload_filter'));
server.on('message', (msg) => {
  console.log(`received: ${msg}`);
  if (String(msg) === 'bye') {
    console.log(`passed ${filter.passed}, dropped ${filter.dropped}`);
    server.close();
    client.close();
  }
});
for (const text of ['hello', 'DROP this one', 'world', 'bye']) {
  await new Promise((r) => client.send(text, server.address().port, '127.0.0.1', r));
}
