/**
 * The stepper's debugging API (src/debug/stepper.ts): a small program stepped one instruction at a time (the
 * registers each instruction changed, a store's bytes, a helper call, a local call and its return with the
 * depth, a taken backward jump), breakpoints and step limits, faults naming the pc, the end of the run with r0;
 * the executable form with its trace; the trace text (trace.ts). Requests come from test/interp/harness.ts, so
 * the layout is the interpreter tests' (stack at 0x10000, input at 0x20000, a read-only region at 0x30000).
 */

import { describe, expect, it } from 'vitest';
import { ExecutionError, InvalidProgramError } from '../../src/errors.js';
import { UnwindSignal, type HelperFn } from '../../src/exec.js';
import { assemble } from '../../src/isa/asm.js';
import { Interpreter } from '../../src/interp/interpreter.js';
import { Stepper, StepperExecutable, type DoneEvent, type FaultEvent, type InstructionEvent, type StepEvent } from '../../src/debug/stepper.js';
import { formatEvent } from '../../src/debug/trace.js';
import { Runtime } from '../../runtime/runtime.js';
import { FP, INPUT, RODATA, makeRequest } from '../interp/harness.js';

/** Sums 3 + 2 + 1 in a loop, stores the sum, doubles it with helper 1, adds 1 in a local call. */
const PROGRAM = `
  mov %r6, %r1
  ldxw %r2, [%r1+0]
  mov %r0, 0
loop:
  add %r0, %r2
  sub %r2, 1
  jne %r2, 0, loop
  stxw [%r10-4], %r0
  mov %r1, %r0
  call 1
  call local f
  exit
f:
  mov %r6, 99
  add %r0, 1
  exit
`;

const double: HelperFn = (r1) => r1 * 2n;
const helpers = new Map([[1, double]]);
const INPUT_3 = Uint8Array.of(3, 0, 0, 0);

function stepper(src = PROGRAM, options: Parameters<typeof makeRequest>[0] = {}): Stepper {
  return new Stepper(assemble(src), makeRequest({ input: INPUT_3, helpers, ...options }));
}

function instruction(e: StepEvent): InstructionEvent {
  expect(e.kind).toBe('step');
  return e as InstructionEvent;
}

