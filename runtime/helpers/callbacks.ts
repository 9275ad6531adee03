/**
 * Helpers that call back into the program: `bpf_loop` (181) and `bpf_for_each_map_elem` (164), identical on
 * every engine because they need nothing from one.
 *
 * Design (why not an engine capability): a callback is a subprogram of the program; instead of teaching each
 * engine to enter a function at a pc from a helper, the runtime prepares, at load time, one extra executable
 * per callback on the same engine: the program behind a two-slot TRAMPOLINE,
 *
 *     0: call local cb + 2        the callback, as a bpf-to-bpf call (its own frame, the depth limit)
 *     1: exit                     r0 = the callback's result
 *     2: ... the program, every slot shifted by 2 (jump and call targets adjusted; callback references
 *            are already constants)
 *
 * so a callback runs through the engines' ordinary, tested paths (calls, frames, checks, budget), and the two
 * engines give the same results by construction. Each call of the callback is a nested run with r1..r5 = its
 * arguments, on a stack of its own (the runtime's next free stack, zeroed once per helper call), with the
 * caller's stack added as a writable region: `ctx` usually points into it, as in Linux. Differences from
 * Linux, all on the safe side: the callback's call-depth limit counts from its own stack (it gets 7 levels,
 * whatever the caller's depth), and the run's budget (if any) applies to each callback run rather than to the
 * whole run (the total stays bounded: at most 2^23 callback runs). A tail call inside a callback faults.
 *
 * `lddw code_addr` (src 4) is resolved to {@link CALLBACK_TAG} << 32 | target slot: never an address (a
 * program that dereferences it faults), and the helpers map it back to the callback's executable. A value
 * that names no callback makes the helper return -EINVAL.
 *
 * Not here: the map iteration itself (maps/c, `bpf_map_iter`, `bpf_map_iter_value`), the verifier's checks of
 * callbacks (src/verifier/analyze.ts).
 */

import { ExecutionError } from '../../src/errors.js';
import { STACK_SIZE, type Executable, type ExecRequest, type HelperFn, type Region } from '../../src/exec.js';
import type { Insn, LddwInsn } from '../../src/isa/insn.js';
import { makeProgram, type Program } from '../../src/isa/program.js';
import { BPF_MAX_LOOPS } from '../../src/verifier/helpers.js';
import { ERRNO, type MapExports } from '../maps/abi.js';
import { requestOf } from './memory.js';

/** High 32 bits of a resolved callback reference. */
export const CALLBACK_TAG = 0xebf0b000;

/** Linux helper ids of the callback helpers. */
export const CALLBACK_HELPER = { for_each_map_elem: 164, loop: 181 } as const;

/** The slots `lddw code_addr` instructions of `program` point at, ascending. */
export function callbackTargets(program: Program): number[] {
  const out = new Set<number>();
  for (const insn of program.insns) if (insn.kind === 'lddw' && insn.src === 'code_addr') out.add(insn.pc + 1 + insn.imm);
  return [...out].sort((a, b) => a - b);
}

function imm64(insn: LddwInsn, value: bigint): LddwInsn {
  const v = BigInt.asUintN(64, value);
  return { ...insn, src: 'imm64', imm: Number(BigInt.asIntN(32, v)), next: Number(BigInt.asIntN(32, v >> 32n)), value: v };
}

/** `program` with every `lddw code_addr` replaced by the constant `CALLBACK_TAG << 32 | target` (same slots). */
export function resolveCallbacks(program: Program): Program {
  if (callbackTargets(program).length === 0) return program;
  return makeProgram(program.insns.map((insn): Insn => insn.kind === 'lddw' && insn.src === 'code_addr'
    ? imm64(insn, (BigInt(CALLBACK_TAG) << 32n) | BigInt(insn.pc + 1 + insn.imm))
    : insn));
}

/** The trampoline program that runs the callback at slot `target` of a resolved program (see the file header). */
export function trampoline(resolved: Program, target: number): Program {
  const shift = (insn: Insn): Insn => {
    const pc = insn.pc + 2;
    switch (insn.kind) {
      case 'ja':
      case 'jcond':
        return { ...insn, pc, target: insn.target + 2 };
      case 'call':
        return insn.target.kind === 'local' ? { ...insn, pc, target: { kind: 'local', pc: insn.target.pc + 2 } } : { ...insn, pc };
      default:
        return { ...insn, pc };
    }
  };
  return makeProgram([
    { kind: 'call', pc: 0, target: { kind: 'local', pc: target + 2 } },
    { kind: 'exit', pc: 1 },
    ...resolved.insns.map(shift),
  ]);
}

