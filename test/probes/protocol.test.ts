// Golden tests for the probe protocol parser: one folder per case under
// test/fixtures/probe/, holding output.txt and either expected.json or expected-error.txt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseProbeOutput } from '../../src/probes/protocol.js';

// Fixtures are read from the source tree; tsc does not copy them to dist/.
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/probe/', import.meta.url));

const cases = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

test('the fixture set holds real captures and broken cases', () => {
  for (const required of ['debian12-dash', 'busybox-ash', 'truncated-no-end', 'garbage', 'bad-number', 'unsupported-version']) {
    assert.ok(cases.includes(required), `missing fixture case ${required}`);
  }
});

for (const name of cases) {
  test(`fixture ${name}`, () => {
    const dir = `${FIXTURES}${name}/`;
    const hasJson = existsSync(`${dir}expected.json`);
    const hasError = existsSync(`${dir}expected-error.txt`);
    assert.ok(hasJson !== hasError, `${name}: needs exactly one of expected.json and expected-error.txt`);

    const result = parseProbeOutput(readFileSync(`${dir}output.txt`, 'utf8'));
    if (hasJson) {
      assert.ok(result.ok, result.ok ? '' : `${name}: unexpected error: ${result.error}`);
      assert.deepEqual(result.sample, JSON.parse(readFileSync(`${dir}expected.json`, 'utf8')));
    } else {
      assert.equal(result.ok, false, `${name}: parsed, but an error was expected`);
      // An editor may add a final newline; the message itself never ends with one.
      const expected = readFileSync(`${dir}expected-error.txt`, 'utf8').replace(/\n$/, '');
      assert.equal(result.ok ? '' : result.error, expected);
    }
  });
}