describe('stepping one instruction at a time', () => {
  it('reports each instruction with its disassembly and the registers it changed', () => {
    const s = stepper();
    expect(s.pc).toBe(0);
    expect(s.depth).toBe(0);
    expect(s.registers).toEqual([0n, BigInt(INPUT), 4n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, BigInt(FP)]);

    const mov = instruction(s.step());
    expect(mov).toMatchObject({ pc: 0, text: 'mov %r6, %r1', depth: 0, next: 1, done: false, writes: [] });
    expect(mov.insn.kind).toBe('alu');
    expect(mov.regs).toEqual([{ reg: 6, old: 0n, new: BigInt(INPUT) }]);

    const load = instruction(s.step());
    expect(load).toMatchObject({ pc: 1, text: 'ldxw %r2, [%r1]' });
    expect(load.regs).toEqual([{ reg: 2, old: 4n, new: 3n }]);

    // r0 is already 0: a mov that changes nothing reports no register.
    expect(instruction(s.step()).regs).toEqual([]);
    expect(s.pc).toBe(3);
    expect(s.steps).toBe(3);
  });

  it('reports a taken backward jump, then the jump not taken', () => {
    const s = stepper();
    for (let i = 0; i < 5; i++) s.step();
    const back = instruction(s.step());
    expect(back).toMatchObject({ pc: 5, text: 'jne %r2, 0, -3', next: 3 });
    expect(back.jump).toEqual({ target: 3, taken: true, backward: true });
    for (let i = 0; i < 2; i++) s.step();
    expect(instruction(s.step()).jump).toEqual({ target: 3, taken: true, backward: true });
    for (let i = 0; i < 2; i++) s.step();
    const through = instruction(s.step());
    expect(through.jump).toEqual({ target: 3, taken: false, backward: false });
    expect(through.next).toBe(6);
    expect(s.registers[0]).toBe(6n);
  });

  it('reports the bytes a store wrote, and reads memory between steps', () => {
    const s = stepper();
    s.run({ breakpoints: [6] });
    const store = instruction(s.step());
    expect(store.text).toBe('stxw [%r10-4], %r0');
    expect(store.regs).toEqual([]);
    expect(store.writes).toEqual([{ addr: FP - 4, size: 4, bytes: Uint8Array.of(6, 0, 0, 0) }]);
    expect(s.readMemory(FP - 4, 4)).toEqual(Uint8Array.of(6, 0, 0, 0));
    expect(s.readMemory(BigInt(RODATA), 2)).toEqual(Uint8Array.of(0xa0, 0xa1));
    expect(() => s.readMemory(-1, 4)).toThrow(RangeError);
  });

  it('reports a helper call with its name, arguments and result', () => {
    const s = stepper();
    s.run({ breakpoints: [8] });
    const call = instruction(s.step());
    expect(call.text).toBe('call 1');
    expect(call.helper).toEqual({ id: 1, name: 'bpf_map_lookup_elem', arity: 2, args: [6n, 0n, 0n, 0n, 0n], result: 12n, unwound: false });
    expect(call.regs).toEqual([{ reg: 0, old: 6n, new: 12n }]);
    // Names given to the stepper win over the Linux ones.
    const named = new Stepper(assemble(PROGRAM), makeRequest({ input: INPUT_3, helpers }), { helperNames: new Map([[1, 'double']]) });
    named.run({ breakpoints: [8] });
    expect(instruction(named.step()).helper).toMatchObject({ name: 'double', arity: undefined });
  });

  it('reports a local call and its return with the depth, and restores r6-r10', () => {
    const s = stepper();
    s.run({ breakpoints: [9] });
    const call = instruction(s.step());
    expect(call).toMatchObject({ pc: 9, depth: 0, next: 11, call: { target: 11, depth: 1 } });
    expect(call.regs).toEqual([{ reg: 10, old: BigInt(FP), new: BigInt(FP - 512) }]);
    expect(s.depth).toBe(1);
    expect(instruction(s.step())).toMatchObject({ pc: 11, depth: 1, regs: [{ reg: 6, old: BigInt(INPUT), new: 99n }] });
    instruction(s.step());
    const ret = instruction(s.step());
    expect(ret).toMatchObject({ pc: 13, text: 'exit', depth: 1, next: 10, ret: { to: 10, depth: 0 } });
    expect(ret.regs).toEqual([{ reg: 6, old: 99n, new: BigInt(INPUT) }, { reg: 10, old: BigInt(FP - 512), new: BigInt(FP) }]);
    expect(s.depth).toBe(0);
  });

  it('ends with { done: true, r0 } and keeps returning that event', () => {
    const s = stepper();
    const stop = s.run();
    expect(stop.reason).toBe('done');
    const done = stop.last as DoneEvent;
    expect(done).toMatchObject({ kind: 'done', done: true, r0: 13n, reason: 'exit', pc: 10, depth: 0 });
    expect(s.done).toBe(true);
    expect(s.step()).toBe(done);
    expect(s.result).toBe(done);
    expect(s.steps).toBe(20);
    // The same result as the interpreter's.
    expect(new Interpreter(assemble(PROGRAM)).run(makeRequest({ input: INPUT_3, helpers }))).toBe(13n);
  });
});

describe('run: breakpoints and step limits', () => {
  it('stops before each visit of a breakpoint, and not again at the one it starts from', () => {
    const s = stepper();
    const stops: number[] = [];
    for (;;) {
      const stop = s.run({ breakpoints: [4] });
      if (stop.reason !== 'breakpoint') break;
      expect(stop.pc).toBe(4);
      stops.push(Number(s.registers[2]));
    }
    expect(stops).toEqual([3, 2, 1]);
    expect(s.result).toMatchObject({ kind: 'done', r0: 13n });
  });

  it('stops after maxSteps, and reports every event to onStep', () => {
    const s = stepper();
    const seen: number[] = [];
    const stop = s.run({ maxSteps: 4, onStep: (e) => seen.push(e.pc) });
    expect(stop).toMatchObject({ reason: 'max_steps', pc: 4, steps: 4 });
    expect(seen).toEqual([0, 1, 2, 3]);
  });
});

