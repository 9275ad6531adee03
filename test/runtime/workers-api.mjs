// Entry of the worker of workers.test.ts that uses the JS API: registers the TypeScript hooks, then runs
// workers-api-body.ts.
import { register } from 'node:module';

register('./workers-ts-hooks.mjs', import.meta.url);
await import('./workers-api-body.ts');
