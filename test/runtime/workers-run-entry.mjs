// Entry of the pool workers of workers-run.test.ts: registers the TypeScript hooks (vitest transforms only the
// test files it runs, not what worker threads load), then runs the pool's worker, runtime/workers/worker.ts.
import { register } from 'node:module';

register('./workers-ts-hooks.mjs', import.meta.url);
await import('../../runtime/workers/worker.ts');
