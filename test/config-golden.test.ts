// Golden cases for src/config.ts: each bad settings file in test/fixtures/config/invalid-<case>.json is
// pinned to the exact problems the loader reports, kept beside it in invalid-<case>.error.txt (one per
// line, the file named relative to that folder), as blackbox_exporter pins config/testdata/invalid-*.yml.
// A new bad input is a new pair of files; a changed message shows up as a diff of its .error.txt.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/config/', import.meta.url));
const CASES = readdirSync(FIXTURES)
  .filter((name) => name.startsWith('invalid-') && name.endsWith('.json'))
  .sort();

// The problems a settings file yields through the real loader: no environment, no flags but --config.
function problemsOf(name: string): string[] {
  try {
    loadConfig({ config: name }, {}, FIXTURES, 'poller');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => p.split(FIXTURES.endsWith(sep) ? FIXTURES : FIXTURES + sep).join(''));
  }
  return [];
}

function expectedOf(name: string): string[] {
  const text = readFileSync(join(FIXTURES, name.replace(/\.json$/, '.error.txt')), 'utf8');
  return text.split('\n').filter((line) => line !== '');
}

describe('invalid settings files (golden)', () => {
  it('has a case for each section and an expected message for each case', () => {
    assert.ok(CASES.length >= 12, `${CASES.length} cases`);
    for (const name of CASES) assert.ok(existsSync(join(FIXTURES, name.replace(/\.json$/, '.error.txt'))), `${name} has no .error.txt`);
    for (const name of readdirSync(FIXTURES).filter((n) => n.endsWith('.error.txt'))) {
      assert.ok(CASES.includes(name.replace(/\.error\.txt$/, '.json')), `${name} has no .json`);
    }
  });

  for (const name of CASES) {
    it(name, () => {
      const expected = expectedOf(name);
      assert.ok(expected.length > 0, `${name}: the expected file is empty`);
      assert.deepEqual(problemsOf(name), expected);
    });
  }
});
