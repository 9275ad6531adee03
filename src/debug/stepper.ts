/**
 * The stepper: a third engine that executes a {@link Program} one instruction at a time, on `bigint` registers, and
 * says what each instruction did. It is the debugger's engine (`ebpf-wasm run --trace`) and a second oracle for the
 * interpreter, deliberately written the plain way: one `switch` over `insn.kind`, the value-level operations of
 * src/interp/semantics.ts, the region check of src/exec.ts (`locateAccess`) on every access, no pre-decoding. It
 * follows the engine contract of src/exec.ts exactly as the interpreter does (same `ExecutionError` codes at the
 * same pcs, same calling conventions, same budget), and the conformance and differential tests hold it to that
 * (test/conformance, which runs every engine of ALL_ENGINES; test/debug).
 *
 * Two ways in:
 * - {@link Stepper}: one run, driven by the caller: `step()` executes one instruction and returns a
 *   {@link StepEvent} (registers changed, memory written, the helper called, the jump taken or not, the call or
 *   return, the end of the run or the fault); `run()` continues to a breakpoint; `registers`, `pc`, `depth` and
 *   `readMemory` inspect the machine between steps.
 * - {@link StepperExecutable}: an `Executable` (`run(req) → r0`), so the stepper serves as the engine `step` of
 *   runtime/engines.ts; with {@link StepperExecutable.trace} set, each run reports every step.
 *
 * Edge cases, as in the interpreter (src/interp/interpreter.ts has the list): r1-r5 are left as they were after
 * a helper call; a local call at depth 8 faults `call_depth` before it consumes budget, and the callee gets a
 * fresh frame (r10) while r6-r10 are restored on return; an atomic is checked as a store, then for alignment;
 * `call btf` faults `unknown_helper`; running past the last instruction faults `fell_off_end` at the last
 * instruction's pc; a legacy packet load outside the packet ends the run with r0 = 0.
 *
 * Not here: the value-level operations (semantics.ts), formatting events as text (trace.ts), speed (this engine
 * is some fifty times slower than the interpreter; it is not in the default engine list).
 */

import { ExecutionError, InternalError, InvalidProgramError, assertNever } from '../errors.js';
import {
  MAX_CALL_DEPTH, STACK_SIZE, UnwindSignal, describeValue, frameTop, locateAccess, validateRequest,
  type ExecRequest, type Executable, type HelperEnv, type Region,
} from '../exec.js';
import { MAX_SLOTS } from '../interp/code.js';
import { sharedAtomic32, sharedAtomic64 } from '../interp/shared-atomics.js';
import * as sem from '../interp/semantics.js';
import { disassembleInsn } from '../isa/disasm.js';
import type { AtomicInsn, Insn, Operand, Reg } from '../isa/insn.js';
import type { Program } from '../isa/program.js';
import { HELPERS } from '../verifier/helpers.js';

/** A register an instruction changed. */
export interface RegisterChange {
  /** 0..10. */
  readonly reg: number;
  readonly old: bigint;
  readonly new: bigint;
}

/** Bytes an instruction stored (a store or an atomic): the memory at `addr` after the instruction. */
export interface MemoryWrite {
  readonly addr: number;
  readonly size: number;
  readonly bytes: Uint8Array;
}

/** A helper call (`call N` or `callx`). Helpers may write memory too: those writes are not reported. */
export interface HelperCall {
  readonly id: number;
  /** `bpf_map_lookup_elem`, from src/verifier/helpers.ts (Linux numbering) or the names given to the stepper. */
  readonly name: string | undefined;
  /** How many arguments the helper takes, when known (its prototype); else undefined (all five are shown). */
  readonly arity: number | undefined;
  /** r1..r5 as passed. */
  readonly args: readonly bigint[];
  /** The helper's return value (r0 after the call), or what it unwound the program with. */
  readonly result: bigint;
  /** The helper ended the program (`env.unwind` or `UnwindSignal`) with `result`. */
  readonly unwound: boolean;
}

