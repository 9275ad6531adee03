/**
 * The Binaryen backend, wrapped once: the only file that imports `binaryen`.
 *
 * Everything else in codegen/ builds Wasm through {@link WasmBuilder} (typed expression constructors, `Expr`
 * handles that cannot be confused with plain numbers) and {@link CfgBuilder} (Binaryen's Relooper, with the
 * checks that keep Binaryen from aborting the whole process). Binaryen is loaded lazily with a dynamic import:
 * loading it costs about 0.3 s, and paths that never compile must not pay for it.
 *
 * Binaryen aborts the process (or leaves itself unusable) on some misuse: two Relooper branches between the same
 * pair of blocks, a block with branches but no default, `i64.const` with two arguments. The wrappers here make
 * those mistakes impossible or turn them into an `InternalError` before Binaryen sees them.
 *
 * Not here: what to emit (the lowering files), the module layout and ABI (frame.ts), running the module
 * (host.ts).
 */

import type binaryenNs from 'binaryen';
import { InternalError } from '../src/errors.js';

type Binaryen = typeof binaryenNs;
type Module = InstanceType<Binaryen['Module']>;

let lib: Binaryen | undefined;
let loading: Promise<Binaryen> | undefined;

/** Loads Binaryen once (a dynamic import; about 0.3 s the first time). */
export function loadBinaryen(): Promise<void> {
  loading ??= import('binaryen').then((m) => (lib = m.default));
  return loading.then(() => undefined);
}

/** Whether {@link loadBinaryen} has completed, so that modules can be built synchronously. */
export function binaryenLoaded(): boolean {
  return lib !== undefined;
}

function binaryen(): Binaryen {
  if (lib === undefined) throw new InternalError('Binaryen used before loadBinaryen() completed');
  return lib;
}

/** The C API entry points behind `i32.const` / `i64.const`, which binaryen.js exports as well. */
interface RawConstApi {
  _malloc(size: number): number;
  _BinaryenSizeofLiteral(): number;
  _BinaryenLiteralInt32(out: number, value: number): void;
  _BinaryenLiteralInt64(out: number, value: bigint): void;
  _BinaryenConst(module: number, literal: number): number;
}

/** One literal buffer for the process: Binaryen copies a literal into the expression it makes. */
let literalBuffer: number | undefined;

/**
 * Constant constructors through Binaryen's C API, when binaryen.js exposes it: the public `const` allocates
 * the literal on the Emscripten stack inside a closure each time, which made constants a third of the
 * translation time. Undefined when the entry points are missing (another binaryen.js build): then the public
 * API serves.
 */
function rawConsts(bn: Binaryen, m: Module): { i32: (v: number) => Expr; i64: (v: bigint) => Expr } | undefined {
  const api = bn as unknown as Partial<RawConstApi>;
  if (
    typeof api._malloc !== 'function' || typeof api._BinaryenSizeofLiteral !== 'function' ||
    typeof api._BinaryenLiteralInt32 !== 'function' || typeof api._BinaryenLiteralInt64 !== 'function' ||
    typeof api._BinaryenConst !== 'function'
  ) {
    return undefined;
  }
  const c = api as RawConstApi;
  const lit = (literalBuffer ??= c._malloc(c._BinaryenSizeofLiteral()));
  const mod = m.ptr;
  return {
    i32: (v) => {
      c._BinaryenLiteralInt32(lit, v | 0);
      return c._BinaryenConst(mod, lit) as Expr;
    },
    i64: (v) => {
      c._BinaryenLiteralInt64(lit, BigInt.asIntN(64, v));
      return c._BinaryenConst(mod, lit) as Expr;
    },
  };
}

/** The C API entry points behind named expressions (globals, branches, loops, labelled blocks). */
interface RawNameApi {
  _malloc(size: number): number;
  stringToAscii(text: string, out: number): void;
  _BinaryenGlobalGet(module: number, name: number, type: number): number;
  _BinaryenGlobalSet(module: number, name: number, value: number): number;
  _BinaryenBreak(module: number, name: number, condition: number, value: number): number;
  _BinaryenLoop(module: number, name: number, body: number): number;
  _BinaryenBlock(module: number, name: number, children: number, count: number, type: number): number;
}

