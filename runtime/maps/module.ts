/**
 * Loading the map module: compiles the embedded Wasm once per variant (shared or unshared memory import) and
 * instantiates it on a memory. One instance per thread; instances on one shared memory cooperate.
 *
 * Not here: setting up or attaching to the map area (registry.ts), the ABI (abi.ts).
 */

import { InternalError } from '../../src/errors.js';
import { MAP_EXPORT_NAMES, type MapExports } from './abi.js';
import { MAPS_WASM_SHARED, MAPS_WASM_UNSHARED } from './binary.js';

const compiled: { shared?: WebAssembly.Module; unshared?: WebAssembly.Module } = {};

/** Whether a memory is backed by a SharedArrayBuffer. */
export function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/** The compiled map module whose memory import matches `shared` (compiled on first use, then cached). */
export function mapsModule(shared: boolean): WebAssembly.Module {
  const key = shared ? 'shared' : 'unshared';
  let m = compiled[key];
  if (m === undefined) {
    m = new WebAssembly.Module(Buffer.from(shared ? MAPS_WASM_SHARED : MAPS_WASM_UNSHARED, 'base64'));
    compiled[key] = m;
  }
  return m;
}

/**
 * A fresh instance of the map module on `memory` (not yet attached to a map area). `module` may be one
 * received from another thread (a compiled module can be posted), else the cached one is used.
 */
export function instantiateMaps(memory: WebAssembly.Memory, module?: WebAssembly.Module): MapExports {
  const mod = module ?? mapsModule(isShared(memory));
  const instance = new WebAssembly.Instance(mod, { env: { memory } });
  const exports = instance.exports as unknown as MapExports;
  for (const name of MAP_EXPORT_NAMES) {
    if (typeof exports[name] !== 'function') throw new InternalError(`map module lacks the export '${name}'`);
  }
  return exports;
}