/** A conditional or unconditional jump. */
export interface JumpInfo {
  readonly target: number;
  readonly taken: boolean;
  /** A taken jump to this pc or before: it consumed one unit of budget. */
  readonly backward: boolean;
}

/** What one executed instruction did, besides ending the run or faulting. */
export interface StepEffects {
  /** Registers changed, in the order written (each register at most once, with its first old value). */
  readonly regs: readonly RegisterChange[];
  /** Bytes stored by the instruction itself. */
  readonly writes: readonly MemoryWrite[];
  readonly helper?: HelperCall;
  readonly jump?: JumpInfo;
  /** A local call: the callee's entry and the depth entered. */
  readonly call?: { readonly target: number; readonly depth: number };
  /** A return from a local call: where execution continues and the depth it continues at. */
  readonly ret?: { readonly to: number; readonly depth: number };
}

/** What every event names: the instruction at `pc` (with its disassembly) and the call depth it ran at. */
export interface StepEventBase {
  readonly pc: number;
  readonly insn: Insn;
  /** `insn` disassembled (`add %r2, 16`), as src/isa/disasm.ts prints it. */
  readonly text: string;
  /** The call depth the instruction ran at (0: the entry function); a call's or return's new depth is in `call`/`ret`. */
  readonly depth: number;
}

/** An instruction executed and the run goes on at `next`. */
export interface InstructionEvent extends StepEventBase, StepEffects {
  readonly kind: 'step';
  readonly done: false;
  readonly next: number;
}

/**
 * The run ended with `r0`: an `exit` of the entry function, a helper that unwound the program, or (by RFC 9669
 * section 5.5) a legacy packet load outside the packet, which ends it with r0 = 0.
 */
export interface DoneEvent extends StepEventBase, StepEffects {
  readonly kind: 'done';
  readonly done: true;
  readonly r0: bigint;
  readonly reason: 'exit' | 'unwind' | 'packet';
}

/** The run faulted; `error` is what an engine throws (its `pc` may name a nested run's instruction). */
export interface FaultEvent extends StepEventBase {
  readonly kind: 'fault';
  readonly done: true;
  readonly error: ExecutionError;
}

/** What {@link Stepper.step} reports. */
export type StepEvent = InstructionEvent | DoneEvent | FaultEvent;

/** Options of {@link Stepper.run}. */
export interface StepperRunOptions {
  /** Stop before executing an instruction at one of these pcs (not the one the run starts at). */
  readonly breakpoints?: Iterable<number>;
  /** Stop after this many instructions. Default: no limit (the run's budget still bounds loops). */
  readonly maxSteps?: number;
  /** Called with every event. */
  readonly onStep?: (event: StepEvent) => void;
}

/** Why {@link Stepper.run} stopped, and where. */
export interface StepperStop {
  readonly reason: 'done' | 'fault' | 'breakpoint' | 'max_steps';
  /** The pc the stepper is at (a breakpoint's), or of the last event when the run is over. */
  readonly pc: number;
  /** Instructions executed by this call. */
  readonly steps: number;
  /** The last event of this call (undefined when it executed nothing). */
  readonly last: StepEvent | undefined;
}

/** Options of {@link Stepper} and {@link StepperExecutable}. */
export interface StepperOptions {
  /** Names of helpers by id, over the Linux names of src/verifier/helpers.ts (e.g. a host's own helpers). */
  readonly helperNames?: ReadonlyMap<number, string>;
}

/** Programs already checked by {@link checkProgram}: a run of a prepared executable does not check again. */
const CHECKED = new WeakSet<Program>();
/** Disassembly of each instruction, by program, made on first need. */
const TEXTS = new WeakMap<Program, (string | undefined)[]>();

/**
 * Refuses what the interpreter refuses when preparing a program (src/interp/code.ts, `buildMachine`), with the
 * same codes: more than `MAX_SLOTS` slots (`too_large`), an `lddw` other than `imm64` (`bad_lddw_src`: map and
 * variable references are for a loader to resolve first, RFC 9669 section 5.4).
 *
 * @throws InvalidProgramError
 */
