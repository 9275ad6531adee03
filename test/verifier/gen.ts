// Random programs for the verifier's soundness test: `raw` programs (r1 = input, r2 = its length) built from
// templates that exercise what the verifier reasons about: bounds checks on the input (against r1 + r2 and
// against the length), variable offsets, the stack (spills of pointers, variable offsets, atomics), counted and
// pointer loops, a pointer walking the input while a counter of the elements left counts down, branches, bpf-to-bpf calls with stack pointers, opaque helper calls. Most programs are safe
// and most of those the strict verifier accepts; a few templates are unsafe on purpose (an access one byte past
// the checked length, an unchecked access, a read of an uninitialised slot) so that rejections and unproven
// accesses happen too.
//
// Registers: r6 = input pointer, r7 = length, r9 = end of input (r6 + r7), never overwritten; r0, r3, r4, r5,
// r8 hold scalars; r1, r2 are scratch (call arguments). A seeded xorshift makes every program reproducible.

/** Deterministic random numbers. */
export class Rng {
  private x: number;
  constructor(seed: number) {
    this.x = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.x = x;
    return x;
  }
  int(lo: number, hi: number): number {
    return lo + (this.next() % (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.next() % xs.length];
  }
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }
}

/** Helper id of the opaque "fill" helper: writes min(r2, 16) bytes at r1 when they lie in the stack or the input. */
export const FILL_HELPER = 100;

const SCALARS = [0, 3, 4, 5, 8] as const;
const ALU = ['add', 'sub', 'mul', 'div', 'sdiv', 'or', 'and', 'lsh', 'rsh', 'mod', 'smod', 'xor', 'mov', 'arsh', 'neg'] as const;
const JMP = ['jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle', 'jset', 'jsgt', 'jsge', 'jslt', 'jsle'] as const;
const SIZES = [1, 2, 4, 8] as const;
const SZ: Record<number, string> = { 1: 'b', 2: 'h', 4: 'w', 8: 'dw' };

interface Gen {
  readonly rng: Rng;
  readonly lines: string[];
  label: number;
  /** Nesting depth of loops (no loops inside loops beyond 2). */
  loops: number;
  /** Whether the subprogram exists (calls go to it). */
  readonly sub: boolean;
  /** Skip labels of "fill a spilled pointer, check, use it" sequences whose use is still to be emitted. */
  readonly pending: string[];
  /** Loop counters in use: no statement writes them. */
  readonly protect: Set<number>;
  /** Whether calls may be emitted (not inside a loop counting in r0, which calls clobber). */
  callsOk: boolean;
  /** Only safe templates (the strict verifier should accept nearly every program). */
  readonly safe: boolean;
}

const sreg = (g: Gen): number => g.rng.pick(SCALARS);
/** A scalar register a statement may write (not a loop counter). */
const wreg = (g: Gen): number => g.rng.pick(SCALARS.filter((r) => !g.protect.has(r)));
const imm = (g: Gen): number =>
  g.rng.pick([0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 255, -1, -2, -8, 0x7fffffff, -0x80000000, 1000, g.rng.int(-100, 100), g.rng.next() | 0]);
const fresh = (g: Gen): string => `L${g.label++}`;

function emitAlu(g: Gen): void {
  const op = g.rng.pick(ALU);
  const w = g.rng.chance(0.3) ? '32' : '';
  const d = wreg(g);
  if (op === 'neg') {
    g.lines.push(`neg${w} %r${d}`);
    return;
  }
  const src = g.rng.chance(0.5) ? `%r${sreg(g)}` : String(imm(g));
  g.lines.push(`${op}${w} %r${d}, ${src}`);
}

