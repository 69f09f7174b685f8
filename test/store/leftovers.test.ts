// Clearing what a killed run left in data/: only fleetpoll's own temp names, only of dead writers.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clearLeftovers, removeDeadTemps } from '../../src/store/leftovers.js';

let root: string;
before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'fleetpoll-leftovers-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid as number;
}

describe('removeDeadTemps', () => {
  it('removes temp files of dead runs and keeps everything else', async () => {
    const dir = path.join(root, 'data');
    await mkdir(dir);
    const dead = deadPid();
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const live = sleeper.pid as number;
      const gone = [
        `.recentlog.csv.${dead}.0123456789ab.tmp`,
        `.alert-state.json.${dead}.ba9876543210.tmp`,
        `.fleetpoll.lock.${dead}.aaaaaaaaaaaa.tmp`,
        `.fleetpoll.lock.recover.stale-${dead}-bbbbbbbbbbbb`,
      ];
      const kept = [
        `.recentlog.csv.${live}.0123456789ab.tmp`, // a live writer (a report running now)
        `.recentlog.csv.${process.pid}.0123456789ab.tmp`, // ours
        `.recentlog.csv.${dead}.tmp`, // not our name
        `notes.${dead}.0123456789ab.tmp`, // not hidden: not our name
        'log.csv',
        'recentlog.csv',
      ];
      for (const name of [...gone, ...kept]) await writeFile(path.join(dir, name), '');
      assert.deepEqual((await removeDeadTemps(dir)).sort(), [...gone].sort());
      assert.deepEqual((await readdir(dir)).sort(), [...kept].sort());
      assert.deepEqual(await removeDeadTemps(path.join(root, 'missing')), []);
    } finally {
      sleeper.kill();
    }
  });

  it('clearLeftovers looks in the sub-dirs too and says what it removed', async () => {
    const dir = path.join(root, 'data2');
    await mkdir(path.join(dir, 'rollup'), { recursive: true });
    const dead = deadPid();
    await writeFile(path.join(dir, 'rollup', `.manifest.json.${dead}.0123456789ab.tmp`), '{');
    const messages = await clearLeftovers(dir, ['rollup', 'reports']);
    assert.equal(messages.length, 1);
    assert.match(messages[0] ?? '', /removed 1 temp file\(s\) a killed run left in .*rollup: \.manifest\.json\.\d+\.0123456789ab\.tmp/);
    assert.deepEqual(await readdir(path.join(dir, 'rollup')), []);
  });
});
