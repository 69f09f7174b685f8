#!/usr/bin/env node
// fleetpoll's entry point (package.json "bin"): turns on Node's own compile cache where this Node
// has one, then runs the command line (cli-main.ts).
import nodeModule from 'node:module';

// Node 22.1+ keeps the compiled code of loaded modules on disk (module.enableCompileCache), which
// spares every later run much of its start-up; Node 20 has no such cache and runs the same, only
// compiling each time. Must run before cli-main and its imports are loaded.
const withCache = nodeModule as { enableCompileCache?: () => unknown };
withCache.enableCompileCache?.();

await import('./cli-main.js');