export function checkProgram(program: Program): void {
  if (CHECKED.has(program)) return;
  if (program.insns.length === 0) throw new InvalidProgramError('empty', 'program has no instructions');
  if (program.slotCount > MAX_SLOTS) {
    throw new InvalidProgramError('too_large', `program has ${program.slotCount} instructions, more than the interpreter's limit of ${MAX_SLOTS}`);
  }
  for (const insn of program.insns) {
    if (insn.kind === 'lddw' && insn.src !== 'imm64') {
      throw new InvalidProgramError('bad_lddw_src', `lddw ${insn.src} must be resolved by a loader first; only lddw imm64 can run`, insn.pc);
    }
  }
  CHECKED.add(program);
}

const hex = (n: number | bigint): string => '0x' + n.toString(16);

/** The name and arity of helper `id`: the stepper's own names first, then the Linux prototypes. */
function describeHelper(id: number, names: ReadonlyMap<number, string> | undefined): { name: string | undefined; arity: number | undefined } {
  const own = names?.get(id);
  if (own !== undefined) return { name: own, arity: undefined };
  const proto = HELPERS.get(id);
  return proto === undefined ? { name: undefined, arity: undefined } : { name: `bpf_${proto.name}`, arity: proto.args.length };
}

/** A saved frame of a local call: where to return and the caller's r6..r10. */
interface Frame {
  readonly ret: number;
  readonly saved: readonly bigint[];
}

/** Collects an instruction's effects while it executes (only when the caller wants an event). */
class Recorder {
  readonly regs: RegisterChange[] = [];
  readonly writes: MemoryWrite[] = [];
  helper: HelperCall | undefined;
  jump: JumpInfo | undefined;
  call: { target: number; depth: number } | undefined;
  ret: { to: number; depth: number } | undefined;

  effects(): StepEffects {
    return {
      regs: this.regs, writes: this.writes,
      ...(this.helper ? { helper: this.helper } : {}),
      ...(this.jump ? { jump: this.jump } : {}),
      ...(this.call ? { call: this.call } : {}),
      ...(this.ret ? { ret: this.ret } : {}),
    };
  }
}

/** How the current instruction ended the run, if it did. */
interface End {
  readonly r0: bigint;
  readonly reason: DoneEvent['reason'];
}

/**
 * One run of a program, one instruction at a time (see the file header). The request is validated like the
 * other engines do it (`validateRequest`), and registers start as in them: r1..r5 from `args`, r10 at the top of
 * the stack, the rest 0.
 */
export class Stepper {
  readonly program: Program;
  readonly request: ExecRequest;
  private readonly r: bigint[] = new Array<bigint>(11).fill(0n);
  private pcNow = 0;
  private readonly frames: Frame[] = [];
  /** Budget units left; undefined: no budget. */
  private left: number | undefined;
  private final: DoneEvent | FaultEvent | undefined;
  private executed = 0;
  private readonly names: ReadonlyMap<number, string> | undefined;
  /** Set by the current instruction when it ends the run. */
  private end: End | undefined;
  /** The effects of the current instruction, when recording. */
  private rec: Recorder | undefined;
  /** The memory buffer of the last access and a view of it (a helper may grow the memory). */
  private buf: ArrayBufferLike | undefined;
  private dv = new DataView(new ArrayBuffer(0));

  /**
   * @throws InvalidProgramError as {@link checkProgram}; InternalError for a malformed request.
   */
  constructor(program: Program, request: ExecRequest, options: StepperOptions = {}) {
    checkProgram(program);
    validateRequest(request, request.memory.buffer.byteLength);
    this.program = program;
    this.request = request;
    this.names = options.helperNames;
    this.left = request.budget;
    for (let i = 0; i < 5 && i < request.args.length; i++) this.r[1 + i] = BigInt.asUintN(64, request.args[i]);
    this.r[10] = BigInt(frameTop(request.stackBase, 0));
  }

