// The digest: subject, plain text and HTML, grouping and escaping.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDigest, esc, MAX_DIGEST_BYTES } from '../../src/alerts/digest.js';
import type { Notification } from '../../src/alerts/types.js';

const NOW = new Date('2026-11-22T10:30:00.000Z');
const AT = NOW.toISOString();
const OPTIONS = { subjectPrefix: '[fleetpoll]', poller: 'monitor01', now: NOW };

function n(over: Partial<Notification> & Pick<Notification, 'kind' | 'host' | 'rule'>): Notification {
  return {
    id: `${over.kind}-${over.host}-${over.rule}-${over.mount ?? ''}-${over.at ?? AT}`,
    mount: null,
    level: 'critical',
    value: null,
    threshold: null,
    reason: null,
    since: '2026-11-22T10:20:00.000Z',
    at: AT,
    firedAt: null,
    topProcesses: [],
    ...over,
  };
}

describe('buildDigest', () => {
  it('shows the error of a single host down as it is, address included', () => {
    const d = buildDigest([n({ kind: 'firing', host: 'db02', rule: 'down', reason: 'unreachable (connect): connect ECONNREFUSED 10.0.0.5:22' })], OPTIONS);
    assert.match(d.text, /unreachable \(connect\): 1 host\(s\), since 2026-11-22 10:20 UTC\n {4}error: connect ECONNREFUSED 10\.0\.0\.5:22\n {4}db02\n/);
  });

  it('writes a short, sortable subject with counts and the worst news first', () => {
    const d = buildDigest(
      [
        n({ kind: 'firing', host: 'web01', rule: 'cpu', value: 97.4, threshold: 95 }),
        n({ kind: 'firing', host: 'web03', rule: 'disk', mount: '/var', level: 'warning', value: 88.2, threshold: 85 }),
        n({ kind: 'firing', host: 'db02', rule: 'down', reason: 'timeout (connect): no answer within 10 s' }),
        n({ kind: 'resolved', host: 'app1', rule: 'mem', level: 'warning', value: 60, threshold: 85 }),
      ],
      OPTIONS,
    );
    assert.equal(d.subject, '[fleetpoll] 3 firing, 1 resolved — db02 down, web01 CPU 97%, web03 disk /var 88%');
  });

  it('keeps the subject under 120 characters and ends a cut list with …', () => {
    const many = Array.from({ length: 30 }, (_, i) => n({ kind: 'firing', host: `webserver-${i}`, rule: 'mem', value: 95 }));
    const d = buildDigest(many, OPTIONS);
    assert.ok(d.subject.length <= 120, d.subject);
    assert.match(d.subject, /^\[fleetpoll\] 30 firing — webserver-0 memory 95%, .*, …$/);
  });

  it('groups 200 hosts down by reason into one digest naming every host, with the count in the subject', () => {
    const down = Array.from({ length: 200 }, (_, i) =>
      n({
        kind: 'firing',
        host: `host${String(i).padStart(3, '0')}`,
        rule: 'down',
        reason: i < 150 ? `unreachable (connect): connect ECONNREFUSED 10.0.${Math.floor(i / 250)}.${i % 250}:22` : 'timeout (handshake): no SSH answer within 10 s',
      }),
    );
    const d = buildDigest(down, OPTIONS);
    assert.equal(d.subject, '[fleetpoll] 200 firing — 200 hosts down');
    for (const host of down.map((x) => x.host)) {
      assert.ok(d.text.includes(host), `${host} in text`);
      assert.ok(d.html.includes(host), `${host} in html`);
    }
    assert.match(d.text, /unreachable \(connect\): 150 host\(s\)/);
    assert.match(d.text, /error: connect ECONNREFUSED <address> \(150\)/);
    assert.match(d.text, /timeout \(handshake\): 50 host\(s\)/);
  });

  it('stays readable and under MAX_DIGEST_BYTES at 20,000 changes in one run: grouped, counted, first names, where the rest is', () => {
    const procs = Array.from({ length: 10 }, (_, i) => ({ pid: 1000 + i, user: 'appuser', name: `some-long-process-name-${i}-with-arguments`, cpuPct: 50 - i, rssKb: 1_048_576 }));
    const host = (i: number): string => `srv-${String(i).padStart(5, '0')}.example.org`;
    const all: Notification[] = [];
    for (let i = 0; i < 8000; i += 1) {
      const reason = i % 3 === 0 ? `unreachable (connect): connect ECONNREFUSED 10.${i >> 16}.${(i >> 8) & 255}.${i & 255}:22` : i % 3 === 1 ? 'timeout (handshake): no SSH handshake before the deadline' : `unreachable (connect): no route to host ${i}`;
      all.push(n({ kind: 'firing', host: host(i), rule: 'down', reason }));
    }
    const rules = ['cpu', 'mem', 'disk'] as const;
    for (let i = 8000; i < 14000; i += 1) {
      const rule = rules[i % 3]!;
      all.push(n({ kind: 'firing', host: host(i), rule, mount: rule === 'disk' ? '/var' : null, value: 97, threshold: 95, topProcesses: rule === 'disk' ? [] : procs }));
    }
    for (let i = 14000; i < 18000; i += 1) all.push(n({ kind: 'resolved', host: host(i), rule: 'mem', level: 'warning', value: 60, threshold: 85 }));
    for (let i = 18000; i < 20000; i += 1) all.push(n({ kind: 'reminder', host: host(i), rule: 'cpu', value: 99, threshold: 95, topProcesses: procs }));

    const started = performance.now();
    const d = buildDigest(all, OPTIONS);
    const tookMs = performance.now() - started;
    const bytes = Buffer.byteLength(d.text) + Buffer.byteLength(d.html);
    assert.ok(bytes <= MAX_DIGEST_BYTES, `digest is ${bytes} bytes`);
    assert.ok(tookMs < 10_000, `took ${tookMs.toFixed(0)} ms`);
    assert.ok(d.subject.length <= 120, d.subject);
    assert.match(d.subject, /^\[fleetpoll\] 14000 firing, 4000 resolved, 2000 still firing — 8000 hosts down/);
    // Every section counted in full; down hosts grouped by cause with their counts.
    assert.match(d.text, /\nFIRING \(6000\)\n/);
    assert.match(d.text, /\nHOSTS DOWN \(8000\)\n/);
    assert.match(d.text, /unreachable \(connect\): 5333 host\(s\)/);
    assert.match(d.text, /timeout \(handshake\): 2667 host\(s\)/);
    assert.match(d.text, /error: connect ECONNREFUSED <address> \(2667\)/);
    assert.match(d.text, /\nRESOLVED \(4000\)\n/);
    assert.match(d.text, /\nSTILL FIRING \(2000\)\n/);
    // The rest of a section is grouped by rule and level, counted, with its first names.
    assert.match(d.text, /and 5,950 more:\n/);
    assert.match(d.text, /CPU critical: \d+ host\(s\): srv-\d{5}\.example\.org, .* and [\d,]+ more/);
    assert.match(d.html, /and 5,950 more/);
    // The first host of each section is named, and the mail says where everything else is.
    for (const first of [host(0), host(8000), host(14000), host(18000)]) {
      assert.ok(d.text.includes(first), `${first} in text`);
      assert.ok(d.html.includes(first), `${first} in html`);
    }
    assert.match(d.text, /Not every host is named above: `fleetpoll alerts status` lists every alert firing now; recentlog\.csv in the data directory/);
    assert.match(d.html, /Not every host is named above:/);
  });

  it('shows host, metric, value, threshold, since and the top processes', () => {
    const d = buildDigest(
      [
        n({
          kind: 'firing',
          host: 'web01',
          rule: 'cpu',
          value: 97.4,
          threshold: 95,
          topProcesses: [{ pid: 4242, user: 'app', name: 'java', cpuPct: 380.2, rssKb: 2_097_152 }],
        }),
      ],
      OPTIONS,
    );
    assert.match(d.text, /\[CRITICAL\] web01 {2}CPU 97\.4% \(critical at 95%\), since 2026-11-22 10:20 UTC/);
    assert.match(d.text, /java \[app\] pid 4242: 380\.2% CPU, 2048 MB/);
    assert.match(d.html, /<td [^>]*>web01<\/td>/);
    assert.match(d.html, /java \[app\] pid 4242: 380\.2% CPU, 2048 MB/);
    assert.match(d.html, /2026-11-22 10:20 UTC/);
  });

  it('escapes everything that came from a host or the inventory in the HTML part', () => {
    const evil = '<script>alert(1)</script>';
    const d = buildDigest(
      [
        n({ kind: 'firing', host: 'h&"1', rule: 'cpu', value: 99, threshold: 98, topProcesses: [{ pid: 1, user: '<b>u</b>', name: evil, cpuPct: 99, rssKb: 1 }] }),
        n({ kind: 'firing', host: 'h2', rule: 'disk', mount: '/<img src=x onerror=alert(2)>', value: 99, threshold: 95 }),
        n({ kind: 'firing', host: 'h3', rule: 'down', reason: `probe_error (parse): ${evil}` }),
      ],
      OPTIONS,
    );
    assert.ok(!d.html.includes('<script>'), 'no raw script tag');
    assert.ok(!d.html.includes('<img'), 'no raw img tag');
    assert.ok(!d.html.includes('<b>u</b>'));
    assert.ok(d.html.includes('&#60;script&#62;alert(1)&#60;/script&#62;'));
    assert.ok(d.html.includes('h&#38;&#34;1'));
    assert.ok(d.text.includes(evil), 'the text part shows it as it is');
  });

  it('never lets a host value break the subject or a text line', () => {
    const d = buildDigest([n({ kind: 'firing', host: 'h1\r\nBcc: victim@example.com', rule: 'cpu', value: 99, threshold: 98 })], OPTIONS);
    assert.ok(!/[\r\n]/.test(d.subject));
    assert.ok(!d.text.split('\n').some((l) => l.startsWith('Bcc:')));
  });

  it('lists resolved alerts and reminders, and marks notifications from earlier runs as late', () => {
    const d = buildDigest(
      [
        n({ kind: 'resolved', host: 'db01', rule: 'down', reason: 'timeout (connect): x', since: '2026-11-22T08:00:00.000Z', at: '2026-11-22T09:20:00.000Z' }),
        n({ kind: 'reminder', host: 'web09', rule: 'swap', level: 'warning', value: 70, threshold: 50, since: '2026-11-21T10:00:00.000Z' }),
      ],
      OPTIONS,
    );
    assert.equal(d.subject, '[fleetpoll] 1 resolved, 1 still firing — db01 down ok');
    assert.match(d.text, /RESOLVED \(1\)\n {2}db01 {2}up again \(was critical since 2026-11-22 08:00 UTC, 1 h 20 min/);
    assert.match(d.text, /STILL FIRING \(1\)\n {2}\[WARNING\] web09 {2}swap 70\.0% \(warning at 50%\)/);
    assert.match(d.text, /1 of these is late: the mail server did not accept it earlier \(oldest from 2026-11-22 09:20 UTC\)/);
  });

  it('escapes the five HTML-special characters', () => {
    assert.equal(esc(`<a href="x">'&'</a>`), '&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
  });
});
