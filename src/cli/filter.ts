/**
 * `ebpf-wasm filter`: runs a packet filter over a capture file and prints how many packets matched (or, with
 * `--json`, `{"packets": N, "matched": M, "indices": [...]}`, 0-based indices in file order), optionally writing
 * the matched packets to a pcap file.
 *
 * The filter is one of:
 * - `--cbpf TEXT`: a classic BPF program as tcpdump prints it (`-ddd`: a count line then `code jt jf k` lines,
 *   newline- or comma-separated; `-d` and `-dd` are read too), converted to eBPF (src/cbpf/convert.ts). It
 *   matches when it returns non-zero (the number of bytes to accept);
 * - `--prog FILE.o` with `--section S` and/or `--program NAME`: an eBPF program from a clang-built object, run
 *   with its type's context (runtime/object.ts). An XDP program matches when it returns XDP_PASS, XDP_TX or
 *   XDP_REDIRECT; any other type (socket filter, tc) when it returns non-zero;
 * - an EXPRESSION (tcpdump syntax), compiled by `compileFilter` for each link type met in the file.
 *
 * Packets are read as a stream (src/pcap/reader.ts) and run in batches through `LoadedProgram.runBatch` (one copy
 * per batch into the runtime; the JIT enters WebAssembly once per batch). Classic programs and expressions see
 * the captured bytes with r2 = the captured length and r3 = the wire length (the record's original length), and
 * are compiled to read `len` from r3, so `len`, `greater` and `less` decide as in tcpdump on truncated packets. A classic program or an object program is written for one link type: the file's first
 * packet fixes it, and a packet of another link type is an error. A damaged file: the packets before the damage
 * are counted (and written), then the PcapError is reported.
 *
 * Not here: the classic converter (src/cbpf), the expression compiler (src/pcap-filter), capture I/O (src/pcap).
 */

import { statSync } from 'node:fs';
import { classicToEbpf } from '../cbpf/convert.js';
import { parseClassic } from '../cbpf/decode.js';
import type { Program } from '../isa/program.js';
import { PcapError } from '../pcap/errors.js';
import { readCaptureBatches, type CaptureParser, type CapturePacket } from '../pcap/reader.js';
import { openPcapFile, type PcapWriter } from '../pcap/writer.js';
import type { EngineName } from '../../runtime/engines.js';
import { Runtime, type LoadedProgram } from '../../runtime/runtime.js';

/** Options of {@link filterCommand}. */
export interface FilterCommandOptions {
  /** The capture to read (pcap or pcapng). */
  readonly read: string;
  /** Write the matched packets here (pcap). */
  readonly write?: string;
  /** Classic BPF text (tcpdump -ddd). */
  readonly cbpf?: string;
  /** An ELF object, with `section` and/or `program` choosing the program. */
  readonly prog?: string;
  readonly section?: string;
  readonly program?: string;
  /** A tcpdump expression. */
  readonly expression?: string;
  readonly engine: EngineName;
  readonly json: boolean;
  /** Packets per batch. Default 4096. */
  readonly batchSize?: number;
  /** Where the progress bar goes; drawn only when it is a TTY and the file is large. Default process.stderr. */
  readonly progress?: NodeJS.WriteStream;
}

/** The outcome of a filter run. */
export interface FilterResult {
  readonly packets: number;
  readonly matched: number;
  /** 0-based indices of the matched packets, in file order. */
  readonly indices: number[];
}

/** A filter ready for one link type. */
interface Matcher {
  /** Verdicts of the packets `data[offsets[i]..offsets[i+1])`, whose wire lengths are `wire[i]`. */
  batch(data: Uint8Array, offsets: Uint32Array, wire: Uint32Array, count: number): Uint32Array;
  matches(verdict: number): boolean;
}

const BATCH = 4096;
const PROGRESS_MIN_BYTES = 32 << 20;