/** What the callback helpers need from the runtime. */
export interface CallbackHost {
  /** The callback executables of the program, by target slot. */
  readonly callbacks: ReadonlyMap<number, Executable>;
  acquireStack(): number;
  releaseStack(base: number): void;
  /** Bytes that stay allocated (key buffers for for_each_map_elem). */
  alloc(size: number, align: number): number;
  mapExports(): MapExports;
  /**
   * Runs `f` with tail calls refused (a callback cannot replace the program that called the helper: Linux's
   * verifier rejects tail calls in callbacks; here `bpf_tail_call` faults `helper_failed`).
   */
  withoutTailCalls<T>(f: () => T): T;
}

const neg = (errno: number): bigint => BigInt.asUintN(64, BigInt(-errno));

/** `bpf_loop` (181) and `bpf_for_each_map_elem` (164) over `host` (see the file header). */
export function callbackHelpers(host: CallbackHost): [number, HelperFn][] {
  const callbackOf = (fn: bigint): Executable | undefined =>
    fn >> 32n === BigInt(CALLBACK_TAG) ? host.callbacks.get(Number(fn & 0xffff_ffffn)) : undefined;

  /** Runs `body(call)` with `call(r1..r4)` running the callback on a fresh stack; releases the stack after. */
  function withCallback(req: ExecRequest, cb: Executable, extra: readonly Region[], body: (call: (args: bigint[]) => bigint) => bigint): bigint {
    const stackBase = host.acquireStack();
    try {
      new Uint8Array(req.memory.buffer, stackBase, STACK_SIZE).fill(0);
      const regions: Region[] = [...req.regions, ...extra, { start: req.stackBase, end: req.stackBase + STACK_SIZE, writable: true, name: 'caller stack' }];
      const sub = { ...req, stackBase, regions };
      return host.withoutTailCalls(() => body((args) => cb.run({ ...sub, args })));
    } catch (e) {
      // A fault inside the callback names the trampoline's slot: give the program's (two slots earlier).
      if (e instanceof ExecutionError && e.pc !== undefined && e.pc >= 2) throw new ExecutionError(e.code, e.detail, e.pc - 2, { cause: e });
      throw e;
    } finally {
      host.releaseStack(stackBase);
    }
  }

  // Key buffers for for_each_map_elem, one per stack (nested iterations use different stacks).
  const keyBufs = new Map<number, { addr: number; size: number }>();

  const loop: HelperFn = (nr, fn, ctx, flags, _5, env) => {
    const req = requestOf(env, 'bpf_loop');
    if (flags !== 0n) return neg(ERRNO.EINVAL);
    if (nr > BigInt(BPF_MAX_LOOPS)) return neg(ERRNO.E2BIG);
    const cb = callbackOf(fn);
    if (cb === undefined) return neg(ERRNO.EINVAL);
    const n = Number(nr);
    return withCallback(req, cb, [], (call) => {
      for (let i = 0; i < n; i++) {
        if (call([BigInt(i), ctx]) !== 0n) return BigInt(i + 1);
      }
      return BigInt(n);
    });
  };

  const forEach: HelperFn = (map, fn, ctx, flags, _5, env) => {
    const req = requestOf(env, 'bpf_for_each_map_elem');
    if (flags !== 0n) return neg(ERRNO.EINVAL);
    const cb = callbackOf(fn);
    if (cb === undefined) return neg(ERRNO.EINVAL);
    const ex = host.mapExports();
    const keySize = ex.map_key_size(map);
    if (keySize < 0) return BigInt.asUintN(64, BigInt(keySize));
    // The key is a copy the callback may read (Linux passes a pointer to the map's own key, read-only).
    let buf: { addr: number; size: number } | undefined;
    const stackKey = req.stackBase;
    buf = keyBufs.get(stackKey);
    if (buf === undefined || buf.size < keySize) {
      buf = { addr: host.alloc(Math.max(keySize, 8), 8), size: Math.max(keySize, 8) };
      keyBufs.set(stackKey, buf);
    }
    const keyRegion: Region = { start: buf.addr, end: buf.addr + keySize, writable: false, name: 'map key' };
    const key = BigInt(buf.addr);
    return withCallback(req, cb, [keyRegion], (call) => {
      let count = 0n;
      for (let pos = 0n; ;) {
        const i = ex.bpf_map_iter(map, pos, key);
        if (i < 0n) return i === -BigInt(ERRNO.ENOENT) || count > 0n ? count : BigInt.asUintN(64, i);
        count++;
        if (call([map, key, BigInt.asUintN(64, ex.bpf_map_iter_value(map, i)), ctx]) !== 0n) return count;
        pos = i + 1n;
      }
    });
  };

  return [[CALLBACK_HELPER.for_each_map_elem, forEach], [CALLBACK_HELPER.loop, loop]];
}
