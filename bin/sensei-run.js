#!/usr/bin/env node
// Runs the sensei-run daemon in this process through tsx's loader (see bin/sensei.js).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/tooling/daemon/main.ts');
// Exit explicitly: connector clients may keep timers alive after a clean stop.
process.exit(await main(process.argv.slice(2)));