/**
 * Names copied into Binaryen's heap once for the process (Binaryen interns the names it is given, so one copy
 * serves every module): global names and labels. Bounded, since labels are made from slot numbers; past
 * {@link NAME_CACHE_LIMIT} names the public API serves.
 */
const nameCache = new Map<string, number>();
const NAME_CACHE_LIMIT = 1 << 16;

/**
 * Named-expression constructors through Binaryen's C API, when binaryen.js exposes it: the public API copies
 * every name onto the Emscripten stack inside a closure, about 1 µs a call, which made the entries' hundreds
 * of `global.set`s most of the fixed cost of a module. Undefined when the entry points are missing.
 */
function rawNames(bn: Binaryen, m: Module): RawNamed | undefined {
  const api = bn as unknown as Partial<RawNameApi>;
  const needed: (keyof RawNameApi)[] = ['_malloc', 'stringToAscii', '_BinaryenGlobalGet', '_BinaryenGlobalSet', '_BinaryenBreak', '_BinaryenLoop', '_BinaryenBlock'];
  if (needed.some((k) => typeof api[k] !== 'function')) return undefined;
  const c = api as RawNameApi;
  const mod = m.ptr;
  const name = (text: string): number | undefined => {
    let p = nameCache.get(text);
    if (p === undefined) {
      if (nameCache.size >= NAME_CACHE_LIMIT || !/^[\x21-\x7e]+$/.test(text)) return undefined;
      p = c._malloc(text.length + 1);
      c.stringToAscii(text, p);
      nameCache.set(text, p);
    }
    return p;
  };
  return {
    globalGet: (n, type) => {
      const p = name(n);
      return p === undefined ? (m.global.get(n, type) as Expr) : (c._BinaryenGlobalGet(mod, p, type) as Expr);
    },
    globalSet: (n, value) => {
      const p = name(n);
      return p === undefined ? (m.global.set(n, value) as Expr) : (c._BinaryenGlobalSet(mod, p, value) as Expr);
    },
    br: (n, cond) => {
      const p = name(n);
      if (p === undefined) return (cond === undefined ? m.br(n) : m.br(n, cond)) as Expr;
      return c._BinaryenBreak(mod, p, cond ?? 0, 0) as Expr;
    },
    loop: (n, body) => {
      const p = name(n);
      return p === undefined ? (m.loop(n, body) as Expr) : (c._BinaryenLoop(mod, p, body) as Expr);
    },
    emptyBlock: (n, type) => {
      const p = name(n);
      return p === undefined ? (m.block(n, [], type) as Expr) : (c._BinaryenBlock(mod, p, 0, 0, type) as Expr);
    },
  };
}

interface RawNamed {
  globalGet(name: string, type: number): Expr;
  globalSet(name: string, value: Expr): Expr;
  br(name: string, cond?: Expr): Expr;
  loop(name: string, body: Expr): Expr;
  /** An empty block labelled `name`, of type `type`. */
  emptyBlock(name: string, type: number): Expr;
}

/** A Binaryen expression handle. Only {@link WasmBuilder} makes them. */
export type Expr = number & { readonly __wasmExpr: unique symbol };
/** Wasm value types the translator uses. */
export type ValType = 'i32' | 'i64';
/** Atomic read-modify-write operations. */
export type RmwOp = 'add' | 'and' | 'or' | 'xor' | 'xchg';

type BinOp =
  | 'add' | 'sub' | 'mul' | 'div_s' | 'div_u' | 'rem_s' | 'rem_u' | 'and' | 'or' | 'xor' | 'shl' | 'shr_u' | 'shr_s'
  | 'rotl' | 'rotr' | 'eq' | 'ne' | 'lt_s' | 'lt_u' | 'le_s' | 'le_u' | 'gt_s' | 'gt_u' | 'ge_s' | 'ge_u';

/** Binary operators shared by i32 and i64 (comparisons return i32). */
export type IntBinOps = { readonly [K in BinOp]: (a: Expr, b: Expr) => Expr };

