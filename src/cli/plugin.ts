/**
 * `ebpf-wasm conformance-plugin`: the plugin protocol of the bpf_conformance runner.
 *
 *     PLUGIN [MEM_HEX] [plugin options...]       program hex on stdin, r0 in hex on stdout, exit 0
 *                                                 on failure: the error text on stdout, exit 1
 *
 * The runner passes the memory as argv[1] even when it is empty (an empty string), and all plugin options as
 * ONE argument (`"--jit"`, or `"--elf --jit"`, or `""`), so arguments are split on whitespace here and tokens
 * starting with `--` are options, everything else memory bytes. It reads stdout only, all lines concatenated:
 * exactly one line is printed.
 *
 * Start-up matters (one process per test): this path is reached before commander is loaded and imports neither
 * Binaryen nor wabt when interpreting.
 *
 * Not here: the `.data` format (the runner parses it and sends bytes).
 */

import { InvalidProgramError } from '../errors.js';
import { decode, parseHex } from '../isa/decode.js';
import { CONFORMANCE_HELPERS } from '../conformance/helpers.js';
import { Runtime } from '../../runtime/runtime.js';
import type { EngineName } from '../../runtime/engines.js';
import { formatR0 } from './input.js';

/** Parsed plugin arguments. */
export interface PluginArgs {
  readonly engine: EngineName;
  readonly mem: Uint8Array;
  readonly elf: boolean;
}

const USAGE = 'usage: ebpf-wasm conformance-plugin [MEM_HEX] [--interpret | --jit | --step] [--elf] < program-hex';

/** Splits the runner's arguments into memory bytes and options. */
export function parsePluginArgs(argv: readonly string[]): PluginArgs {
  let engine: EngineName = 'interp';
  let elf = false;
  const memTokens: string[] = [];
  for (const token of argv.flatMap((a) => a.split(/\s+/)).filter((t) => t !== '')) {
    if (token === '--interpret' || token === '--interp') engine = 'interp';
    else if (token === '--jit') engine = 'jit';
    else if (token === '--step') engine = 'step';
    else if (token === '--elf') elf = true;
    else if (token === '--help' || token === '-h') throw new InvalidProgramError('data_format', USAGE);
    else if (token.startsWith('-')) throw new InvalidProgramError('data_format', `unknown option ${token}; ${USAGE}`);
    else memTokens.push(token);
  }
  return { engine, elf, mem: memTokens.length ? parseHex(memTokens.join(' ')) : new Uint8Array(0) };
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Runs one conformance test as the runner expects. Returns the process exit code. */
export async function runPlugin(argv: readonly string[], out: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<number> {
  try {
    const args = parsePluginArgs(argv);
    const input = await readStdin();
    if (args.elf) {
      throw new InvalidProgramError('data_format', '--elf: ELF objects are not supported by this version of the plugin');
    }
    const program = decode(parseHex(input.toString('latin1')));
    const runtime = new Runtime();
    const loaded = await runtime.load(program, { engine: args.engine, helpers: CONFORMANCE_HELPERS });
    const { r0 } = loaded.run(args.mem);
    out(formatR0(r0));
    return 0;
  } catch (e) {
    out(e instanceof Error ? e.message.split('\n')[0] : String(e));
    return 1;
  }
}
