// Empties dist/ before a build: tsc never removes the output of a source file that was deleted or
// renamed, and `node --test dist/test/` would go on running a stale test of it.
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