  /** The slot of the next instruction (`program.slotCount` once execution ran past the end). */
  get pc(): number {
    return this.pcNow;
  }

  /** The current call depth: 0 in the entry function. */
  get depth(): number {
    return this.frames.length;
  }

  /** r0..r10 as unsigned 64-bit values (a copy). */
  get registers(): readonly bigint[] {
    return [...this.r];
  }

  /** Instructions executed so far (an `lddw` counts once; a faulting instruction does not count). */
  get steps(): number {
    return this.executed;
  }

  /** Whether the run is over (ended or faulted); {@link step} then returns its last event again. */
  get done(): boolean {
    return this.final !== undefined;
  }

  /** The last event of a run that is over, else undefined. */
  get result(): DoneEvent | FaultEvent | undefined {
    return this.final;
  }

  /**
   * A copy of `len` bytes of linear memory at `addr` (any address of the memory, not only the run's regions).
   *
   * @throws RangeError outside the memory.
   */
  readMemory(addr: number | bigint, len: number): Uint8Array {
    const a = typeof addr === 'bigint' ? Number(BigInt.asUintN(64, addr)) : addr;
    const size = this.request.memory.buffer.byteLength;
    if (!(Number.isInteger(a) && Number.isInteger(len) && a >= 0 && len >= 0 && a + len <= size)) {
      throw new RangeError(`[${hex(a)}, +${len}) is outside the ${size}-byte memory`);
    }
    return new Uint8Array(this.request.memory.buffer, a, len).slice();
  }

  /** Executes one instruction and reports it (see {@link StepEvent}). After the end, returns the last event again. */
  step(): StepEvent {
    if (this.final) return this.final;
    const rec = new Recorder();
    this.rec = rec;
    try {
      return this.advance() ?? this.event(rec);
    } finally {
      this.rec = undefined;
    }
  }

  /**
   * Steps until the run is over, a breakpoint is reached or `maxSteps` instructions have run (see
   * {@link StepperRunOptions}).
   */
  run(options: StepperRunOptions = {}): StepperStop {
    const breakpoints = new Set(options.breakpoints ?? []);
    const max = options.maxSteps ?? Infinity;
    let steps = 0;
    let last: StepEvent | undefined;
    while (!this.final) {
      if (steps >= max) return { reason: 'max_steps', pc: this.pcNow, steps, last };
      if (steps > 0 && breakpoints.has(this.pcNow)) return { reason: 'breakpoint', pc: this.pcNow, steps, last };
      last = this.step();
      steps++;
      options.onStep?.(last);
    }
    const f = this.final;
    return { reason: f.kind === 'done' ? 'done' : 'fault', pc: f.pc, steps, last: last ?? f };
  }

  /**
   * Runs to the end without recording anything (the executable's path) and returns r0.
   *
   * @throws ExecutionError when the run faults.
   */
  finish(): bigint {
    while (!this.final) this.advance();
    if (this.final.kind === 'fault') throw this.final.error;
    return this.final.r0;
  }

  /**
   * Executes the instruction at the pc. Returns the run's last event when the run is over (ended or faulted),
   * else undefined (the instruction's event, if wanted, is built from the recorder by {@link event}).
   */
  private advance(): DoneEvent | FaultEvent | undefined {
    const pc = this.pcNow;
    const depth = this.frames.length;
    const p = this.program;
    if (pc === p.slotCount) {
      // Past the last instruction: `fell_off_end`, named at the last instruction, as the interpreter does.
      const last = p.insns[p.insns.length - 1];
      const error = new ExecutionError('fell_off_end', 'execution fell off the end of the program', last.pc);
      return (this.final = { kind: 'fault', done: true, pc: last.pc, insn: last, text: this.textOf(last), depth, error });
    }
    const index = pc >= 0 && pc < p.slotCount ? p.indexOfPc[pc] : -1;
    if (index < 0) throw new InternalError(`stepper: no instruction starts at slot ${pc}`, pc);
    const insn = p.insns[index];
    this.current = insn;
    this.currentDepth = depth;
    this.end = undefined;
    try {
      this.execute(insn);
    } catch (e) {
      if (!(e instanceof ExecutionError)) throw e;
      return (this.final = { kind: 'fault', done: true, pc, insn, text: this.textOf(insn), depth, error: e });
    }
    this.executed++;
    const end = this.end as End | undefined;
    if (end === undefined) return undefined;
    const effects = this.rec?.effects() ?? { regs: [], writes: [] };
    return (this.final = { kind: 'done', done: true, pc, insn, text: this.textOf(insn), depth, r0: end.r0, reason: end.reason, ...effects });
  }