describe('faults and early ends', () => {
  it('reports an out-of-bounds load as a fault event naming the pc', () => {
    const s = stepper('mov %r0, 0\nldxw %r0, [%r1+8]\nexit');
    s.step();
    const fault = s.step() as FaultEvent;
    expect(fault).toMatchObject({ kind: 'fault', done: true, pc: 1, text: 'ldxw %r0, [%r1+8]' });
    expect(fault.error).toBeInstanceOf(ExecutionError);
    expect(fault.error.code).toBe('out_of_bounds');
    expect(fault.error.message).toBe(`pc 1: load of 4 bytes at 0x${(INPUT + 8).toString(16)} is outside every region`);
    expect(s.step()).toBe(fault);
    expect(s.steps).toBe(1);
    expect(s.run()).toMatchObject({ reason: 'fault', pc: 1, steps: 0 });
  });

  it('faults like the interpreter: read-only, misaligned atomic, budget, call depth, unknown helper, falling off the end', () => {
    const cases: [string, Parameters<typeof makeRequest>[0], string, number][] = [
      [`lddw %r1, ${RODATA}\nstb [%r1], 1\nexit`, {}, 'read_only', 2],
      ['lock add [%r10-12], %r1\nexit', {}, 'misaligned_atomic', 0],
      ['mov %r0, 0\nloop:\nadd %r0, 1\nja loop', { budget: 3 }, 'budget_exceeded', 2],
      ['f:\ncall local f\nexit', {}, 'call_depth', 0],
      ['mov %r2, 77\ncall %r2\nexit', {}, 'unknown_helper', 1],
      ['call btf 3\nexit', {}, 'unknown_helper', 0],
      ['mov %r0, 1\nmov %r0, 2', {}, 'fell_off_end', 1],
    ];
    for (const [src, options, code, pc] of cases) {
      const s = stepper(src, options);
      const stop = s.run();
      expect(stop.reason, src).toBe('fault');
      const fault = s.result as FaultEvent;
      expect([fault.error.code, fault.error.pc, fault.pc], src).toEqual([code, pc, pc]);
      let interp: unknown;
      try {
        new Interpreter(assemble(src)).run(makeRequest({ input: INPUT_3, helpers, ...options }));
      } catch (e) {
        interp = e;
      }
      expect((interp as ExecutionError).message, src).toBe(fault.error.message);
    }
  });

  it('turns what a helper throws into helper_failed, and lets its ExecutionError through', () => {
    const boom: HelperFn = () => {
      throw new TypeError('boom');
    };
    const own: HelperFn = (_1, _2, _3, _4, _5, env) => {
      throw new ExecutionError('helper_failed', 'refused', env.pc);
    };
    const s = stepper('call 1\nexit', { helpers: new Map([[1, boom]]) });
    expect((s.step() as FaultEvent).error).toMatchObject({ code: 'helper_failed', pc: 0, message: 'pc 0: helper 1 failed: boom' });
    const t = stepper('mov %r0, 0\ncall 1\nexit', { helpers: new Map([[1, own]]) });
    t.step();
    expect((t.step() as FaultEvent).error.message).toBe('pc 1: refused');
  });

  it('ends the run when a helper unwinds, and on a legacy packet load outside the packet (r0 = 0)', () => {
    const unwind: HelperFn = (r1) => {
      throw new UnwindSignal(r1 + 1n);
    };
    const s = stepper('mov %r1, 41\ncall 5\nmov %r0, 0\nexit', { helpers: new Map([[5, unwind]]) });
    const done = s.run().last as DoneEvent;
    expect(done).toMatchObject({ kind: 'done', r0: 42n, reason: 'unwind', pc: 1 });
    expect(done.helper).toMatchObject({ id: 5, result: 42n, unwound: true });
    const viaEnv: HelperFn = (_1, _2, _3, _4, _5, env) => env.unwind!(7n);
    expect(stepper('call 5\nmov %r0, 0\nexit', { helpers: new Map([[5, viaEnv]]) }).run().last).toMatchObject({ r0: 7n, reason: 'unwind' });

    const pkt = stepper('ldabsb 0\nmov %r6, %r0\nldabsw 2\nmov %r0, 9\nexit');
    expect(instruction(pkt.step()).regs).toEqual([{ reg: 0, old: 0n, new: 3n }]);
    pkt.step();
    expect(pkt.step()).toMatchObject({ kind: 'done', r0: 0n, reason: 'packet', pc: 2 });
  });

  it('refuses what the interpreter refuses at load, with the same code', () => {
    expect(() => new StepperExecutable(assemble('lddw map_fd %r1, 3\nexit'))).toThrow(InvalidProgramError);
    try {
      new StepperExecutable(assemble('lddw map_fd %r1, 3\nexit'));
    } catch (e) {
      expect((e as InvalidProgramError).code).toBe('bad_lddw_src');
    }
  });
});