/** An input access guarded by a check; `slack` < 0 makes it one byte too long (unsafe). */
function emitGuardedInput(g: Gen): void {
  const size = g.rng.pick(SIZES);
  const unsafe = !g.safe && g.rng.chance(0.04);
  const off = g.rng.int(0, 24);
  const k = off + size - (unsafe ? 1 : 0);
  const skip = fresh(g);
  const store = !g.rng.chance(0.7);
  const d = store ? sreg(g) : wreg(g);
  switch (g.rng.int(0, 3)) {
    case 0: // r6 + k > r9: skip
      g.lines.push(`mov %r1, %r6`, `add %r1, ${k}`, `jgt %r1, %r9, ${skip}`);
      break;
    case 1: // len < k: skip
      g.lines.push(`jlt %r7, ${k}, ${skip}`);
      break;
    case 2: // r9 < r6 + k: skip (end on the left)
      g.lines.push(`mov %r2, %r6`, `add %r2, ${k}`, `jlt %r9, %r2, ${skip}`);
      break;
    default: // 32-bit length check
      g.lines.push(`jlt32 %r7, ${k}, ${skip}`);
  }
  if (!store) g.lines.push(`ldx${SZ[size]} %r${d}, [%r6+${off}]`);
  else g.lines.push(`stx${SZ[size]} [%r6+${off}], %r${d}`);
  g.lines.push(`${skip}:`);
}

/** An input access at a variable (masked) index, checked against the end. */
function emitVariableInput(g: Gen): void {
  const size = g.rng.pick(SIZES);
  const skip = fresh(g);
  const i = sreg(g);
  const mask = g.rng.pick([3, 7, 15, 31, 63]);
  g.lines.push(`mov %r1, %r${i}`, `and %r1, ${mask}`, `mov %r2, %r6`, `add %r2, %r1`);
  if (!g.safe && g.rng.chance(0.05)) g.lines.push(`ldx${SZ[size]} %r${wreg(g)}, [%r2]`); // unchecked
  else g.lines.push(`mov %r1, %r2`, `add %r1, ${size}`, `jgt %r1, %r9, ${skip}`, `ldx${SZ[size]} %r${wreg(g)}, [%r2]`, `${skip}:`);
}

/** A bound proven on a copy of a scalar, used through the original: an index into the 64 initialised stack bytes. */
function emitCopyCheck(g: Gen): void {
  const skip = fresh(g);
  const k = g.safe ? g.rng.int(0, 63) : g.rng.int(0, 70);
  g.lines.push(`mov %r1, %r${sreg(g)}`, `mov %r2, %r1`);
  switch (g.rng.int(0, 2)) {
    case 0: g.lines.push(`jgt %r2, ${k}, ${skip}`); break;
    case 1: g.lines.push(`jge %r2, ${k + 1}, ${skip}`); break;
    default: g.lines.push(`jsgt %r2, ${k}, ${skip}`, `jslt %r1, 0, ${skip}`);
  }
  g.lines.push(`mov %r2, %r10`, `add %r2, -64`, `add %r2, %r1`, `ldxb %r${wreg(g)}, [%r2]`, `${skip}:`);
}

function emitStack(g: Gen): void {
  const size = g.rng.pick(SIZES);
  const slot = g.rng.int(1, g.safe ? 40 : 64); // safe: leave room for a callee's frame (512 bytes a chain)
  const off = -slot * 8 + (size === 8 ? 0 : g.rng.int(0, (8 / size) - 1) * size);
  switch (g.rng.int(0, 6)) {
    case 0: g.lines.push(`stx${SZ[size]} [%r10${off}], %r${sreg(g)}`); break;
    case 1: g.lines.push(`st${SZ[size]} [%r10${off}], ${imm(g)}`); break;
    case 2:
      if (g.safe || g.rng.chance(0.8)) g.lines.push(`stxdw [%r10${-slot * 8}], %r${sreg(g)}`);
      g.lines.push(`ldx${SZ[size]} %r${wreg(g)}, [%r10${off}]`);
      break;
    case 3: g.lines.push(`stxdw [%r10${-slot * 8}], %r${g.rng.pick([6, 9, 10])}`, `ldxdw %r1, [%r10${-slot * 8}]`); break; // spill a pointer, fill it
    case 4: { // variable stack offset
      const i = sreg(g);
      g.lines.push(`mov %r1, %r${i}`, `and %r1, 7`, `lsh %r1, 3`, `mov %r2, %r10`, `add %r2, -64`, `add %r2, %r1`);
      g.lines.push(g.rng.chance(0.7) ? `stxdw [%r2], %r${sreg(g)}` : `ldxdw %r${wreg(g)}, [%r2]`);
      break;
    }
    case 5: // atomic on an initialised slot
      g.lines.push(`stxdw [%r10${-slot * 8}], %r${sreg(g)}`, `${g.rng.pick(['lock add', 'lock fetch add', 'lock xchg', 'lock or'])} [%r10${-slot * 8}], %r${wreg(g)}`);
      break;
    default: { // a spilled input pointer, refilled and used after a check
      const skip = fresh(g);
      g.lines.push(`stxdw [%r10-${slot * 8}], %r6`, `ldxdw %r2, [%r10-${slot * 8}]`, `jlt %r7, 4, ${skip}`);
      g.pending.push(skip);
    }
  }
}

