#!/usr/bin/env node
/**
 * The `ebpf-wasm` command-line tool.
 *
 *     ebpf-wasm asm FILE.s [-o FILE.bin]               assemble (hex to stdout without -o)
 *     ebpf-wasm disasm FILE                             disassemble bytecode, hex, assembly or a .data file
 *     ebpf-wasm run FILE [--mem HEX] [--engine E]       run once and print r0
 *     ebpf-wasm run FILE --trace                        step through it: one line per instruction executed
 *     ebpf-wasm run FILE --engine interp,jit|--compare  run on several engines and compare r0 and memory
 *     ebpf-wasm bench FILE [--mem HEX] [--engines ...]  time a program on several engines
 *     ebpf-wasm compile FILE [--emit-wat|--emit-wasm]   translate to WebAssembly with the JIT
 *     ebpf-wasm verify FILE [--type T] [--mode M] [--log]  prove the program safe (exit 1 and why, when not)
 *     ebpf-wasm conformance [--engine E]                run the bpf_conformance suite in process
 *     ebpf-wasm conformance-plugin [MEM_HEX] [--jit]    the bpf_conformance runner's plugin protocol
 *     ebpf-wasm demo                                    the main job (`npm start`)
 *
 * Errors go to stderr as `error: pc 3: ...` with exit code 1; results go to stdout.
 *
 * This file only wires commands to library calls; the CLI and `src/index.ts` are the two places allowed to
 * reach into runtime/ (they sit on top of every layer). The conformance plugin is dispatched before commander
 * is even loaded, to keep its per-test start-up short.
 */

import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
    dir = dirname(dir);
  }
  return 'unknown';
}

/** Prints an error the CLI way and returns the exit code. */
function report(e: unknown): number {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`error: ${msg}\n`);
  if (e instanceof Error && e.name === 'InternalError') process.stderr.write((e.stack ?? '') + '\n');
  return 1;
}

