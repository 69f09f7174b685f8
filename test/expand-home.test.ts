// Tests for src/expand-home.ts: the one `~` rule of every path setting.
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { expandHome } from '../src/expand-home.js';

describe('expandHome', () => {
  const home = join('/', 'home', 'ops');

  it('expands ~ alone and ~/ or ~\\ at the start', () => {
    assert.equal(expandHome('~', home), home);
    assert.equal(expandHome('~/.ssh/known_hosts', home), join(home, '.ssh/known_hosts'));
    assert.equal(expandHome('~\\keys', home), join(home, 'keys'));
  });

  it('leaves every other path as written', () => {
    for (const path of ['~ops/keys', 'keys/~', 'a~/b', '/etc/ssh/ssh_known_hosts', 'relative/file', '']) assert.equal(expandHome(path, home), path);
  });

  it('uses the running user\'s home by default', () => {
    assert.equal(expandHome('~'), homedir());
  });
});
