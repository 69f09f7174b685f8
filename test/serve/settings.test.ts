// The `serve` settings section (src/serve/settings.ts) through loadConfig: defaults, values, exact errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configProblems } from '../helpers/config.js';
import { parseServeSettings } from '../../src/serve/settings.js';

describe('serve settings', () => {
  it('defaults: every 300 s, hosts spread over half of it', () => {
    assert.deepEqual(parseServeSettings(undefined, null, {}, []), { intervalSeconds: 300, spreadFraction: 0.5 });
  });

  it('takes values from the section and FLEETPOLL_SERVE_INTERVAL', () => {
    const problems: string[] = [];
    assert.deepEqual(parseServeSettings({ intervalSeconds: 60, spreadFraction: 0 }, null, {}, problems), { intervalSeconds: 60, spreadFraction: 0 });
    assert.deepEqual(parseServeSettings({}, null, { FLEETPOLL_SERVE_INTERVAL: '120' }, problems).intervalSeconds, 120);
    assert.deepEqual(problems, []);
  });

  it('says which line is wrong and why', () => {
    const problems = configProblems('{\n  "serve": {\n    "intervalSeconds": 0,\n    "spreadFraction": 1.5,\n    "every": 5\n  }\n}\n');
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems.join('\n'), /:5: unknown setting "serve\.every" \(known: serve\.intervalSeconds, serve\.spreadFraction\)/);
    assert.match(problems.join('\n'), /:3: serve\.intervalSeconds must be a number from 1 to 86400 \(got 0\)/);
    assert.match(problems.join('\n'), /:4: serve\.spreadFraction must be a number from 0 to 0\.9 \(got 1\.5\)/);
  });
});
