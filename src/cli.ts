#!/usr/bin/env node
// fleetpoll's entry point (package.json "bin", the README's commands). Runs the command line
// (cli-main.ts) from the single-file bundle `npm run build` makes, through a V8 code cache:
// loading and compiling ~200 modules was most of a small poll's CPU (README "Performance").
// A build without the bundle (plain `tsc`) runs the modules themselves.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cacheModeFrom, pollsByArgs, runBundle } from './code-cache.js';
import { tuneTiering } from './v8-tiering.js';

tuneTiering();

const bundlePath = fileURLToPath(new URL('../bundle/fleetpoll.cjs', import.meta.url));
if (existsSync(bundlePath)) {
  runBundle({ bundlePath, cachePath: `${bundlePath}.cache`, cache: cacheModeFrom(process.env), polls: pollsByArgs(process.argv.slice(2)) });
} else {
  await import('./cli-main.js');
}
