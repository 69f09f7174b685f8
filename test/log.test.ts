// The run log: its line format (as winston wrote it before), levels per destination, child fields.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLog, type LogOptions } from '../src/log.js';

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

// Runs `use` with a log into a temp dir; stderr is captured by swapping process.stderr.write (a fake
// at the seam: the log writes to the process's own stderr). Returns [stderr lines, file lines] without times.
async function logged(options: Omit<LogOptions, 'dir' | 'maxSizeBytes' | 'maxFiles'>, use: (log: ReturnType<typeof createLog>['log']) => void): Promise<[string[], string[]]> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-log-'));
  const stderr: string[] = [];
  const realWrite = process.stderr.write;
  process.stderr.write = ((chunk: string) => {
    stderr.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    const { log, close } = createLog({ ...options, dir, maxSizeBytes: 1024 * 1024, maxFiles: 5 });
    use(log);
    await close();
  } finally {
    process.stderr.write = realWrite;
  }
  let file = '';
  try {
    file = readFileSync(join(dir, 'fleetpoll.log'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const strip = (lines: string[]): string[] =>
    lines.map((line) => {
      assert.match(line, TIME);
      return line.replace(TIME, '');
    });
  return [strip(stderr.join('').split('\n').filter(Boolean)), strip(file.split('\n').filter(Boolean))];
}

describe('createLog', () => {
  it('writes "<time> <level> [host] message key=value" lines, quoting what is not plain', async () => {
    const [, file] = await logged({ level: 'info', consoleLevel: 'error' }, (log) => {
      log.info('poll started', { hosts: 200, concurrency: 50, timeout_s: 30 });
      log.child({ host: 'web 1' }).warn('timeout during exec', { error: 'no answer in 30 s', attempts: 1, ok: true, gone: undefined });
      log.info('values', { formula: '=1+1', empty: '', nothing: null, path: 'a/b:c@d-e.f', list: ['x', 1] });
    });
    assert.deepEqual(file, [
      'info poll started hosts=200 concurrency=50 timeout_s=30',
      'warn [web 1] timeout during exec error="no answer in 30 s" attempts=1 ok=true',
      'info values formula="=1+1" empty="" nothing=null path=a/b:c@d-e.f list="[\\"x\\",1]"',
    ]);
  });

  it('stderr and the file each keep their own level; below both nothing is written', async () => {
    const [stderr, file] = await logged({ level: 'info', consoleLevel: 'warn' }, (log) => {
      log.debug('dropped');
      log.info('file only');
      log.warn('both');
      log.error('both too');
    });
    assert.deepEqual(stderr, ['warn both', 'error both too']);
    assert.deepEqual(file, ['info file only', 'warn both', 'error both too']);
  });

  it('a child puts its fields first; a line field of the same name wins in place', async () => {
    const [, file] = await logged({ level: 'debug', consoleLevel: 'error' }, (log) => {
      const alerts = log.child({ component: 'alerts', run: 1 });
      alerts.info('state loaded', { file: 'alert-state.json', run: 2 });
      alerts.child({ host: 'db1' }).debug('evaluated', { rules: 3 });
    });
    assert.deepEqual(file, ['info state loaded component=alerts run=2 file=alert-state.json', 'debug [db1] evaluated component=alerts run=1 rules=3']);
  });

  it('keeps winston\'s rules: a message field is appended, a message with %s drops the line\'s fields', async () => {
    const [, file] = await logged({ level: 'info', consoleLevel: 'error' }, (log) => {
      log.info('mail not sent', { message: 'connection refused', to: 2 });
      log.child({ component: 'x' }).info('disk 95%d full', { mount: '/' });
    });
    assert.deepEqual(file, ['info mail not sent connection refused to=2', 'info disk 95%d full component=x']);
  });
});