  /** The instruction {@link advance} executed last, and the depth it ran at. */
  private current: Insn | undefined;
  private currentDepth = 0;

  /** The event of an instruction that did not end the run, from its recorder. */
  private event(rec: Recorder): InstructionEvent {
    const insn = this.current!;
    return { kind: 'step', done: false, pc: insn.pc, insn, text: this.textOf(insn), depth: this.currentDepth, next: this.pcNow, ...rec.effects() };
  }

  /** The disassembly of `insn`, made once per instruction of the program. */
  private textOf(insn: Insn): string {
    let texts = TEXTS.get(this.program);
    if (!texts) TEXTS.set(this.program, (texts = []));
    const i = this.program.indexOfPc[insn.pc];
    return (texts[i] ??= disassembleInsn(insn));
  }

  // ---- Registers and memory.

  private set(reg: Reg, value: bigint): void {
    const old = this.r[reg];
    this.r[reg] = value;
    const rec = this.rec;
    if (rec === undefined) return;
    // One change per register and instruction, from its value before the instruction; none if it comes back.
    const seen = rec.regs.findIndex((c) => c.reg === reg);
    if (seen < 0) {
      if (old !== value) rec.regs.push({ reg, old, new: value });
    } else if (rec.regs[seen].old === value) {
      rec.regs.splice(seen, 1);
    } else {
      rec.regs[seen] = { reg, old: rec.regs[seen].old, new: value };
    }
  }

  /** The value of an ALU or jump operand: a register, or the immediate sign-extended to 64 bits. */
  private operand(src: Operand): bigint {
    return src.kind === 'reg' ? this.r[src.reg] : sem.immOperand(src.imm);
  }

  private view(): DataView {
    const buf = this.request.memory.buffer;
    if (buf !== this.buf) {
      this.buf = buf;
      this.dv = new DataView(buf);
    }
    return this.dv;
  }

  /**
   * The address of an access of `size` bytes at `base + off`, checked against the stack and the regions
   * (`locateAccess`); a store or atomic needs a writable region.
   *
   * @throws ExecutionError `out_of_bounds` or `read_only`, worded as the interpreter words them.
   */
  private address(base: Reg, off: number, size: number, what: 'load' | 'store' | 'atomic', pc: number): number {
    const addr = BigInt.asUintN(64, this.r[base] + BigInt(off));
    const where = locateAccess(this.request, addr, size, what !== 'load');
    if (where === true) return Number(addr);
    const access = `${what} of ${size} byte${size === 1 ? '' : 's'} at ${hex(addr)}`;
    if (where !== undefined) throw new ExecutionError('read_only', `${access} is in read-only region ${where.name}`, pc);
    if (addr < 0x1_0000_0000n) {
      // Name a region the access straddles: the most common bug is reading one byte too far.
      const a = Number(addr);
      const stack: Region = { start: this.request.stackBase, end: this.request.stackBase + STACK_SIZE, writable: true, name: 'stack' };
      const partial = [stack, ...this.request.regions].find((r) => a < r.end && a + size > r.start);
      if (partial) throw new ExecutionError('out_of_bounds', `${access} crosses the edge of region ${partial.name} [${hex(partial.start)}, ${hex(partial.end)})`, pc);
    }
    throw new ExecutionError('out_of_bounds', `${access} is outside every region`, pc);
  }

