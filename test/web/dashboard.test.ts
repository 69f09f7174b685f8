// The dashboard in a real browser: Debian's Chromium driven by playwright-core against the real HTTP
// server over a generated history (test/helpers/dashboard-fleet.ts). The overview lists every host with
// its values, filters and sorts; the host page draws its charts for the chosen range; clicking a moment
// shows that poll's processes; hostile names render as text; the alerts page lists what fires; no page
// logs a console error. Screenshots go to test-output/ for review.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { FLEET, FORMULA_PROCESS, HOSTILE_PROCESS, HOSTILE_USER, LATEST, startDashboardFleet, type DashboardFleet } from '../helpers/dashboard-fleet.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = 'test-output';
const skip = missingChromium();

// Without Chromium the tests are skipped on a workstation and fail in CI (CI=true), as every tool a test needs.
function missingChromium(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const message = `${CHROMIUM} is not installed (apt-get install chromium)`;
  if (process.env.CI === 'true') throw new Error(`CI requires ${message}`);
  return message;
}

/** Launches Debian's Chromium headless with a fresh profile (the flags a root CI container needs). */
async function launchChromium(): Promise<{ browser: Browser; context: BrowserContext; profile: string }> {
  const profile = mkdtempSync(join(tmpdir(), 'fleetpoll-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    viewport: { width: 1400, height: 1000 },
  });
  return { browser: context.browser() as Browser, context, profile };
}

