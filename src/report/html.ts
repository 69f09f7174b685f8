// The report as HTML for a file and an e-mail body. Pure. Built for mail clients: tables for layout, no
// script, no SVG, no images. Charts are bars made of table cells whose width and bgcolor attributes are the
// values, which Outlook's Word engine, Gmail and Apple Mail all render; the cosmetic styles (fonts, padding,
// borders) sit in one <style> block with short classes, which keeps a 1,000-server report a few MB, and a
// client that drops it still shows readable tables and intact charts. Every string that came from a host goes
// through esc(): host names, mounts, process and user names, failure texts, bad-row examples.
import type { DayRow, DiskReport, FlaggedForecast, ProcessRow, ReportModel, ServerReport, UserRow } from './aggregate.js';
import type { Forecast } from './forecast.js';

// What to render: the whole report (the file) or a part (a large fleet's e-mail).
export interface RenderOptions {
  /** The servers to detail; default all. */
  readonly servers?: readonly ServerReport[];
  /** Said where the omitted servers' details are (e.g. the report file's path). */
  readonly omittedNote?: string;
}

const FONT = 'font-family:Arial,Helvetica,sans-serif;';
// Classes: t data table, n number cell, d day cell, m muted text, b bar table.
const STYLE =
  '<style type="text/css">' +
  `body{margin:0;padding:0;background-color:#f4f5f7;}` +
  `table.t{border-collapse:collapse;width:100%;margin:4px 0 12px 0;}` +
  `.t td{${FONT}font-size:12px;color:#222222;padding:3px 6px;border-bottom:1px solid #e3e6ea;}` +
  `.t th{${FONT}font-size:11px;color:#555555;padding:3px 6px;border-bottom:2px solid #c8ced6;text-align:left;}` +
  `.t td.n,.t th.n{text-align:right;white-space:nowrap;}` +
  `.t td.d{white-space:nowrap;}` +
  `.m{color:#888888;}` +
  `table.b{border-collapse:collapse;}` +
  `.t .b td{padding:0;border:0;font-size:1px;line-height:1px;}` +
  '</style>';
const NUM = 'n';
const TRACK = '#e9ecef';
const BAR_PX = 100;
const COLOURS = {
  cpu: ['#1f6fb2', '#9cc3e6'],
  mem: ['#7b4fa8', '#cdb6e3'],
  ok: ['#2e8b57', '#a6d8b9'],
  warn: ['#e08a00', '#f5cf8f'],
  bad: ['#c0392b', '#eeaaa3'],
} as const;

// Escapes text for HTML element content and attribute values.
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

// A number with fixed decimals, or an en dash when there is none.
export function num(value: number | null | undefined, decimals = 1): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(decimals);
}

// Thousands separators for counts (toLocaleString and a look-ahead regex are slow enough to show in a
// 1,000-server report, which formats tens of thousands of counts).
export function count(value: number): string {
  const digits = String(Math.round(value));
  if (digits.length <= 3) return digits;
  let out = '';
  const head = digits.length % 3;
  for (let i = 0; i < digits.length; i += 1) {
    if (i > 0 && (i - head) % 3 === 0) out += ',';
    out += digits[i];
  }
  return out;
}