/** i64 operators. */
export interface I64Ops extends IntBinOps {
  const(value: bigint): Expr;
  eqz(a: Expr): Expr;
  extend8_s(a: Expr): Expr;
  extend16_s(a: Expr): Expr;
  extend32_s(a: Expr): Expr;
  /** i64.extend_i32_u */
  extend_u(a: Expr): Expr;
  /** i64.extend_i32_s */
  extend_s(a: Expr): Expr;
}

/** i32 operators. */
export interface I32Ops extends IntBinOps {
  const(value: number): Expr;
  eqz(a: Expr): Expr;
  extend8_s(a: Expr): Expr;
  extend16_s(a: Expr): Expr;
  /** i32.wrap_i64 */
  wrap(a: Expr): Expr;
}

const BIN_OPS: readonly BinOp[] = [
  'add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor', 'shl', 'shr_u', 'shr_s', 'rotl', 'rotr',
  'eq', 'ne', 'lt_s', 'lt_u', 'le_s', 'le_u', 'gt_s', 'gt_u', 'ge_s', 'ge_u',
];

/** Wasm features the generated modules use (all shipped in Node 20). */
export interface ModuleFeatures {
  /** Import the memory as shared (a SharedArrayBuffer-backed `WebAssembly.Memory`). */
  readonly sharedMemory: boolean;
  /** Name functions' locals (only the text form shows them: naming costs a call into Binaryen a local). */
  readonly localNames?: boolean;
}

/**
 * Builds one Wasm module: imports, globals, functions, and the expressions inside them. Dispose it when done
 * (Binaryen's memory is not garbage collected).
 */
export class WasmBuilder {
  private readonly m: Module;
  private readonly bn: Binaryen;
  private disposed = false;
  private readonly named: RawNamed | undefined;
  private readonly localNames: boolean;
  readonly i64: I64Ops;
  readonly i32: I32Ops;

  constructor(features: ModuleFeatures) {
    this.bn = binaryen();
    const bn = this.bn;
    const m = new bn.Module();
    this.m = m;
    // BulkMemoryOpt is memory.fill / memory.copy (Binaryen asserts it with BulkMemory before it emits either).
    m.setFeatures(bn.Features.Atomics | bn.Features.BulkMemory | bn.Features.BulkMemoryOpt | bn.Features.SignExt | bn.Features.MutableGlobals);
    // setMemory before addMemoryImport: the other order silently drops the import.
    m.setMemory(1, features.sharedMemory ? 65536 : -1, null, [], features.sharedMemory, false, 'memory');
    m.addMemoryImport('memory', 'env', 'memory', features.sharedMemory);

    const bin = (ns: Record<BinOp, (a: number, b: number) => number>): IntBinOps => {
      const out = {} as Record<BinOp, (a: Expr, b: Expr) => Expr>;
      for (const op of BIN_OPS) out[op] = (a, b) => ns[op](a, b) as Expr;
      return out;
    };
    const raw = rawConsts(bn, m);
    this.named = rawNames(bn, m);
    this.localNames = features.localNames ?? true;
    this.i64 = {
      ...bin(m.i64),
      const: raw ? raw.i64 : (v) => m.i64.const(BigInt.asIntN(64, v)) as Expr,
      eqz: (a) => m.i64.eqz(a) as Expr,
      extend8_s: (a) => m.i64.extend8_s(a) as Expr,
      extend16_s: (a) => m.i64.extend16_s(a) as Expr,
      extend32_s: (a) => m.i64.extend32_s(a) as Expr,
      extend_u: (a) => m.i64.extend_u(a) as Expr,
      extend_s: (a) => m.i64.extend_s(a) as Expr,
    };
    this.i32 = {
      ...bin(m.i32),
      const: raw ? raw.i32 : (v) => m.i32.const(v | 0) as Expr,
      eqz: (a) => m.i32.eqz(a) as Expr,
      extend8_s: (a) => m.i32.extend8_s(a) as Expr,
      extend16_s: (a) => m.i32.extend16_s(a) as Expr,
      wrap: (a) => m.i32.wrap(a) as Expr,
    };
  }

