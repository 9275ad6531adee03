/**
 * What every stage of one verification reads: the program, its CFG, the mode, the program type and context
 * layout, the maps, the helper prototypes the host grants, and the widening thresholds. Built once by
 * `verify` (verify.ts) from its options.
 *
 * Not here: the options' documentation (verify.ts), the analysis (analyze.ts).
 */

import type { MapSpec } from '../elf/maps.js';
import type { Program } from '../isa/program.js';
import type { VerifierCfg } from './cfg.js';
import type { ContextLayout, ProgramType } from './context.js';
import type { HelperProto } from './helpers.js';
import type { Thresholds } from './scalar.js';

/** Everything the analysis of one program reads. */
export interface Env {
  readonly program: Program;
  readonly cfg: VerifierCfg;
  /** Strict (Linux-like: reject what cannot be proven) or permissive (check at run time what is not proven). */
  readonly strict: boolean;
  readonly type: ProgramType;
  /** The context layout (`undefined` for `raw`). */
  readonly layout: ContextLayout | undefined;
  /** The program's maps, then the inner maps of maps of maps (appended, so map pointers stay indexes). */
  readonly maps: readonly MapSpec[];
  /** How many of {@link Env.maps} are the program's own (`lddw map_idx` may name only those). */
  readonly programMaps: number;
  /** Index in {@link Env.maps} of the inner map of each map of maps. */
  readonly innerMap: ReadonlyMap<number, number>;
  /** Prototypes of the helpers the program may call (granted by the host and allowed for the program type). */
  readonly helpers: ReadonlyMap<number, HelperProto>;
  /** Helper ids the host grants but the program type does not allow (to word the rejection). */
  readonly deniedByType: ReadonlySet<number>;
  /** `raw` programs: whether stores to the input buffer may be proven (the host runs them on writable input). */
  readonly rawWritable: boolean;
  readonly thresholds: Thresholds;
  /** The source line of a slot (`file.c:12: text`), when the program has line info. */
  readonly source: (pc: number) => string | undefined;
  /** Upper bound on instructions the analysis may visit before giving up (`too_complex`). */
  readonly maxSteps: number;
}