  /** Reads `size` bytes little-endian at a checked address. */
  private load(a: number, size: number): bigint {
    const dv = this.view();
    switch (size) {
      case 1: return BigInt(dv.getUint8(a));
      case 2: return BigInt(dv.getUint16(a, true));
      case 4: return BigInt(dv.getUint32(a, true));
      default: return dv.getBigUint64(a, true);
    }
  }

  /** Writes the low `size` bytes of `value` little-endian at a checked address. */
  private store(a: number, size: number, value: bigint): void {
    const dv = this.view();
    switch (size) {
      case 1: dv.setUint8(a, Number(value & 0xffn)); break;
      case 2: dv.setUint16(a, Number(value & 0xffffn), true); break;
      case 4: dv.setUint32(a, Number(value & 0xffff_ffffn), true); break;
      default: dv.setBigUint64(a, BigInt.asUintN(64, value), true); break;
    }
    this.noteWrite(a, size);
  }

  private noteWrite(a: number, size: number): void {
    this.rec?.writes.push({ addr: a, size, bytes: new Uint8Array(this.request.memory.buffer, a, size).slice() });
  }

  /** Consumes one unit of budget for the taken backward jump or local call at `pc`. */
  private charge(pc: number): void {
    if (this.left === undefined) return;
    if (this.left === 0) {
      throw new ExecutionError('budget_exceeded', `execution budget of ${this.request.budget} backward jumps and calls exceeded`, pc);
    }
    this.left--;
  }

  // ---- Execution.

  /** Executes `insn` (RFC 9669 sections 4 and 5): registers, memory, the pc, the frames; sets {@link end}. */
  private execute(insn: Insn): void {
    const pc = insn.pc;
    const r = this.r;
    let next = pc + 1;
    switch (insn.kind) {
      case 'alu': {
        const v = sem.alu(insn.op, insn.width, r[insn.dst], this.operand(insn.src));
        this.set(insn.dst, v);
        break;
      }
      case 'neg':
        this.set(insn.dst, sem.neg(insn.width, r[insn.dst]));
        break;
      case 'movsx':
        this.set(insn.dst, sem.movsx(insn.width, insn.bits, r[insn.src]));
        break;
      case 'endian':
        this.set(insn.dst, sem.endian(insn.order, insn.bits, r[insn.dst]));
        break;
      case 'lddw':
        // Only imm64 reaches here (checkProgram).
        this.set(insn.dst, insn.value);
        next = pc + 2;
        break;
      case 'load': {
        const a = this.address(insn.base, insn.off, insn.size, 'load', pc);
        this.set(insn.dst, sem.loadValue(this.load(a, insn.size), insn.size, insn.signed));
        break;
      }
      case 'store': {
        // ST stores the immediate sign-extended (for 8 bytes), STX a register.
        const value = this.operand(insn.value);
        const a = this.address(insn.base, insn.off, insn.size, 'store', pc);
        this.store(a, insn.size, value);
        break;
      }
      case 'atomic':
        this.atomic(insn);
        break;
      case 'ldpkt': {
        // RFC 9669 section 5.5: big-endian from the packet. LD_IND's offset is the index's low half plus imm in
        // 32-bit arithmetic, read signed (as Linux did); any byte outside the packet ends the run with r0 = 0.
        const packet = this.request.packet;
        const off = insn.index === null ? insn.imm | 0 : (Number(r[insn.index] & 0xffff_ffffn) + insn.imm) | 0;
        if (packet === undefined || off < 0 || off > packet.length - insn.size) {
          this.set(0, 0n);
          this.end = { r0: 0n, reason: 'packet' };
          return;
        }
        const dv = this.view();
        const p = packet.start + off;
        const v = insn.size === 1 ? dv.getUint8(p) : insn.size === 2 ? dv.getUint16(p, false) : dv.getUint32(p, false);
        this.set(0, BigInt(v));
        break;
      }
      case 'ja':
        next = this.jump(pc, insn.target, true);
        break;
      case 'jcond':
        next = this.jump(pc, insn.target, sem.cond(insn.cond.op, insn.cond.width, r[insn.dst], this.operand(insn.src)));
        break;
      case 'call':
        switch (insn.target.kind) {
          case 'helper':
            if (this.callHelper(insn.target.id, pc)) return;
            break;
          case 'local': {
            // MAX_CALL_DEPTH frames in all, the entry function's included; depth is checked before the budget,
            // so a call that cannot happen consumes nothing.
            const depth = this.frames.length;
            if (depth + 1 >= MAX_CALL_DEPTH) throw new ExecutionError('call_depth', `call depth exceeds ${MAX_CALL_DEPTH} frames`, pc);
            this.charge(pc);
            // The callee keeps r0..r9 and gets a fresh frame below its caller's; r6..r10 come back on return.
            this.frames.push({ ret: pc + 1, saved: r.slice(6, 11) });
            this.set(10, BigInt(frameTop(this.request.stackBase, depth + 1)));
            next = insn.target.pc;
            if (this.rec) this.rec.call = { target: next, depth: depth + 1 };
            break;
          }
          case 'btf':
            throw new ExecutionError('unknown_helper', `call to kernel function (btf id ${insn.target.id}) is not supported`, pc);
          default:
            assertNever(insn.target, 'call target');
        }
        break;
      case 'callx': {
        // The register holds the helper id; a value beyond 32 bits names no helper.
        const v = r[insn.reg];
        if (v > 0xffff_ffffn || !this.request.helpers.has(Number(v))) {
          throw new ExecutionError('unknown_helper', `callx to unknown helper ${v}`, pc);
        }
        if (this.callHelper(Number(v), pc)) return;
        break;
      }
      case 'exit': {
        const frame = this.frames.pop();
        if (frame === undefined) {
          this.end = { r0: r[0], reason: 'exit' };
          return;
        }
        for (let i = 0; i < 5; i++) this.set(6 + i, frame.saved[i]);
        next = frame.ret;
        if (this.rec) this.rec.ret = { to: next, depth: this.frames.length };
        break;
      }
      default:
        assertNever(insn, 'instruction');
    }
    this.pcNow = next;
  }