  private type(t: ValType | 'none'): number {
    return t === 'i32' ? this.bn.i32 : t === 'i64' ? this.bn.i64 : this.bn.none;
  }

  private types(ts: readonly ValType[]): number {
    return this.bn.createType(ts.map((t) => this.type(t)));
  }

  // --- locals, globals, control -------------------------------------------------------------------------------

  getLocal(index: number, type: ValType): Expr {
    return this.m.local.get(index, this.type(type)) as Expr;
  }
  setLocal(index: number, value: Expr): Expr {
    return this.m.local.set(index, value) as Expr;
  }
  teeLocal(index: number, value: Expr, type: ValType): Expr {
    return this.m.local.tee(index, value, this.type(type)) as Expr;
  }
  getGlobal(name: string, type: ValType): Expr {
    return this.named ? this.named.globalGet(name, this.type(type)) : (this.m.global.get(name, this.type(type)) as Expr);
  }
  setGlobal(name: string, value: Expr): Expr {
    return this.named ? this.named.globalSet(name, value) : (this.m.global.set(name, value) as Expr);
  }
  /** `if` with an optional else arm; with both arms of a value type it is a value. */
  if(cond: Expr, then: Expr, otherwise?: Expr): Expr {
    return (otherwise === undefined ? this.m.if(cond, then) : this.m.if(cond, then, otherwise)) as Expr;
  }
  /** A block of statements (no label); with `type`, a block whose last child is its value. */
  block(children: readonly Expr[], type?: ValType): Expr {
    if (children.length === 1) return children[0];
    return (type === undefined ? this.m.block(null, children) : this.m.block(null, children, this.type(type))) as Expr;
  }
  /**
   * A labelled block of statements: `br label` jumps to its end. Its type is `none` whatever its children.
   *
   * Why not `block(label, children)`: Binaryen then finalizes the block by searching its whole subtree for
   * branches to the label, so k nested labelled blocks (a switch with k cases) cost O(k²): 3 s at k = 4000.
   * Created empty with an explicit type and filled with `appendChild`, a block is never re-finalized; `none`
   * is a valid type for any block of statements, reachable end or not.
   */
  namedBlock(label: string, children: readonly Expr[]): Expr {
    const append = (this.bn as unknown as { Block?: { appendChild?: (block: number, child: number) => number } }).Block?.appendChild;
    if (typeof append !== 'function') return this.m.block(label, children) as Expr;
    const block = this.named ? this.named.emptyBlock(label, this.bn.none) : this.m.block(label, [], this.bn.none);
    for (const c of children) append(block, c);
    return block as Expr;
  }
  /** A loop: `br label` jumps to its start. */
  loop(label: string, body: Expr): Expr {
    return this.named ? this.named.loop(label, body) : (this.m.loop(label, body) as Expr);
  }
  /** `br label`, or `br_if label cond`. */
  br(label: string, cond?: Expr): Expr {
    if (this.named) return this.named.br(label, cond);
    return (cond === undefined ? this.m.br(label) : this.m.br(label, cond)) as Expr;
  }
  /** `br_table labels default (index)`. */
  switch(labels: readonly string[], defaultLabel: string, index: Expr): Expr {
    return this.m.switch(labels, defaultLabel, index) as Expr;
  }
  call(name: string, args: readonly Expr[], result: ValType | 'none'): Expr {
    return this.m.call(name, args, this.type(result)) as Expr;
  }
  drop(value: Expr): Expr {
    return this.m.drop(value) as Expr;
  }
  return(value?: Expr): Expr {
    return this.m.return(value) as Expr;
  }
  unreachable(): Expr {
    return this.m.unreachable() as Expr;
  }
  nop(): Expr {
    return this.m.nop() as Expr;
  }
  /** `select`: `ifTrue` when `cond` (i32) is non-zero, else `ifFalse`; both are evaluated. */
  select(cond: Expr, ifTrue: Expr, ifFalse: Expr): Expr {
    return this.m.select(cond, ifTrue, ifFalse) as Expr;
  }

  // --- memory --------------------------------------------------------------------------------------------------

