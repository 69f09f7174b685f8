// The `push` settings section (src/push/settings.ts) through loadConfig: defaults, values, exact errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configProblems } from '../helpers/config.js';
import { DEFAULT_PUSH_SETTINGS, parsePushSettings } from '../../src/push/settings.js';

describe('push settings', () => {
  it('defaults: every 300 s, 60 s of grace and of clock skew, 10 s between pushes', () => {
    assert.deepEqual(parsePushSettings(undefined, null, []), { intervalSeconds: 300, graceSeconds: 60, maxClockSkewSeconds: 60, minSpacingSeconds: 10 });
    assert.deepEqual(parsePushSettings(undefined, null, []), DEFAULT_PUSH_SETTINGS);
  });

  it('takes values from the section', () => {
    const problems: string[] = [];
    assert.deepEqual(parsePushSettings({ intervalSeconds: 60, graceSeconds: 0, maxClockSkewSeconds: 5, minSpacingSeconds: 0.5 }, null, problems), {
      intervalSeconds: 60,
      graceSeconds: 0,
      maxClockSkewSeconds: 5,
      minSpacingSeconds: 0.5,
    });
    assert.deepEqual(problems, []);
  });

  it('says which line is wrong and why', () => {
    const problems = configProblems('{\n  "push": {\n    "intervalSeconds": 5,\n    "graceSeconds": -1,\n    "token": "x"\n  }\n}\n');
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems.join('\n'), /:5: unknown setting "push\.token" \(known: push\.intervalSeconds, push\.graceSeconds, push\.maxClockSkewSeconds, push\.minSpacingSeconds\)/);
    assert.match(problems.join('\n'), /:3: push\.intervalSeconds must be a whole number from 10 to 86400 \(got 5\)/);
    assert.match(problems.join('\n'), /:4: push\.graceSeconds must be a whole number from 0 to 86400 \(got -1\)/);
  });
});