async function main(argv: string[]): Promise<number> {
  if (argv[2] === 'conformance-plugin') {
    const { runPlugin } = await import('./plugin.js');
    return runPlugin(argv.slice(3));
  }
  const { Command, Option, InvalidArgumentError } = await import('commander');
  const { readProgramFile, parseMemOption } = await import('./input.js');

  const parseIntOption = (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
    return n;
  };
  const engineOption = () => new Option('--engine <engine>', 'engine to run on').choices(['interp', 'jit', 'step']).default('interp');

  let exitCode = 0;
  const program = new Command()
    .name('ebpf-wasm')
    .description('eBPF toolchain and runtime for Node.js: assemble, disassemble, run, benchmark')
    .version(packageVersion())
    .showHelpAfterError();

  program
    .command('asm')
    .description('assemble eBPF assembly into bytecode')
    .argument('<file>', 'assembly source (bpf_conformance / uBPF syntax)')
    .option('-o, --output <file>', 'write raw bytecode here (default: hex on stdout)')
    .action(async (file: string, opts: { output?: string }) => {
      const { encode, toHex } = await import('../isa/encode.js');
      const { assemble } = await import('../isa/asm.js');
      const bytes = encode(assemble(readFileSync(file, 'utf8')));
      if (opts.output) writeFileSync(opts.output, bytes);
      else process.stdout.write(toHex(bytes) + '\n');
    });

  program
    .command('disasm')
    .description('disassemble a program (raw bytecode, hex text, assembly or a .data file)')
    .argument('<file>')
    .option('--pcs', 'prefix each instruction with its slot number')
    .option('--program <name>', 'ELF objects: the program (C function name)')
    .option('--section <name>', 'ELF objects: the program\'s section, when it holds only one')
    .action(async (file: string, opts: { pcs?: boolean; program?: string; section?: string }) => {
      const { disassemble } = await import('../isa/disasm.js');
      const { program: p } = readProgramFile(file, { program: opts.program, section: opts.section });
      process.stdout.write(disassemble(p, { pcs: opts.pcs ?? false }));
    });

  program
    .command('run')
    .description('run a program once and print r0 (raw programs: r1 = pointer to a copy of --mem, r2 = its length; ELF programs: run on --packet with their context)')
    .argument('<file>')
    .option('--mem <hex>', 'input memory as hex bytes (default: the .data file\'s, else none)')
    .option('--packet <hex>', 'ELF objects: the packet, as hex bytes (default: empty)')
    .option('--program <name>', 'ELF objects: the program (C function name)')
    .option('--section <name>', 'ELF objects: the program\'s section, when it holds only one')
    .addOption(new Option('--verify <mode>', 'ELF objects: verification before running').choices(['strict', 'permissive', 'off']).default('strict'))
    .option('--engine <engines>', 'engine to run on (interp, jit, step); several, comma-separated, to compare them (default: interp)')
    .option('--compare', 'run on every engine (interp, jit, step) and compare r0 and the memory written')
    .option('--trace', 'run on the stepper and print each executed instruction: pc, disassembly, registers changed, memory written, helper calls')
    .option('--trace-limit <n>', 'with --trace: print at most n instructions (the run goes on untraced)', parseIntOption, 10_000)
    .option('--budget <n>', 'stop after n taken backward jumps plus local calls', parseIntOption)
    .option('--json', 'print {"result": "0x...", "mem": "hex"}; for ELF objects {"result": "0x...", "maps": {NAME: [[keyHex, valueHex], ...]}}; comparing, {"engines": {...}, "agree": bool}')
    .action(async (file: string, opts: { mem?: string; packet?: string; program?: string; section?: string; verify: 'strict' | 'permissive' | 'off'; engine?: string; compare?: boolean; trace?: boolean; traceLimit: number; budget?: number; json?: boolean }) => {
      const { runOnce, traceRun, compareRun, formatResult, parseEngineList } = await import('./run.js');
      const { ALL_ENGINES } = await import('../../runtime/engines.js');
      const input = readProgramFile(file, { program: opts.program, section: opts.section });
      const engines = opts.compare ? [...ALL_ENGINES] : parseEngineList(opts.engine ?? 'interp');
      const write = (s: string): void => void process.stdout.write(s);
      if (opts.trace) {
        if (opts.compare || engines.length > 1 || (opts.engine !== undefined && engines[0] !== 'step')) {
          throw new Error('--trace runs on the stepper: it does not combine with --compare or another --engine');
        }
        await traceRun(file, input, opts, opts.traceLimit, write);
        return;
      }
      if (engines.length > 1) {
        exitCode = await compareRun(file, input, engines, opts, write);
        return;
      }
      write(formatResult(await runOnce(file, input, engines[0], opts), opts.json ?? false));
    });

  program
    .command('bench')
    .description('time a program on one or more engines (median ns per run, after warm-up); ELF programs run on --packet with their context')
    .argument('<file>')
    .option('--mem <hex>', 'input memory as hex bytes')
    .option('--packet <hex>', 'ELF objects: the packet, as hex bytes (default: empty)')
    .option('--program <name>', 'ELF objects: the program (C function name)')
    .option('--section <name>', 'ELF objects: the program\'s section, when it holds only one')
    .option('--engines <list>', 'comma-separated engines', 'interp')
    .option('--json', 'print {"engines": {NAME: {"nsPerRun": N, "runs": N}}, "result": "0x..."}')
    .option('--quick', 'a short warm-up and fewer batches: rougher figures, in about a second')
    .action(async (file: string, opts: { mem?: string; packet?: string; program?: string; section?: string; engines: string; json?: boolean; quick?: boolean }) => {
      const { benchCommand } = await import('./bench.js');
      const input = readProgramFile(file, { program: opts.program, section: opts.section });
      if (input.elf) {
        const packet = parseMemOption(opts.packet ?? opts.mem) ?? new Uint8Array(0);
        process.stdout.write(await benchCommand({ bytes: readFileSync(file), name: input.elf.program.name }, packet, opts.engines, opts.json ?? false, opts.quick));
        return;
      }
      const mem = parseMemOption(opts.mem) ?? input.mem ?? new Uint8Array(0);
      process.stdout.write(await benchCommand(input.program, mem, opts.engines, opts.json ?? false, opts.quick));
    });

  program
    .command('compile')
    .description('translate a program to WebAssembly with the JIT (text with --emit-wat, a binary with --emit-wasm)')
    .argument('<file>')
    .option('--emit-wat', 'print the module as WebAssembly text (the default)')
    .option('--emit-wasm', 'emit the binary module (to -o, or stdout when it is not a terminal)')
    .option('-o, --output <file>', 'write the output here')
    .option('--budget', 'compile the variant that counts back-edges and calls against a budget')
    .option('--stats', 'print translation statistics to stderr')
    .action(async (file: string, opts: { emitWat?: boolean; emitWasm?: boolean; output?: string; budget?: boolean; stats?: boolean }) => {
      const { translate } = await import('../../codegen/compile.js');
      const input = readProgramFile(file);
      const wantWasm = opts.emitWasm === true && opts.emitWat !== true;
      const result = await translate(input.program, { wat: !wantWasm, budget: opts.budget ?? false });
      const out: string | Uint8Array = wantWasm ? result.wasm : result.wat!;
      if (wantWasm && !opts.output && process.stdout.isTTY) {
        throw new Error('refusing to write a binary module to a terminal: use -o FILE or redirect stdout');
      }
      if (opts.output) writeFileSync(opts.output, out);
      else process.stdout.write(out);
      if (opts.stats) process.stderr.write(JSON.stringify(result.stats, null, 2) + '\n');
    });

  program
    .command('conformance')
    .description('run the bpf_conformance suite in this process and print a summary')
    .addOption(engineOption())
    .option('--dir <dir>', 'suite directory (holding tests/ and vectors.json)')
    .option('-v, --verbose', 'print every test, not only failures')
    .action(async (opts: { engine: 'interp' | 'jit' | 'step'; dir?: string; verbose?: boolean }) => {
      const { runSuite } = await import('./suite.js');
      exitCode = await runSuite(opts.engine, opts.dir, opts.verbose ?? false);
    });

  program
    .command('demo')
    .description('the main job: run the example filter over generated packets on every engine')
    .option('--packets <n>', 'number of packets', parseIntOption)
    .action(async (opts: { packets?: number }) => {
      const { runDemo } = await import('./demo.js');
      await runDemo({ packets: opts.packets });
    });

  program
    .command('verify')
    .description('verify a program: prove its memory accesses in bounds and its loops bounded (exit 1 with the reason when rejected)')
    .argument('<file>')
    .option('--program <name>', 'ELF objects: the program (C function name)')
    .option('--section <name>', 'ELF objects: the program\'s section, when it holds only one')
    .addOption(new Option('--type <type>', 'program type (default: from the ELF section, else raw)').choices(['xdp', 'socket', 'tc', 'raw']))
    .addOption(new Option('--mode <mode>', 'strict: reject what cannot be proven; permissive: check it at run time').choices(['strict', 'permissive']).default('strict'))
    .option('--log', 'print the program with the state proven before each instruction')
    .action(async (file: string, opts: { program?: string; section?: string; type?: 'xdp' | 'socket' | 'tc' | 'raw'; mode: 'strict' | 'permissive'; log?: boolean }) => {
      const { verify } = await import('../verifier/verify.js');
      const { renderLog } = await import('../verifier/log.js');
      const { programTypeOfSection } = await import('../verifier/context.js');
      const { VerifierError } = await import('../errors.js');
      const input = readProgramFile(file, { program: opts.program, section: opts.section });
      const elf = input.elf;
      const options = {
        mode: opts.mode,
        type: opts.type ?? (elf !== undefined ? programTypeOfSection(elf.program.section) : 'raw'),
        maps: elf?.object.maps,
        lineInfo: elf?.program.lineInfo,
      } as const;
      try {
        const v = verify(input.program, options);
        if (opts.log) process.stdout.write(renderLog(v));
        else {
          const loops = v.terminates ? 'every loop terminates' : 'termination not proven: runs need a budget';
          process.stdout.write(`accepted (${v.type}, ${v.mode}): ${v.proven.size} of ${v.accesses.size} memory accesses proven, ${loops}\n`);
        }
      } catch (e) {
        if (!(e instanceof VerifierError)) throw e;
        if (opts.log && opts.mode === 'strict') {
          // Show what was proven, as far as permissive mode gets, before the reason for the rejection.
          try {
            process.stdout.write(renderLog(verify(input.program, { ...options, mode: 'permissive' })));
          } catch {
            // rejected in permissive mode too: the error says why
          }
        }
        process.stderr.write(e.message + '\n');
        exitCode = 1;
      }
    });

  program
    .command('filter')
    .description('count (or write) the packets of a pcap/pcapng file a filter matches: a tcpdump expression, --cbpf TEXT (tcpdump -ddd) or --prog FILE.o')
    .argument('[expression...]', 'a tcpdump filter expression')
    .requiredOption('-r, --read <file>', 'capture to read (pcap or pcapng)')
    .option('-w, --write <file>', 'write the matched packets to this pcap file')
    .option('--cbpf <text>', 'classic BPF as `tcpdump -ddd` prints it (newline- or comma-separated)')
    .option('--prog <file>', 'an eBPF object: XDP programs match on XDP_PASS/TX/REDIRECT, others on non-zero')
    .option('--section <name>', 'with --prog: the program\'s section')
    .option('--program <name>', 'with --prog: the program (C function name)')
    .addOption(new Option('--engine <engine>', 'engine to run on').choices(['interp', 'jit']).default('jit'))
    .option('--json', 'print {"packets": N, "matched": M, "indices": [...]}')
    .action(async (words: string[], opts: { read: string; write?: string; cbpf?: string; prog?: string; section?: string; program?: string; engine: 'interp' | 'jit'; json?: boolean }) => {
      const { filterCommand } = await import('./filter.js');
      const expression = words.length > 0 ? words.join(' ') : undefined;
      process.stdout.write(await filterCommand({ ...opts, expression, json: opts.json ?? false }));
    });

  program.command('conformance-plugin').description('speak the bpf_conformance runner\'s plugin protocol: [MEM_HEX] [--interpret|--jit|--step], program hex on stdin');

  try {
    await program.parseAsync(argv);
  } catch (e) {
    return report(e);
  }
  return exitCode;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = report(e);
  },
);