  /** `i64.load{bits}_{s,u}` (or `i64.load`) at i32 address `ptr`. */
  load64(size: 1 | 2 | 4 | 8, signed: boolean, ptr: Expr): Expr {
    const l = this.m.i64;
    switch (size) {
      case 1: return (signed ? l.load8_s(0, 1, ptr) : l.load8_u(0, 1, ptr)) as Expr;
      case 2: return (signed ? l.load16_s(0, 1, ptr) : l.load16_u(0, 1, ptr)) as Expr;
      case 4: return (signed ? l.load32_s(0, 1, ptr) : l.load32_u(0, 1, ptr)) as Expr;
      case 8: return l.load(0, 1, ptr) as Expr;
    }
  }
  /** `i64.store{bits} offset=off` of the low `size` bytes of i64 `value` at i32 address `ptr`. */
  store64(size: 1 | 2 | 4 | 8, ptr: Expr, value: Expr, offset = 0): Expr {
    const s = this.m.i64;
    switch (size) {
      case 1: return s.store8(offset, 1, ptr, value) as Expr;
      case 2: return s.store16(offset, 1, ptr, value) as Expr;
      case 4: return s.store32(offset, 1, ptr, value) as Expr;
      case 8: return s.store(offset, 1, ptr, value) as Expr;
    }
  }
  /** `i32.load offset=off` at i32 address `ptr` (aligned access expected). */
  load32(ptr: Expr, offset = 0): Expr {
    return this.m.i32.load(offset, 4, ptr) as Expr;
  }
  /** `i32.store offset=off` of i32 `value` at i32 address `ptr`. */
  store32(ptr: Expr, value: Expr, offset = 0): Expr {
    return this.m.i32.store(offset, 4, ptr, value) as Expr;
  }
  /** `i32.load16_u offset=off` at i32 address `ptr` (any alignment). */
  load16u(ptr: Expr, offset = 0): Expr {
    return this.m.i32.load16_u(offset, 1, ptr) as Expr;
  }
  /** `i32.store16 offset=off` of the low 16 bits of i32 `value` at i32 address `ptr`. */
  store16(ptr: Expr, value: Expr, offset = 0): Expr {
    return this.m.i32.store16(offset, 2, ptr, value) as Expr;
  }
  /** `memory.fill dest value size` (bulk memory). */
  memoryFill(dest: Expr, value: Expr, size: Expr): Expr {
    return this.m.memory.fill(dest, value, size) as Expr;
  }
  /** `i64.atomic.rmw{32}.{op}{_u}`: returns the old value, zero-extended. The address must be aligned. */
  atomicRmw(op: RmwOp, size: 4 | 8, ptr: Expr, value: Expr): Expr {
    const ns = size === 8 ? this.m.i64.atomic.rmw : this.m.i64.atomic.rmw32_u;
    return ns[op](0, ptr, value) as Expr;
  }
  /** `i64.atomic.rmw{32}.cmpxchg{_u}`: compares with `expected` (wrapped to `size`), returns the old value. */
  atomicCmpxchg(size: 4 | 8, ptr: Expr, expected: Expr, replacement: Expr): Expr {
    const ns = size === 8 ? this.m.i64.atomic.rmw : this.m.i64.atomic.rmw32_u;
    return ns.cmpxchg(0, ptr, expected, replacement) as Expr;
  }

  // --- module items --------------------------------------------------------------------------------------------

  addFunctionImport(name: string, params: readonly ValType[], result: ValType | 'none'): void {
    this.m.addFunctionImport(name, 'env', name, this.types(params), this.type(result));
  }
  addGlobal(name: string, type: ValType, init: bigint | number): void {
    const value = type === 'i64' ? this.i64.const(BigInt(init)) : this.i32.const(Number(init));
    this.m.addGlobal(name, this.type(type), true, value);
  }
  /** Adds a function; `localNames` (params, then vars) name its locals in the text form. */
  addFunction(name: string, params: readonly ValType[], result: ValType | 'none', vars: readonly ValType[], body: Expr, localNames?: readonly string[]): void {
    const f = this.m.addFunction(name, this.types(params), this.type(result), vars.map((t) => this.type(t)), body);
    // binaryen.js has `Function.setLocalName` on the namespace, though its typings put it on Module.
    const fns = (this.bn as unknown as { Function?: { setLocalName?: (f: number, index: number, name: string) => void } }).Function;
    if (this.localNames && localNames !== undefined && typeof fns?.setLocalName === 'function') localNames.forEach((n, i) => fns.setLocalName!(f, i, n));
  }
  addExport(name: string): void {
    this.m.addFunctionExport(name, name);
  }
  /** Exports global `name` under the same name (a mutable global: the MutableGlobals feature). */
  addGlobalExport(name: string): void {
    this.m.addGlobalExport(name, name);
  }