/** Runs the command; returns what goes to stdout. Throws (after writing what was matched) on a damaged file. */
export async function filterCommand(opts: FilterCommandOptions): Promise<string> {
  const chosen = [opts.cbpf !== undefined, opts.prog !== undefined, opts.expression !== undefined].filter(Boolean).length;
  if (chosen !== 1) throw new Error('give exactly one filter: --cbpf TEXT, --prog FILE.o (--section S | --program NAME), or an EXPRESSION');
  const matcherFor = await matcherFactory(opts);
  const result = await runOverCapture(opts, matcherFor);
  if (opts.json) return JSON.stringify({ packets: result.packets, matched: result.matched, indices: result.indices }) + '\n';
  return `${result.matched} of ${result.packets} packets matched\n`;
}

/** `r0 != 0` as a match. */
const nonZero = (v: number): boolean => v !== 0;

/** The filter's matcher for a link type (cached per link type). */
async function matcherFactory(opts: FilterCommandOptions): Promise<(linkType: number) => Promise<Matcher>> {
  const runtime = new Runtime();
  const load = async (p: Program): Promise<Matcher> => programMatcher(await runtime.load(p, { engine: opts.engine, verify: 'strict' }));
  if (opts.cbpf !== undefined) {
    const m = await load(classicToEbpf(parseClassic(opts.cbpf), { length: 'wire' }));
    return singleLinkType(async () => m);
  }
  if (opts.prog !== undefined) {
    const m = await objectMatcher(opts, runtime);
    return singleLinkType(async () => m);
  }
  const { compileFilter } = await import('../pcap-filter/index.js');
  const expression = opts.expression!;
  const cache = new Map<number, Promise<Matcher>>();
  return (linkType) => {
    let m = cache.get(linkType);
    if (m === undefined) {
      m = load(compileFilter(expression, { linkType, length: 'wire' }));
      cache.set(linkType, m);
    }
    return m;
  };
}

/** A matcher for the first link type met; any other link type is an error. */
function singleLinkType(make: () => Promise<Matcher>): (linkType: number) => Promise<Matcher> {
  let first: number | undefined;
  return async (linkType) => {
    first ??= linkType;
    if (linkType !== first) {
      throw new Error(`the capture mixes link types ${first} and ${linkType}; a classic or object program is written for one (an expression is compiled per link type)`);
    }
    return make();
  };
}

function programMatcher(lp: LoadedProgram): Matcher {
  return {
    batch: (data, offsets, wire, count) => lp.runBatch({ data, offsets: offsets.subarray(0, count + 1), wireLengths: wire }),
    matches: nonZero,
  };
}

async function objectMatcher(opts: FilterCommandOptions, runtime: Runtime): Promise<Matcher> {
  const { readFileSync } = await import('node:fs');
  const { loadElf, selectProgram } = await import('../elf/loader.js');
  const { loadObject, XDP_PASS, XDP_TX, XDP_REDIRECT } = await import('../../runtime/object.js');
  const bytes = new Uint8Array(readFileSync(opts.prog!));
  const chosen = selectProgram(loadElf(bytes), { program: opts.program, section: opts.section });
  const obj = await loadObject(bytes, { engine: opts.engine, verify: 'strict', runtime, programs: [chosen.name] });
  const prog = obj.program(chosen.name);
  const pass = new Set([XDP_PASS, XDP_TX, XDP_REDIRECT]);
  return {
    batch: (data, offsets, wire, count) => prog.runBatch({ data, offsets: offsets.subarray(0, count + 1), wireLengths: wire }),
    matches: prog.type === 'xdp' ? (v) => pass.has(v) : nonZero,
  };
}

/** Packets gathered for one batch (all of one link type). */
class Batch {
  data = new Uint8Array(1 << 20);
  offsets = new Uint32Array(BATCH + 1);
  wire = new Uint32Array(BATCH);
  packets: CapturePacket[] = [];
  linkType = -1;
  private used = 0;