function flushPending(g: Gen): void {
  for (const skip of g.pending.splice(0)) g.lines.push(`ldxw %r${wreg(g)}, [%r2]`, `${skip}:`);
}

function emitBranch(g: Gen, depth: number): void {
  const skip = fresh(g);
  const op = g.rng.pick(JMP);
  const w = g.rng.chance(0.3) ? '32' : '';
  const src = g.rng.chance(0.5) ? `%r${sreg(g)}` : String(imm(g));
  g.lines.push(`${op}${w} %r${sreg(g)}, ${src}, ${skip}`);
  emitStatements(g, g.rng.int(1, 3), depth + 1);
  if (g.rng.chance(0.3)) {
    const end = fresh(g);
    g.lines.push(`ja ${end}`, `${skip}:`);
    emitStatements(g, g.rng.int(1, 2), depth + 1);
    g.lines.push(`${end}:`);
  } else g.lines.push(`${skip}:`);
}

function emitLoop(g: Gen, depth: number): void {
  g.loops++;
  const head = fresh(g);
  const done = fresh(g);
  // Counted loops count in r8, or in r0 when nested (then without calls, which clobber r0).
  const c = g.protect.has(8) ? 0 : 8;
  if (!g.protect.has(c) && g.rng.chance(0.6)) {
    const n = g.rng.int(1, 6);
    const callsOk = g.callsOk;
    g.protect.add(c);
    if (c === 0) g.callsOk = false;
    g.lines.push(`mov %r${c}, 0`, `${head}:`);
    emitStatements(g, g.rng.int(1, 3), depth + 1);
    if (g.rng.chance(0.5)) g.lines.push(`add %r${c}, 1`, `jlt %r${c}, ${n}, ${head}`);
    else g.lines.push(`add %r${c}, 1`, `jge %r${c}, ${n}, ${done}`, `ja ${head}`, `${done}:`);
    g.protect.delete(c);
    g.callsOk = callsOk;
  } else if (g.rng.chance(0.5)) {
    // Pointer loop over the input: r2 from r6 to the end, one byte at a time.
    g.lines.push(`mov %r2, %r6`, `${head}:`, `mov %r1, %r2`, `add %r1, 1`, `jgt %r1, %r9, ${done}`, `ldxb %r${wreg(g)}, [%r2]`, `add %r2, 1`, `ja ${head}`, `${done}:`);
  } else emitCountedWalk(g, head, done);
  g.loops--;
}

/**
 * A pointer walking the input while a counter of the elements left counts down (length relations): r1 = len >>
 * s elements of 2^s bytes, taken d at a time; r2 steps d·2^s bytes and reads inside the step. Unsafe variants
 * (not `safe`) read one byte past the step, or disturb the counter in the loop.
 */
