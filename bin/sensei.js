#!/usr/bin/env node
// Runs the TypeScript CLI in this process through tsx's loader. Worker
// threads do not inherit a loader registered this way on Node 20, so the
// runtime's worker entry (runtime/worker-entry.mjs) registers tsx itself.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/tooling/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