describe('atomics', () => {
  const src = `
    stdw [%r10-8], 5
    mov %r1, 3
    lock fetch add [%r10-8], %r1
    mov %r0, 8
    mov %r2, 100
    lock cmpxchg [%r10-8], %r2
    lock fetch xor32 [%r10-8], %r2
    ldxdw %r3, [%r10-8]
    add %r0, %r3
    add %r0, %r1
    add %r0, %r2
    exit`;

  it('match the interpreter on an ordinary and on a shared memory', () => {
    for (const shared of [false, true]) {
      const memory = new WebAssembly.Memory({ initial: 4, maximum: 16, shared });
      const want = new Interpreter(assemble(src)).run(makeRequest({ memory }));
      const s = new Stepper(assemble(src), makeRequest({ memory }));
      const events: StepEvent[] = [];
      s.run({ onStep: (e) => events.push(e) });
      expect(s.result, `shared: ${shared}`).toMatchObject({ kind: 'done', r0: want });
      const cmpxchg = events[5] as InstructionEvent;
      expect(cmpxchg.writes).toEqual([{ addr: FP - 8, size: 8, bytes: Uint8Array.of(100, 0, 0, 0, 0, 0, 0, 0) }]);
      // The old value (5 + 3) equalled r0, so 100 was stored and r0 received 8 again: no register changed.
      expect(cmpxchg.regs).toEqual([]);
    }
  });
});

describe('StepperExecutable', () => {
  it('runs as the engine `step` of a runtime, like the interpreter', async () => {
    const rt = new Runtime();
    const program = assemble(PROGRAM);
    const step = await rt.load(program, { engine: 'step', helpers });
    const interp = await rt.load(program, { engine: 'interp', helpers });
    expect(step.executable).toBeInstanceOf(StepperExecutable);
    expect(step.run(INPUT_3).r0).toBe(13n);
    expect(interp.run(INPUT_3).r0).toBe(13n);
    expect(step.runPacket(INPUT_3)).toBe(13);
  });

  it('reports every event of a run to its trace, and nothing without one', () => {
    const exe = new StepperExecutable(assemble(PROGRAM));
    const events: StepEvent[] = [];
    expect(exe.run(makeRequest({ input: INPUT_3, helpers }))).toBe(13n);
    exe.trace = (e) => events.push(e);
    expect(exe.run(makeRequest({ input: INPUT_3, helpers }))).toBe(13n);
    expect(events).toHaveLength(20);
    expect(events.at(-1)).toMatchObject({ kind: 'done', r0: 13n });
    const faulty = new StepperExecutable(assemble('ldxw %r0, [%r1+8]\nexit'));
    faulty.trace = (e) => events.push(e);
    expect(() => faulty.run(makeRequest({ input: INPUT_3 }))).toThrow(/^pc 0: load of 4 bytes/);
    expect(events.at(-1)).toMatchObject({ kind: 'fault', pc: 0 });
  });
});

describe('trace lines', () => {
  it('print the pc, the disassembly indented by depth, and what changed', () => {
    const events: StepEvent[] = [];
    stepper().run({ onStep: (e) => events.push(e) });
    const lines = events.map((e) => formatEvent(e));
    expect(lines[0]).toBe(`   0: mov %r6, %r1                     r6=0x${INPUT.toString(16)} (was 0x0)`);
    expect(lines[5]).toBe('   5: jne %r2, 0, -3                   taken -> 3');
    expect(lines[11]).toBe('   5: jne %r2, 0, -3                   not taken');
    expect(lines[12]).toBe(`   6: stxw [%r10-4], %r0               [0x${(FP - 4).toString(16)}] <- 4 bytes 06000000`);
    expect(lines[14]).toBe('   8: call 1                           call bpf_map_lookup_elem(0x6, 0x0) = 0xc');
    expect(lines[15]).toBe(`   9: call local +1                    call -> 11 (depth 1); r10=0x${(FP - 512).toString(16)} (was 0x${FP.toString(16)})`);
    expect(lines[16]).toBe(`  11:   mov %r6, 99                    r6=0x63 (was 0x${INPUT.toString(16)})`);
    expect(lines[18]).toMatch(/^ {2}13: {3}exit +return -> 10 \(depth 0\); r6=/);
    expect(lines[19]).toBe('  10: exit                             exit: r0 = 0xd');
    const fault = stepper('ldxw %r0, [%r1+8]\nexit').step();
    expect(formatEvent(fault)).toBe(`   0: ldxw %r0, [%r1+8]                FAULT out_of_bounds: load of 4 bytes at 0x${(INPUT + 8).toString(16)} is outside every region`);
  });
});
