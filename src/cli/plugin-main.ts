#!/usr/bin/env node
/**
 * `ebpf-wasm-conformance-plugin`: the conformance plugin as its own executable, for the bpf_conformance runner's
 * `--plugin_path` (which passes the memory hex and the plugin options as the first arguments, so it cannot be
 * given a sub-command). Same behaviour as `ebpf-wasm conformance-plugin`.
 */

import { runPlugin } from './plugin.js';

runPlugin(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stdout.write((e instanceof Error ? e.message : String(e)).split('\n')[0] + '\n');
    process.exitCode = 1;
  },
);
