// Child process for test/store/lock.test.ts: prints "ready", waits for "go" on stdin, tries to take the
// run lock, prints the outcome as one JSON line, and holds a won lock until stdin closes, so every
// loser meets a live holder however slowly the racers started.
// Usage: node lock-racer.js <data dir>
import { createInterface } from 'node:readline';
import { acquireRunLock } from '../../src/store/lock.js';

const [dataDir] = process.argv.slice(2);
// `node --test dist/test/` runs every file under test/, helpers included: without arguments, do nothing.
if (dataDir === undefined) process.exit(0);

const lines = createInterface({ input: process.stdin });
const closed = new Promise<void>((resolve) => lines.once('close', resolve));
const go = new Promise<void>((resolve) => lines.once('line', () => resolve()));
process.stdout.write('ready\n');
await go;

const result = await acquireRunLock(dataDir);
if (result.kind === 'acquired') {
  process.stdout.write(`${JSON.stringify({ kind: 'acquired', pid: process.pid, recovered: result.recoveredStale?.pid ?? null })}\n`);
  await closed;
  await result.lock.release();
} else {
  process.stdout.write(`${JSON.stringify({ kind: 'held', pid: process.pid, holder: result.holder.pid, reason: result.reason })}\n`);
  await closed;
}
