/**
 * Synthetic programs of a chosen size for the compile-latency benchmark: deterministic (a seeded xorshift), and
 * shaped like what clang emits for packet-processing code rather than like a random stream: straight-line ALU
 * work (64- and 32-bit, immediates and registers, some division), spills and reloads on the stack, packet loads
 * behind bounds checks against the end pointer, if/else diamonds, small counted loops, and a few subprograms
 * called from the main function.
 *
 * The programs run (r1 = packet, r2 = length) and terminate; what they compute does not matter.
 *
 * Not here: the timing (compile.ts).
 */

/** Registers the generator uses freely; r6 = packet, r7 = packet end, r9 = loop counter, r10 = frame. */
const TEMPS = [0, 1, 2, 3, 4, 5, 8] as const;
const ALU = ['add', 'sub', 'mul', 'and', 'or', 'xor', 'lsh', 'rsh', 'arsh', 'mov'] as const;
const JMP = ['jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle', 'jsgt', 'jslt', 'jset'] as const;

class Rng {
  constructor(private x: number) {
    this.x = x >>> 0 || 1;
  }
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    return this.x;
  }
  below(n: number): number {
    return this.next() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)];
  }
  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }
}

/**
 * Assembly text of a program of about `insns` instructions (within a few of it), from `seed`.
 */
export function synthProgram(insns: number, seed = 1): string {
  const rng = new Rng(seed);
  let labels = 0;
  const label = (): string => `L${labels++}`;
  const subs = Math.max(0, Math.floor(insns / 400));
  const out: string[] = [];
  let count = 0;
  const emit = (line: string): void => {
    out.push(line);
    if (!line.endsWith(':')) count++;
  };
  const reg = (): string => `r${rng.pick(TEMPS)}`;
  const alu = (): void => {
    const op = rng.pick(ALU);
    const w = rng.chance(0.3) ? '32' : '';
    const shift = op === 'lsh' || op === 'rsh' || op === 'arsh';
    const src = shift ? String(rng.below(w ? 32 : 64)) : rng.chance(0.5) ? reg() : String((rng.next() | 0) >> rng.below(24));
    emit(`${op}${w} ${reg()}, ${src}`);
  };
  /** One statement; `inLoop`: no nested loops, no calls. */
  const stmt = (inLoop: boolean, fn: number): void => {
    const r = rng.below(100);
    if (r < 45) alu();
    else if (r < 50) emit(`${rng.pick(['div', 'mod'])}${rng.chance(0.5) ? '32' : ''} ${reg()}, ${rng.chance(0.5) ? reg() : String(1 + rng.below(1000))}`);
    else if (r < 58) emit(`stxdw [r10-${8 * (1 + rng.below(32))}], ${reg()}`);
    else if (r < 66) emit(`ldxdw ${reg()}, [r10-${8 * (1 + rng.below(32))}]`);
    else if (r < 78) {
      // A packet field behind a bounds check, as clang emits for `if (data + off + size > data_end) goto out;`.
      const size = rng.pick([1, 2, 4]);
      const off = rng.below(60);
      const skip = label();
      emit('mov r5, r6');
      emit(`add r5, ${off + size}`);
      emit(`jgt r5, r7, ${skip}`);
      emit(`ldx${size === 1 ? 'b' : size === 2 ? 'h' : 'w'} ${reg()}, [r6+${off}]`);
      if (rng.chance(0.3)) emit(`stx${size === 1 ? 'b' : size === 2 ? 'h' : 'w'} [r6+${off}], ${reg()}`);
      emit(`${skip}:`);
    } else if (r < 93) {
      const other = label();
      const end = label();
      emit(`${rng.pick(JMP)}${rng.chance(0.3) ? '32' : ''} ${reg()}, ${rng.chance(0.5) ? reg() : String(rng.below(256))}, ${other}`);
      for (let i = 1 + rng.below(4); i > 0; i--) alu();
      emit(`ja ${end}`);
      emit(`${other}:`);
      for (let i = 1 + rng.below(4); i > 0; i--) alu();
      emit(`${end}:`);
    } else if (r < 97 && !inLoop) {
      const top = label();
      emit(`mov r9, ${2 + rng.below(6)}`);
      emit(`${top}:`);
      for (let i = 2 + rng.below(5); i > 0; i--) stmt(true, fn);
      emit('sub r9, 1');
      emit(`jne r9, 0, ${top}`);
    } else if (!inLoop && fn === 0 && subs > 0) emit(`call local F${1 + rng.below(subs)}`);
    else alu();
  };
  const body = (fn: number, budget: number): void => {
    const stop = count + budget;
    while (count < stop) stmt(false, fn);
    emit('exit');
  };
  // main: the packet and its end in r6 and r7, then its share of the work.
  emit('mov r6, r1');
  emit('mov r7, r1');
  emit('add r7, r2');
  for (const r of TEMPS) emit(`mov ${`r${r}`}, ${r}`);
  // Every subprogram is called at least once (an uncalled one would be dead code, which no JIT compiles).
  for (let f = 1; f <= subs; f++) emit(`call local F${f}`);
  const share = Math.floor(insns / (subs + 1));
  body(0, share - count - 1);
  for (let f = 1; f <= subs; f++) {
    emit(`F${f}:`);
    body(f, Math.max(1, insns - count - (subs - f) * share - 1));
  }
  return out.join('\n');
}