  add(p: CapturePacket): void {
    if (this.used + p.data.length > this.data.length) {
      const next = new Uint8Array(Math.max(2 * this.data.length, this.used + p.data.length));
      next.set(this.data.subarray(0, this.used));
      this.data = next;
    }
    this.data.set(p.data, this.used);
    this.offsets[this.packets.length] = this.used;
    this.used += p.data.length;
    this.offsets[this.packets.length + 1] = this.used;
    this.wire[this.packets.length] = Math.max(p.originalLength, p.data.length);
    this.packets.push(p);
    this.linkType = p.linkType;
  }

  clear(): void {
    this.packets = [];
    this.used = 0;
  }
}

async function runOverCapture(opts: FilterCommandOptions, matcherFor: (linkType: number) => Promise<Matcher>): Promise<FilterResult> {
  const batchSize = Math.max(1, Math.min(opts.batchSize ?? BATCH, BATCH));
  const result = { packets: 0, matched: 0, indices: [] as number[] };
  let parser: CaptureParser | undefined;
  let writer: (PcapWriter & { close(): Promise<void> }) | undefined;
  let writerLinkType = -1;
  const progress = progressBar(opts);
  const batch = new Batch();

  const flush = async (): Promise<void> => {
    if (batch.packets.length === 0) return;
    const m = await matcherFor(batch.linkType);
    const verdicts = m.batch(batch.data, batch.offsets, batch.wire, batch.packets.length);
    for (let i = 0; i < batch.packets.length; i++) {
      const p = batch.packets[i];
      if (!m.matches(verdicts[i])) continue;
      result.matched++;
      if (opts.json) result.indices.push(p.index);
      if (opts.write !== undefined) {
        if (writer === undefined) {
          writerLinkType = p.linkType;
          writer = openPcapFile(opts.write, { linkType: p.linkType, nanosecond: parser?.subMicrosecond ?? false });
        } else if (p.linkType !== writerLinkType) {
          throw new Error(`cannot write packet ${p.index} (link type ${p.linkType}) to a pcap file of link type ${writerLinkType}`);
        }
        await writer.write({ data: p.data, timestampNs: p.timestampNs, origLen: Math.max(p.originalLength, p.data.length) });
      }
    }
    result.packets += batch.packets.length;
    batch.clear();
    progress?.(parser?.offset ?? 0, result.packets);
  };

  let damage: PcapError | undefined;
  try {
    for await (const packets of readCaptureBatches(opts.read, { parser: (x) => (parser = x) })) {
      for (const p of packets) {
        if (batch.packets.length > 0 && (p.linkType !== batch.linkType || batch.packets.length >= batchSize)) await flush();
        batch.add(p);
      }
    }
  } catch (e) {
    if (!(e instanceof PcapError)) throw e;
    damage = e;
  }
  await flush();
  progress?.(-1, result.packets);
  if (opts.write !== undefined) {
    writer ??= openPcapFile(opts.write, { linkType: parser?.interfaces[0]?.linkType ?? 1 });
    await writer.close();
  }
  if (damage) throw new PcapError(damage.code, `${damage.detail} (after ${result.packets} packets, ${result.matched} matched)`, damage.offset);
  return result;
}

/** A progress bar on a TTY for files of 32 MiB or more: `(bytesRead, packets)`, `bytesRead = -1` to finish. */
function progressBar(opts: FilterCommandOptions): ((at: number, packets: number) => void) | undefined {
  const out = opts.progress ?? process.stderr;
  if (!out.isTTY) return undefined;
  const total = statSync(opts.read).size;
  if (total < PROGRESS_MIN_BYTES) return undefined;
  let last = 0;
  return (at, packets) => {
    const now = Date.now();
    if (at >= 0 && now - last < 100) return;
    last = now;
    if (at < 0) {
      out.write('\r\x1b[K');
      return;
    }
    const width = 30, frac = Math.min(1, at / total), done = Math.round(frac * width);
    out.write(`\r[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${packets} packets`);
  };
}