  /** A jump at `pc` to `target`, taken or not; a taken backward one (target <= pc) consumes budget. Returns the next pc. */
  private jump(pc: number, target: number, taken: boolean): number {
    const backward = taken && target <= pc;
    if (backward) this.charge(pc);
    if (this.rec) this.rec.jump = { target, taken, backward };
    return taken ? target : pc + 1;
  }

  /**
   * An atomic read-modify-write (RFC 9669 section 5.3): checked as a store, then for alignment; on a shared
   * memory (workers) with `Atomics`, so that concurrent threads never lose an update. The old value goes to
   * `src` (fetch forms) or r0 (cmpxchg), zero-extended for 32-bit forms.
   */
  private atomic(insn: AtomicInsn): void {
    const { size, pc } = insn;
    const a = this.address(insn.base, insn.off, size, 'atomic', pc);
    if (a % size !== 0) {
      throw new ExecutionError('misaligned_atomic', `atomic ${insn.op} of ${size} bytes at ${hex(a)} is not ${size}-byte aligned`, pc);
    }
    const src = this.r[insn.src];
    const r0 = this.r[0];
    const buf = this.request.memory.buffer;
    let fetched: bigint;
    if (typeof SharedArrayBuffer !== 'undefined' && buf instanceof SharedArrayBuffer) {
      fetched = atomicShared(buf, insn, a, src, r0);
    } else {
      const outcome = sem.atomic(insn.op, size, this.load(a, size), src, r0);
      const dv = this.view();
      if (size === 4) dv.setUint32(a, Number(outcome.stored), true);
      else dv.setBigUint64(a, outcome.stored, true);
      fetched = outcome.fetched;
    }
    this.noteWrite(a, size);
    if (insn.op === 'cmpxchg') this.set(0, fetched);
    else if (insn.fetch) this.set(insn.src, fetched);
  }