describe('dashboard in Chromium', { skip: skip ?? false }, () => {
  let fleet: DashboardFleet;
  let context: BrowserContext;
  let profile: string;
  const problems: string[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    fleet = await startDashboardFleet('127.18.0.1');
    ({ context, profile } = await launchChromium());
    context.on('page', (page) => watch(page));
  });
  after(async () => {
    await context?.close();
    await fleet?.close();
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
  });

  function watch(page: Page): void {
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${page.url()}: console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
    // An alert() would mean a host's text ran as script.
    page.on('dialog', (d) => {
      problems.push(`${page.url()}: a dialog opened: ${d.message()}`);
      void d.dismiss();
    });
  }

  async function open(path: string, ready: string): Promise<Page> {
    const page = await context.newPage();
    const res = await page.goto(`${fleet.url}${path}`);
    assert.equal(res?.status(), 200);
    assert.match(res?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    await page.waitForSelector(`body[data-ready-${ready}]`, { timeout: 20_000 });
    return page;
  }

  const rowHosts = (page: Page): Promise<string[]> => page.$$eval('#hosts tbody tr', (rows) => rows.map((r) => r.getAttribute('data-host') ?? ''));
  const cell = (page: Page, host: string, col: string): Promise<string> => page.$eval(`#hosts tr[data-host="${host}"] td[data-col="${col}"]`, (td) => td.textContent ?? '');

  it('overview: every host with its latest values, counts by status, and a heatmap', async () => {
    const page = await open('/', 'overview');
    assert.deepEqual(await rowHosts(page), FLEET.map((h) => h.name).sort());
    const web1 = FLEET.find((h) => h.name === 'web1')!;
    assert.equal(await cell(page, 'web1', 'cpu'), `${web1.cpuPct(LATEST).toFixed(1)} %`);
    // 8 GiB, 2 GiB available: 75 % used; swap 0.5 of 2 GiB; /var is the fuller filesystem; load 2 on 4 cores.
    assert.equal(await cell(page, 'web1', 'mem'), '75.0 %');
    assert.equal(await cell(page, 'web1', 'swap'), '25.0 %');
    assert.equal(await cell(page, 'web1', 'disk'), `${(((10 + LATEST * 0.01) / 20) * 100).toFixed(1)} %`);
    assert.equal(await cell(page, 'web1', 'load'), '0.50');
    assert.equal(await cell(page, 'web1', 'tags'), 'web, prod');
    assert.equal(await cell(page, 'db2', 'status'), 'unreachable');
    assert.match(await cell(page, 'db2', 'error'), /connect ETIMEDOUT db2:22/);
    assert.equal(await cell(page, 'db2', 'cpu'), '–');
    assert.equal(await page.$$eval('#hosts canvas.spark', (c) => c.length), FLEET.length * 2);
    assert.equal(await page.textContent('.counts button[data-status="unreachable"] .n'), '1');
    assert.equal(await page.textContent('.counts button[data-status="ok"] .n'), String(FLEET.length - 1));
    await page.waitForSelector('body[data-ready-heatmap]', { timeout: 20_000 });
    const heat = await page.$eval('canvas.heatmap', (c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height]);
    assert.ok((heat[0] as number) > 10 && (heat[1] as number) >= FLEET.length, `heatmap ${heat.join('x')}`);
    await page.screenshot({ path: join(SHOTS, 'dashboard-overview.png'), fullPage: true });
    await page.close();
  });

  it('overview: name glob, tag and status filter; any column sorts; the URL keeps them', async () => {
    const page = await open('/', 'overview');
    await page.getByLabel('Name (glob)').fill('db*');
    assert.deepEqual(await rowHosts(page), ['db1', 'db2']);
    await page.getByLabel('Name (glob)').fill('');
    await page.getByLabel('Tag').selectOption('prod');
    assert.deepEqual(await rowHosts(page), ['db1', 'web1']);
    await page.getByLabel('Tag').selectOption('');
    await page.click('.counts button[data-status="unreachable"]');
    assert.deepEqual(await rowHosts(page), ['db2']);
    await page.click('.counts button[data-status=""]');
    await page.click('th button[data-sort="cpu"]');
    await page.click('th button[data-sort="cpu"]');
    // Descending CPU; db2 has no value and goes last.
    const byCpu = FLEET.filter((h) => h.failure(LATEST) === null).sort((a, b) => b.cpuPct(LATEST) - a.cpuPct(LATEST)).map((h) => h.name);
    assert.deepEqual(await rowHosts(page), [...byCpu, 'db2']);
    assert.match(page.url(), /sort=cpu&dir=desc/);
    // The same link shows the same table.
    const again = await open(new URL(page.url()).pathname + new URL(page.url()).search, 'overview');
    assert.deepEqual(await rowHosts(again), [...byCpu, 'db2']);
    await again.close();
    await page.close();
  });

  it('host page: charts for the chosen range; a click on a moment shows that poll, hostile names as text', async () => {
    const page = await open('/host?name=web1&range=24h', 'host');
    for (const id of ['cpu', 'load', 'memory', 'swap', 'disks']) assert.ok(await page.$(`#chart-${id} canvas`), `chart ${id}`);
    const cpuSeries = await page.evaluate(async () => {
      const u = new URLSearchParams(location.search);
      return [u.get('range'), document.querySelectorAll('.card[data-chart]').length];
    });
    assert.equal(cpuSeries[0], '24h');
    assert.match((await page.textContent('#forecasts')) ?? '', /\/var.*full in [\d.]+ days/s);
    // Web2's failed polls are named over its charts.
    const web2 = await open('/host?name=web2&range=24h', 'host');
    assert.match((await web2.textContent('main')) ?? '', /timeout × \d/);
    await web2.screenshot({ path: join(SHOTS, 'dashboard-host-gaps.png'), fullPage: true });
    await web2.close();

    const box = (await page.$('#chart-cpu .u-over'))!;
    const b = (await box.boundingBox())!;
    await page.mouse.click(b.x + b.width * 0.5, b.y + b.height * 0.5);
    await page.waitForSelector('body[data-ready-poll]', { timeout: 20_000 });
    const names = await page.$$eval('#processes tbody tr td:last-child', (tds) => tds.map((td) => td.textContent));
    assert.ok(names.includes(HOSTILE_PROCESS), `processes: ${names.join(', ')}`);
    assert.ok((await page.$$eval('#processes tbody td', (tds) => tds.map((td) => td.textContent))).includes(HOSTILE_USER));
    assert.equal(await page.$$eval('main img, main b', (n) => n.length), 0, 'no markup from a host was parsed');
    assert.match(page.url(), /[?&]at=\d+/);
    // The processes as CSV: the data files' encoding, a formula from a host neutralised.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button[aria-label="Download processes as CSV"]')]);
    const csv = readFileSync((await download.path()) as string, 'utf8');
    assert.ok(csv.startsWith('\uFEFFpid,user,cpu_pct,mem_mb,process\r\n'), csv.slice(0, 60));
    assert.ok(csv.includes(`,"'=HYPERLINK(""http://x.invalid"",""y"")"\r\n`), csv);
    assert.ok(csv.includes(`,${HOSTILE_PROCESS}\r\n`));
    assert.ok((await page.$$eval('#processes td', (tds) => tds.map((td) => td.textContent))).includes(FORMULA_PROCESS));
    await page.screenshot({ path: join(SHOTS, 'dashboard-host.png'), fullPage: true });
    await page.close();
  });

  it('host page: a drag zooms, the URL holds the range, Back undoes it', async () => {
    const page = await open('/host?name=web1&range=24h', 'host');
    const b = (await (await page.$('#chart-cpu .u-over'))!.boundingBox())!;
    await page.mouse.move(b.x + b.width * 0.4, b.y + 20);
    await page.mouse.down();
    await page.mouse.move(b.x + b.width * 0.6, b.y + 20, { steps: 5 });
    await page.mouse.up();
    await page.waitForURL(/from=\d+&to=\d+/);
    const u = new URL(page.url());
    const span = Number(u.searchParams.get('to')) - Number(u.searchParams.get('from'));
    assert.ok(span > 3 * 3600 && span < 7 * 3600, `zoomed to ${span} s`);
    await page.goBack();
    await page.waitForURL(/range=24h/);
    await page.close();
  });

  it('alerts page: firing now and the transitions, as text', async () => {
    const page = await open('/alerts', 'alerts');
    assert.match((await page.textContent('#alerts-now')) ?? '', /db2.*down.*firing.*critical/s);
    const transitions = await page.$$eval('#alert-transitions tbody tr', (rows) => rows.map((r) => r.textContent ?? ''));
    assert.equal(transitions.length, 3);
    assert.match(transitions[0] ?? '', /firing.*db2/);
    assert.ok((transitions[0] ?? '').includes(HOSTILE_PROCESS));
    await page.screenshot({ path: join(SHOTS, 'dashboard-alerts.png'), fullPage: true });
    await page.close();
  });

  it('workers page: standalone says so; a coordinator (fake workers list at the status seam) shows each zone and worker', async () => {
    fleet.setWorkers(null);
    const standalone = await open('/workers', 'workers');
    assert.match((await standalone.textContent('main')) ?? '', /polls every host itself/);
    await standalone.close();
    const now = Math.floor(Date.now() / 1000);
    const worker = { hostname: 'poller-a', pid: 4242, version: '9.9.9', startedAtSec: now - 7200, done: 1234 };
    fleet.setWorkers([
      { ...worker, id: 'w-dc1-1', zone: 'dc1', lastSeenSec: now - 3, inFlight: 7, slots: 30, live: true },
      { ...worker, id: 'w-dc1-2', zone: 'dc1', lastSeenSec: now - 5, inFlight: 2, slots: 29, live: true },
      { ...worker, id: HOSTILE_PROCESS, zone: 'dmz', lastSeenSec: now - 600, inFlight: 0, slots: null, live: false },
    ]);
    const page = await open('/workers', 'workers');
    const zones = await page.$$eval('#zones tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    assert.deepEqual(zones, [
      ['dc1', '2', '2', '9'],
      ['dmz', '0 (no poller)', '1', '0'],
    ]);
    const workers = await page.$$eval('#workers tbody tr', (rows) => rows.map((r) => r.textContent ?? ''));
    assert.equal(workers.length, 3);
    assert.match(workers[0] ?? '', /dc1.*w-dc1-1.*poller-a.*4242.*9\.9\.9.*ago.*live/);
    const slots = await page.$$eval('#workers tbody tr', (rows) => rows.map((r) => r.querySelectorAll('td')[7]?.textContent ?? ''));
    assert.deepEqual(slots, ['30', '29', '–'], 'slots owned; a worker of a version without slots shows a dash');
    assert.ok((workers[2] ?? '').includes(HOSTILE_PROCESS), 'a hostile worker id shows as text');
    assert.match(workers[2] ?? '', /10 min ago.*silent/);
    await page.screenshot({ path: join(SHOTS, 'dashboard-workers.png'), fullPage: true });
    await page.close();
    fleet.setWorkers(null);
  });

  it('dark mode follows the system setting', async () => {
    const page = await context.newPage();
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${fleet.url}/host?name=web2&range=24h`);
    await page.waitForSelector('body[data-ready-users]', { timeout: 20_000 });
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(background, 'rgb(17, 20, 24)');
    await page.screenshot({ path: join(SHOTS, 'dashboard-host-dark.png'), fullPage: true });
    await page.close();
  });

  it('no page logged a console error or ran host text as script', () => {
    assert.deepEqual(problems, []);
  });
});