function emitCountedWalk(g: Gen, head: string, done: string): void {
  const s = g.rng.int(0, 3);
  const d = g.rng.pick([1, 1, 2, 3]);
  const step = d << s;
  const size = g.rng.pick(SIZES.filter((n) => n <= step));
  const off = g.rng.int(0, step - size) + (!g.safe && g.rng.chance(0.15) ? 1 : 0);
  g.lines.push(`mov %r1, %r7`, `rsh %r1, ${s}`, `jlt %r1, ${d}, ${done}`, `mov %r2, %r6`, `${head}:`);
  g.lines.push(`ldx${SZ[size]} %r${wreg(g)}, [%r2+${off}]`);
  if (g.rng.chance(0.3)) emitAlu(g);
  if (!g.safe && g.rng.chance(0.15)) g.lines.push(`${g.rng.pick(['add', 'sub', 'and', 'rsh', 'lsh', 'mov'])} %r1, ${g.rng.pick([0, 1, 2, 3, 7])}`);
  g.lines.push(`add %r2, ${step}`, `sub %r1, ${d}`, d === 1 && g.rng.chance(0.5) ? `jne %r1, 0, ${head}` : `jge %r1, ${d}, ${head}`, `${done}:`);
}

function emitCall(g: Gen): void {
  if (g.sub && g.rng.chance(0.6)) {
    // The subprogram stores r2 at [r1] and returns it: r1 = a stack slot of ours.
    const slot = g.rng.int(1, g.safe ? 40 : 60) * 8;
    g.lines.push(`mov %r1, %r10`, `add %r1, -${slot}`, `mov %r2, %r${sreg(g)}`, `call local sub`, `ldxdw %r${wreg(g)}, [%r10-${slot}]`);
  } else if (g.rng.chance(0.5)) {
    const slot = g.rng.int(2, 60) * 8;
    g.lines.push(`mov %r1, %r10`, `add %r1, -${slot}`, `mov %r2, ${g.rng.int(0, 16)}`, `call ${FILL_HELPER}`);
  } else g.lines.push(`call ${g.rng.pick([5, 7])}`);
  // Strict mode: r1-r5 are undefined after a call.
  for (const r of [3, 4, 5]) if (!g.protect.has(r)) g.lines.push(`mov %r${r}, ${imm(g)}`);
}

function emitStatements(g: Gen, n: number, depth: number): void {
  for (let i = 0; i < n; i++) {
    const k = g.rng.int(0, 99);
    if (k < 25) emitAlu(g);
    else if (k < 30) emitCopyCheck(g);
    else if (k < 45) emitGuardedInput(g);
    else if (k < 52) emitVariableInput(g);
    else if (k < 70) emitStack(g);
    else if (k < 80 && depth < 3) emitBranch(g, depth);
    else if (k < 86 && g.loops < 2 && depth < 3) emitLoop(g, depth);
    else if (k < 93 && g.callsOk) emitCall(g);
    else if (k < 94 && !g.safe) g.lines.push(`ldx${SZ[g.rng.pick(SIZES)]} %r${wreg(g)}, [%r6+${g.rng.int(0, 8)}]`); // unchecked
    else emitAlu(g);
    flushPending(g);
  }
}

/**
 * A random program (assembly text) from `seed`. With `safe`, only safe templates (bounds-checked input accesses,
 * initialised stack, ...): a strict verifier told the input is writable should accept nearly all of them.
 */
export function genProgram(seed: number, safe = false): string {
  const rng = new Rng(seed);
  const g: Gen = { rng, lines: [], label: 0, loops: 0, sub: rng.chance(0.4), pending: [], protect: new Set(), callsOk: true, safe };
  let calls = 0;
  g.lines.push('mov %r6, %r1', 'mov %r7, %r2', 'mov %r9, %r1', 'add %r9, %r2');
  for (const r of SCALARS) g.lines.push(`mov %r${r}, ${imm(g)}`);
  if (safe || rng.chance(0.5)) for (let k = 1; k <= 8; k++) g.lines.push(`stdw [%r10-${8 * k}], ${k}`); // the variable-offset slots
  else if (rng.chance(0.05)) g.lines.push(`ldxdw %r3, [%r10-${rng.int(1, 64) * 8}]`); // uninitialised slot
  emitStatements(g, rng.int(3, 14), 0);
  g.lines.push('exit');
  calls = g.lines.filter((l) => l === 'call local sub').length;
  if (calls > 0) g.lines.push('sub:', 'stxdw [%r1], %r2', 'ldxdw %r0, [%r1]', 'exit');
  return g.lines.join('\n') + '\n';
}