  /**
   * Calls helper `id` with r1..r5 and puts its result in r0 (r1..r5 stay as they were). Returns true when the
   * helper ended the program (`env.unwind` or `UnwindSignal`); r0 then holds the value it ended it with.
   *
   * @throws ExecutionError `unknown_helper`; `helper_failed` when the helper throws anything but an
   *   `ExecutionError` (rethrown as it is) or returns something other than a bigint.
   */
  private callHelper(id: number, pc: number): boolean {
    const fn = this.request.helpers.get(id);
    if (fn === undefined) throw new ExecutionError('unknown_helper', `call to unknown helper ${id}`, pc);
    const args = this.r.slice(1, 6);
    let unwound = false;
    const env: HelperEnv = {
      memory: this.request.memory,
      pc,
      request: this.request,
      unwind: (r0: bigint): bigint => {
        unwound = true;
        return r0;
      },
    };
    let result: bigint;
    try {
      const ret: unknown = fn(args[0], args[1], args[2], args[3], args[4], env);
      if (typeof ret !== 'bigint') throw new TypeError(`returned ${describeValue(ret)}, not a bigint`);
      result = BigInt.asUintN(64, ret);
    } catch (e) {
      if (e instanceof UnwindSignal) {
        if (typeof e.r0 !== 'bigint') throw new ExecutionError('helper_failed', `helper ${id} unwound with ${describeValue(e.r0)}, not a bigint`, pc);
        result = BigInt.asUintN(64, e.r0);
        unwound = true;
      } else if (e instanceof ExecutionError) {
        throw e;
      } else {
        throw new ExecutionError('helper_failed', `helper ${id} failed: ${describeValue(e)}`, pc, { cause: e });
      }
    }
    this.set(0, result);
    if (this.rec) this.rec.helper = { id, ...describeHelper(id, this.names), args, result, unwound };
    if (unwound) this.end = { r0: result, reason: 'unwind' };
    return unwound;
  }
}

/** {@link Stepper.atomic} on a shared memory with `Atomics` (src/interp/shared-atomics.ts); returns the old value, zero-extended. */
function atomicShared(buf: SharedArrayBuffer, insn: AtomicInsn, a: number, src: bigint, r0: bigint): bigint {
  if (insn.size === 4) return BigInt(sharedAtomic32(buf, insn.op, a, Number(BigInt.asIntN(32, src)), Number(BigInt.asIntN(32, r0))) >>> 0);
  return sharedAtomic64(buf, insn.op, a, src, r0);
}

/**
 * The stepper as an engine (`prepareEngine('step', ...)`, runtime/engines.ts): each run is a fresh
 * {@link Stepper}, so runs may nest. With {@link trace} set, every run reports each event to it; otherwise runs
 * record nothing.
 */
export class StepperExecutable implements Executable {
  /** Called with every event of every run (nested runs included), when set. */
  trace: ((event: StepEvent) => void) | undefined;
  /** Names of helpers by id for the events (see {@link StepperOptions.helperNames}). */
  helperNames: ReadonlyMap<number, string> | undefined;

  /** @throws InvalidProgramError as {@link checkProgram}. */
  constructor(readonly program: Program, options: StepperOptions = {}) {
    checkProgram(program);
    this.helperNames = options.helperNames;
  }

  /** Runs the program once (see `Executable.run`); returns r0 as u64 or throws `ExecutionError`. */
  run(req: ExecRequest): bigint {
    const stepper = new Stepper(this.program, req, { helperNames: this.helperNames });
    const trace = this.trace;
    if (trace === undefined) return stepper.finish();
    for (;;) {
      const event = stepper.step();
      trace(event);
      if (event.kind === 'done') return event.r0;
      if (event.kind === 'fault') throw event.error;
    }
  }
}