// The forecast in words: "full in 12 days", "not growing", ...
export function forecastText(f: Forecast | null): string {
  if (f === null) return 'no trend (no disks.csv data)';
  switch (f.kind) {
    case 'insufficient-data':
      return 'not enough data';
    case 'not-growing':
      return 'not growing';
    case 'full-in':
      return f.days < 1 ? 'full now (at this trend)' : `full in ${Math.floor(f.days)} days`;
  }
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const dayLabels = new Map<string, string>();

// "Mon 2026-11-16", escaped (cached: every server repeats the window's days).
function dayLabel(day: string): string {
  let label = dayLabels.get(day);
  if (label === undefined) {
    label = `${WEEKDAYS[new Date(`${day}T00:00:00Z`).getUTCDay()] ?? ''} ${esc(day)}`;
    dayLabels.set(day, label);
  }
  return label;
}

function levelColours(pct: number | null): readonly [string, string] {
  if (pct === null || pct < 80) return COLOURS.ok;
  return pct < 90 ? COLOURS.warn : COLOURS.bad;
}

// Bars repeat across a fleet (pixel widths are whole numbers): each distinct one is built once, per colour
// pair, indexed by its two widths (a numeric index: a string key cost more than the bar).
const bars = new Map<readonly [string, string], string[]>();

// A horizontal bar: the average solid, up to the peak lighter, the rest a grey track (0..100 %).
export function bar(average: number | null, peakValue: number | null, colours: readonly [string, string]): string {
  if (average === null) return '';
  const px = (v: number): number => Math.max(0, Math.min(BAR_PX, Math.round((v / 100) * BAR_PX)));
  const a = px(average);
  const p = Math.max(a, px(peakValue ?? average));
  let known = bars.get(colours);
  if (known === undefined) {
    known = [];
    bars.set(colours, known);
  }
  const index = a * (BAR_PX + 1) + p;
  const cached = known[index];
  if (cached !== undefined) return cached;
  // font-size/line-height inline too: Outlook sizes an empty-looking cell by its font otherwise.
  const cell = (width: number, colour: string): string =>
    width <= 0 ? '' : `<td width="${width}" height="8" bgcolor="${colour}" style="font-size:1px;line-height:1px;">&nbsp;</td>`;
  const html =
    // cellpadding/cellspacing 0 or Outlook leaves gaps; a bar is 14 of a server's ~20 tables, so nothing more.
    `<table class="b" width="${BAR_PX}" cellpadding="0" cellspacing="0"><tr>` +
    cell(a, colours[0]) +
    cell(p - a, colours[1]) +
    cell(BAR_PX - p, TRACK) +
    '</tr></table>';
  known[index] = html;
  return html;
}

function td(content: string, cls = ''): string {
  return cls === '' ? `<td>${content}</td>` : `<td class="${cls}">${content}</td>`;
}

function th(label: string, cls = ''): string {
  return cls === '' ? `<th>${esc(label)}</th>` : `<th class="${cls}">${esc(label)}</th>`;
}

// A table's header row; those of the per-server tables are made once (a fleet repeats them thousands of times).
function headRow(headers: readonly (string | readonly [string, string])[]): string {
  return `<tr>${headers.map((h) => (typeof h === 'string' ? th(h) : th(h[0], h[1]))).join('')}</tr>`;
}

function table(head: string, rows: readonly string[]): string {
  let html = `<table class="t" role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">${head}`;
  for (const row of rows) html += `<tr>${row}</tr>`;
  return `${html}</table>`;
}

const DAY_HEAD = headRow([
  'Day',
  ['Polls ok', NUM],
  ['CPU avg', NUM],
  ['peak', NUM],
  'CPU %',
  ['Mem avg', NUM],
  ['peak', NUM],
  'Memory %',
  ['Total GB', NUM],
  ['Used GB', NUM],
  ['Avail GB', NUM],
  ['Swap used GB', NUM],
]);
const DISK_HEAD = headRow(['Day', ['Total GB', NUM], ['Used GB avg', NUM], ['Free GB avg', NUM], ['Used % peak', NUM], 'Used']);
const PROCESS_HEAD = headRow(['By', 'Process', 'User', ['CPU avg %', NUM], ['CPU peak %', NUM], ['Mem avg MB', NUM], ['Mem peak MB', NUM], ['Polls seen', NUM]]);
const USER_HEAD = headRow(['User', ['CPU avg %', NUM], ['CPU peak %', NUM], ['Mem avg MB', NUM], ['Mem peak MB', NUM], ['Processes (max)', NUM]]);

function h2(text: string, id?: string): string {
  return `<h2${id === undefined ? '' : ` id="${esc(id)}"`} style="${FONT}font-size:17px;color:#1a1a1a;margin:22px 0 6px 0;border-bottom:1px solid #c8ced6;padding-bottom:3px;">${text}</h2>`;
}

function h3(text: string): string {
  return `<h3 style="${FONT}font-size:13px;color:#333333;margin:12px 0 4px 0;">${text}</h3>`;
}

function p(text: string, style = ''): string {
  return `<p style="${FONT}font-size:12px;color:#333333;margin:4px 0;${style}">${text}</p>`;
}

function serverLink(name: string): string {
  return `<a href="#${esc(anchor(name))}" style="color:#1f5f99;text-decoration:none;">${esc(name)}</a>`;
}

function anchor(name: string): string {
  return `server-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

// The whole HTML document.
export function renderHtml(model: ReportModel, options: RenderOptions = {}): string {
  const parts: string[] = [];
  renderHtmlParts(model, options, (part) => parts.push(part));
  return parts.join('');
}

// The document in order, one part at a time (a server section each), so a large fleet's report can be
// written out as it is made instead of held as one multi-MB string.
export function renderHtmlParts(model: ReportModel, options: RenderOptions, emit: (part: string) => void): void {
  const { window, fleet } = model;
  const out = (...items: string[]): void => {
    for (const item of items) emit(item);
  };
  const title = `fleetpoll report ${window.start} – ${window.end}`;
  out(
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
      `<title>${esc(title)}</title>${STYLE}</head>` +
      '<body style="margin:0;padding:0;background-color:#f4f5f7;">' +
      '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="#f4f5f7" style="background-color:#f4f5f7;"><tr><td align="center" style="padding:12px;">' +
      '<table role="presentation" width="820" cellpadding="0" cellspacing="0" border="0" bgcolor="#ffffff" style="width:820px;max-width:820px;background-color:#ffffff;"><tr><td style="padding:16px 20px;">',
  );
  out(
    `<h1 style="${FONT}font-size:21px;color:#1a1a1a;margin:0 0 4px 0;">fleetpoll utilisation report</h1>`,
    p(`${esc(window.start)} to ${esc(window.end)} (${window.days.length} days, UTC) · generated ${esc(model.generatedAt.toISOString().slice(0, 16).replace('T', ' '))} UTC`, 'color:#666666;'),
  );

  if (fleet.servers === 0) {
    out(h2('No data'), p(`No poll of any server falls between ${esc(window.start)} and ${esc(window.end)}. ${model.notes.length > 0 ? '' : 'Check that fleetpoll polls on schedule and that --end and --days select the days you mean.'}`));
  } else {
    out(summary(model));
  }
  const detailed = options.servers ?? model.servers;
  if (detailed.length > 0) {
    out(h2('Servers'));
    if (options.omittedNote !== undefined) out(p(esc(options.omittedNote), 'color:#666666;'));
    for (const s of detailed) out(serverSection(s, model));
  }
  out(dataQuality(model));
  out(
    p(
      'Averages and peaks are over the polls of each UTC day. Forecasts fit a least-squares line through the window’s samples; ' +
        `"not growing" means a flat or falling trend (or more than 10 years to full). Flagged: full within ${model.horizonDays} days.`,
      'color:#888888;font-size:11px;margin-top:18px;',
    ),
  );
  out('</td></tr></table></td></tr></table></body></html>\n');
}

function summary(model: ReportModel): string {
  const { fleet, window } = model;
  const okPct = fleet.polls === 0 ? null : (fleet.okPolls / fleet.polls) * 100;
  const out: string[] = [h2('Fleet summary')];
  const kpi = (label: string, value: string): string =>
    `<td width="25%" valign="top" style="${FONT}padding:8px;border:1px solid #e3e6ea;"><div style="font-size:11px;color:#666666;">${esc(label)}</div><div style="font-size:18px;color:#1a1a1a;font-weight:bold;">${value}</div></td>`;
  out.push(
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;margin:6px 0 10px 0;"><tr>' +
      kpi('Servers polled', count(fleet.servers)) +
      kpi('Answered at least once', `${count(fleet.serversAnswered)}`) +
      kpi('Polls ok', `${num(okPct)} %<span style="font-size:11px;color:#666666;font-weight:normal;"> of ${count(fleet.polls)}</span>`) +
      kpi('Days with data', `${fleet.daysWithData} of ${window.days.length}`) +
      '</tr></table>',
  );

  out.push(h3(`Capacity: full within ${model.horizonDays} days at the week’s trend`));
  if (fleet.flagged.length === 0) {
    out.push(p('No filesystem and no server’s memory is on course to be full within the horizon.'));
  } else {
    const shown = fleet.flagged.slice(0, 50);
    out.push(
      table(
        headRow(['Server', 'Filesystem / memory', ['Used GB', NUM], ['Capacity GB', NUM], ['Growth GB/day', NUM], ['Full in', NUM]]),
        shown.map((f: FlaggedForecast) =>
          td(serverLink(f.server)) + td(esc(f.what)) + td(num(f.usedGb, 2), NUM) + td(num(f.capacityGb, 2), NUM) + td(num(f.slopeGbPerDay, 2), NUM) + td(`<b style="color:#c0392b;">${f.days < 1 ? 'now' : `${Math.floor(f.days)} days`}</b>`, NUM),
        ),
      ),
    );
    if (fleet.flagged.length > shown.length) out.push(p(`… and ${fleet.flagged.length - shown.length} more (see each server below).`));
  }

  if (fleet.busiest.length > 0) {
    out.push(h3('Busiest servers (average CPU)'));
    out.push(
      table(
        headRow(['Server', ['CPU avg %', NUM], ['CPU peak %', NUM], 'CPU', ['Mem avg %', NUM], ['Mem peak %', NUM]]),
        fleet.busiest.map((s) => td(serverLink(s.name)) + td(num(s.cpuAvg), NUM) + td(num(s.cpuPeak), NUM) + td(bar(s.cpuAvg, s.cpuPeak, COLOURS.cpu)) + td(num(s.memPctAvg), NUM) + td(num(s.memPctPeak), NUM)),
      ),
    );
  }
  if (fleet.closestToFull.length > 0) {
    out.push(h3('Closest to full (fullest filesystem at the end of the window)'));
    out.push(
      table(
        headRow(['Server', 'Filesystem', ['Used %', NUM], 'Used', ['Free GB', NUM], 'Forecast']),
        fleet.closestToFull.map((s) => {
          const f = s.fullest;
          if (f === null) return '';
          return td(serverLink(s.name)) + td(esc(f.mount)) + td(num(f.usedPct), NUM) + td(bar(f.usedPct, f.usedPct, levelColours(f.usedPct))) + td(num(f.freeGb, 2), NUM) + td(esc(forecastText(f.forecast)));
        }),
      ),
    );
  }
  if (fleet.leastAvailable.length > 0) {
    out.push(h3('Least available (share of polls that were ok)'));
    out.push(
      table(
        headRow(['Server', ['Available %', NUM], ['Polls', NUM], 'Main failure']),
        fleet.leastAvailable.map((s) => td(serverLink(s.name)) + td(num(s.availabilityPct), NUM) + td(count(s.polls), NUM) + td(esc(s.failures[0]?.reason ?? ''))),
      ),
    );
  }
  return out.join('');
}

function serverSection(s: ServerReport, model: ReportModel): string {
  const out: string[] = [];
  out.push(h2(esc(s.name), anchor(s.name)));
  out.push(
    p(
      `Available <b>${num(s.availabilityPct)} %</b> (${count(s.ok)} of ${count(s.polls)} polls ok) · CPU avg ${num(s.cpuAvg)} %, peak ${num(s.cpuPeak)} % · ` +
        `memory avg ${num(s.memPctAvg)} %, peak ${num(s.memPctPeak)} % · memory forecast: ${esc(forecastText(s.memory.forecast))}` +
        (s.memory.forecast.kind === 'full-in' && s.memory.forecast.flagged ? ' <b style="color:#c0392b;">(within the horizon)</b>' : ''),
    ),
  );
  if (s.failures.length > 0) {
    const shown = s.failures.slice(0, 5).map((f) => `${esc(f.reason)} (${count(f.count)}×)`);
    out.push(p(`Failed polls: ${shown.join('; ')}${s.failures.length > 5 ? '; …' : ''}`, 'color:#8a3b12;'));
  }
  out.push(
    table(
      DAY_HEAD,
      s.days.map((d: DayRow) =>
        d.polls === 0
          ? td(dayLabel(d.day), 'd') + '<td colspan="11" class="m">no polls</td>'
          : td(dayLabel(d.day), 'd') +
            td(`${count(d.ok)}/${count(d.polls)}`, NUM) +
            td(num(d.cpuAvg), NUM) +
            td(num(d.cpuPeak), NUM) +
            td(bar(d.cpuAvg, d.cpuPeak, COLOURS.cpu)) +
            td(num(d.memPctAvg), NUM) +
            td(num(d.memPctPeak), NUM) +
            td(bar(d.memPctAvg, d.memPctPeak, COLOURS.mem)) +
            td(num(d.memTotalGb, 2), NUM) +
            td(`${num(d.memUsedGbAvg, 2)} <span class="m">(${num(d.memUsedGbPeak, 2)})</span>`, NUM) +
            td(num(d.memAvailableGbAvg, 2), NUM) +
            td(`${num(d.swapUsedGbAvg, 2)} <span class="m">(${num(d.swapUsedGbPeak, 2)}) of ${num(d.swapTotalGb, 2)}</span>`, NUM),
      ),
    ),
  );
  for (const disk of s.disks) out.push(diskTable(disk, model));
  if (s.topCpu.length > 0 || s.topMem.length > 0) {
    out.push(h3('Top processes of the window'));
    const rows = (list: readonly ProcessRow[], label: string): string[] =>
      list.map((pr, i) => td(i === 0 ? label : '') + td(esc(pr.process)) + td(esc(pr.user)) + td(num(pr.cpuAvg), NUM) + td(num(pr.cpuPeak), NUM) + td(num(pr.memMbAvg, 0), NUM) + td(num(pr.memMbPeak, 0), NUM) + td(count(pr.seen), NUM));
    out.push(
      table(
        PROCESS_HEAD,
        [...rows(s.topCpu, 'CPU'), ...rows(s.topMem, 'memory')],
      ),
    );
  }
  if (s.users.length > 0) {
    out.push(h3('Who uses it (per-user totals)'));
    out.push(
      table(
        USER_HEAD,
        s.users.map((u: UserRow) => td(esc(u.user)) + td(num(u.cpuAvg), NUM) + td(num(u.cpuPeak), NUM) + td(num(u.memMbAvg, 0), NUM) + td(num(u.memMbPeak, 0), NUM) + td(count(u.processesMax), NUM)),
      ),
    );
  }
  return out.join('');
}

function diskTable(disk: DiskReport, model: ReportModel): string {
  const f = disk.forecast;
  const flagged = f.kind === 'full-in' && f.flagged;
  const head = h3(
    `Filesystem ${esc(disk.mount)}${disk.fsType === '' ? '' : ` <span style="color:#888888;font-weight:normal;">(${esc(disk.fsType)})</span>`} · ` +
      `${flagged ? '<span style="color:#c0392b;">' : ''}${esc(forecastText(f))}${flagged ? ` (within ${model.horizonDays} days)</span>` : ''}`,
  );
  const rows = disk.days.flatMap((d) =>
    d === null
      ? []
      : [
          td(dayLabel(d.day), 'd') +
            td(num(d.totalGb, 2), NUM) +
            td(num(d.usedGbAvg, 2), NUM) +
            td(num(d.freeGbAvg, 2), NUM) +
            td(num(d.usedPctPeak), NUM) +
            td(bar(d.usedPctPeak, d.usedPctPeak, levelColours(d.usedPctPeak))),
        ],
  );
  return head + table(DISK_HEAD, rows);
}

function dataQuality(model: ReportModel): string {
  if (model.badRows.length === 0 && model.notes.length === 0) return '';
  const out: string[] = [h2(model.badRows.length > 0 ? 'Data quality' : 'Notes')];
  for (const b of model.badRows) {
    out.push(p(`<b>${esc(b.file)}</b>: ${count(b.count)} row(s) could not be read and were left out. For example:`));
    out.push(`<ul style="${FONT}font-size:11px;color:#555555;margin:2px 0 8px 0;">${b.examples.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>`);
  }
  for (const note of model.notes) out.push(p(esc(note), 'color:#555555;'));
  return out.join('');
}
