// Shared validation of settings-file sections: key lines and the reader's precise errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonPathLines, SectionReader } from '../src/settings-section.js';

describe('jsonPathLines', () => {
  it('maps nested keys and array elements to their lines, even when a key name repeats', () => {
    const text = '{\n  "ssh": { "port": 22 },\n  "smtp": {\n    "port": 25,\n    "to": [\n      "a@x",\n      "b@x"\n    ]\n  }\n}\n';
    const lines = jsonPathLines(text);
    assert.equal(lines.get('ssh.port'), 2);
    assert.equal(lines.get('smtp'), 3);
    assert.equal(lines.get('smtp.port'), 4);
    assert.equal(lines.get('smtp.to.0'), 6);
    assert.equal(lines.get('smtp.to.1'), 7);
  });
});

describe('SectionReader', () => {
  const file = { file: 'f.json', lines: jsonPathLines('{\n  "s": {\n    "n": "x",\n    "deep": { "typo": 1 },\n    "list": ["a", 3]\n  }\n}\n') };
  const value = { n: 'x', deep: { typo: 1 }, list: ['a', 3] };

  it('names the first unknown level and its known siblings', () => {
    const problems: string[] = [];
    new SectionReader('s', value, file, problems).rejectUnknown(['n', 'list', 'deep.known']);
    assert.deepEqual(problems, ['f.json:4: unknown setting "s.deep.typo" (known: s.deep.known)']);
  });

  it('returns the fallback and reports the source for a bad value; the environment wins over the file', () => {
    const problems: string[] = [];
    const r = new SectionReader('s', value, file, problems);
    assert.equal(r.number('n', 7, 0, 10, true), 7);
    assert.deepEqual(r.stringList('list', [], /^[a-z]+$/, 'words'), ['a']);
    r.fromEnv('n', 'S_N', { S_N: '4' });
    assert.equal(r.number('n', 7, 0, 10, true), 4);
    assert.deepEqual(problems, ['f.json:3: s.n must be a whole number from 0 to 10 (got "x")', 'f.json:5: s.list must be a list of words (got 3)']);
  });
});
