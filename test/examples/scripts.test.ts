/**
 * The Node scripts of examples/ run as a user would run them (`node examples/<name>/<name>.mjs`, importing the
 * built package by its name) and print what the programs computed.
 */

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../cli/cli.js';

function runExample(name: string): string {
  const r = spawnSync(process.execPath, [join(ROOT, 'examples', name, `${name}.mjs`)], { encoding: 'utf8', cwd: ROOT, timeout: 60_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

beforeAll(() => ensureBuilt());

describe('example scripts', () => {
  it('blocklist', () => {
    // 198.51.100.7 is blocked for rounds 2-3 (500 frames), 192.0.2.1 for rounds 1-2 then unblocked (its entry gone).
    expect(runExample('blocklist')).toBe('dropped 1000 of 4000 frames\n  198.51.100.7: 500 drops\n');
  });
  it('proto_counter', () => {
    expect(runExample('proto_counter')).toMatch(/^tcp   3000 .*\nudp   2000 .*\nicmp  1000 /);
  });
  it('lpm_acl', () => {
    expect(runExample('lpm_acl')).toBe('10.9.9.9     -> XDP_DROP\n10.1.7.7     -> XDP_PASS\n10.1.2.3     -> XDP_DROP\n192.168.1.1  -> XDP_PASS\n');
  });
  it('tailcall_pipeline', () => {
    expect(runExample('tailcall_pipeline')).toBe(
      'verdicts: XDP_PASS, XDP_PASS, XDP_PASS, XDP_DROP\nper class (other, tcp, udp, icmp): 0, 1, 1, 2\nbig ICMP without the act stage: XDP_PASS\n',
    );
  });
  it('ringbuf_logger', () => {
    expect(runExample('ringbuf_logger')).toBe('SYN from 10.0.0.1 to port 22 (54 bytes)\nSYN from 10.0.0.3 to port 443 (54 bytes)\n');
  });
  it('pcap_filter', () => {
    expect(runExample('pcap_filter')).toBe([
      'packet 0 (54 of 54 bytes): expression match, tcpdump\'s program match',
      'packet 1 (54 of 54 bytes): expression -, tcpdump\'s program -',
      'packet 2 (54 of 54 bytes): expression -, tcpdump\'s program -',
      'packet 3 (36 of 54 bytes): expression -, tcpdump\'s program -',
      '',
    ].join('\n'));
  });
  it('udp_filter', () => {
    expect(runExample('udp_filter')).toBe('received: hello\nreceived: world\nreceived: bye\npassed 3, dropped 1\n');
  });
});