  /** A Relooper for one function body. */
  cfg(): CfgBuilder {
    return new CfgBuilder(new this.bn.Relooper(this.m));
  }

  // --- whole module --------------------------------------------------------------------------------------------

  /** Binaryen's validator (prints the problems to stderr). */
  validate(): boolean {
    return this.m.validate() === 1;
  }
  /** Runs Binaryen passes by name at the given optimize/shrink levels. */
  runPasses(passes: readonly string[], optimizeLevel: number, shrinkLevel: number): void {
    if (passes.length === 0) return;
    this.bn.setOptimizeLevel(optimizeLevel);
    this.bn.setShrinkLevel(shrinkLevel);
    this.m.runPasses(passes);
  }
  emitBinary(): Uint8Array {
    return this.m.emitBinary();
  }
  emitText(): string {
    return this.m.emitText();
  }
  dispose(): void {
    if (!this.disposed) this.m.dispose();
    this.disposed = true;
  }
}

/** A block handle of one {@link CfgBuilder}. */
export type CfgBlock = number & { readonly __cfgBlock: unique symbol };

/**
 * Binaryen's Relooper, guarded: it turns any control-flow graph (irreducible ones included) into structured
 * Wasm. Binaryen aborts the process on two branches between the same pair of blocks, so {@link addBranch}
 * refuses them, and {@link render} checks that every block with branches has exactly one default branch.
 */
export class CfgBuilder {
  private readonly blocks = new Set<CfgBlock>();
  private readonly edges = new Set<string>();
  private readonly defaults = new Map<CfgBlock, number>();
  private readonly outDegree = new Map<CfgBlock, number>();
  private done = false;

  constructor(private readonly r: InstanceType<Binaryen['Relooper']>) {}

  /** Adds a basic block whose body is `code` (a statement: no value). */
  addBlock(code: Expr): CfgBlock {
    this.live();
    const b = this.r.addBlock(code) as CfgBlock;
    this.blocks.add(b);
    return b;
  }

  /**
   * Adds an edge `from → to`, taken when `cond` (i32) holds, or the default edge when `cond` is undefined;
   * `code` runs when the edge is taken.
   */
  addBranch(from: CfgBlock, to: CfgBlock, cond?: Expr, code?: Expr): void {
    this.live();
    const key = `${from}>${to}`;
    if (this.edges.has(key)) throw new InternalError(`Relooper: second branch between the same two blocks (${key})`);
    if (!this.blocks.has(from) || !this.blocks.has(to)) throw new InternalError('Relooper: branch between unknown blocks');
    this.edges.add(key);
    this.outDegree.set(from, (this.outDegree.get(from) ?? 0) + 1);
    if (cond === undefined) this.defaults.set(from, (this.defaults.get(from) ?? 0) + 1);
    this.r.addBranch(from, to, cond ?? 0, code ?? 0);
  }

  /** Renders the structured body starting at `entry`; `labelLocal` is a spare i32 local. Disposes the Relooper. */
  render(entry: CfgBlock, labelLocal: number): Expr {
    this.live();
    for (const [b, n] of this.outDegree) {
      if (n > 0 && this.defaults.get(b) !== 1) throw new InternalError('Relooper: a block with branches needs exactly one default branch');
    }
    if (!this.blocks.has(entry)) throw new InternalError('Relooper: unknown entry block');
    this.done = true;
    return this.r.renderAndDispose(entry, labelLocal) as Expr;
  }

  private live(): void {
    if (this.done) throw new InternalError('Relooper used after render');
  }
}
