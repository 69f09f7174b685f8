// The report as plain text: the e-mail's text/plain part, for clients that show no HTML. Pure.
import type { ReportModel, ServerReport } from './aggregate.js';
import { count, forecastText, num } from './html.js';

// Host text could hold control characters (a terminal escape in a process name): show them as '?'.
function clean(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

// The plain-text report; `servers` limits the per-server part as in the HTML.
export function renderText(model: ReportModel, options: { servers?: readonly ServerReport[]; omittedNote?: string } = {}): string {
  const { window, fleet } = model;
  const lines: string[] = [];
  lines.push(`fleetpoll utilisation report ${window.start} to ${window.end} (${window.days.length} days, UTC)`, '');
  if (fleet.servers === 0) {
    lines.push(`No data: no poll of any server falls between ${window.start} and ${window.end}.`);
  } else {
    const okPct = fleet.polls === 0 ? null : (fleet.okPolls / fleet.polls) * 100;
    lines.push(
      `Servers polled: ${count(fleet.servers)}, answered at least once: ${count(fleet.serversAnswered)}`,
      `Polls ok: ${num(okPct)} % of ${count(fleet.polls)}; days with data: ${fleet.daysWithData} of ${window.days.length}`,
      '',
      `Full within ${model.horizonDays} days at the week's trend:`,
    );
    if (fleet.flagged.length === 0) lines.push('  none');
    for (const f of fleet.flagged.slice(0, 50)) {
      lines.push(`  ${clean(f.server)}  ${clean(f.what)}  ${num(f.usedGb, 2)} of ${num(f.capacityGb, 2)} GB, +${num(f.slopeGbPerDay, 2)} GB/day: ${f.days < 1 ? 'full now' : `full in ${Math.floor(f.days)} days`}`);
    }
    if (fleet.flagged.length > 50) lines.push(`  ... and ${fleet.flagged.length - 50} more`);
    lines.push('', 'Busiest servers (CPU avg / peak %):');
    for (const s of fleet.busiest) lines.push(`  ${clean(s.name)}  ${num(s.cpuAvg)} / ${num(s.cpuPeak)}`);
    lines.push('', 'Closest to full:');
    for (const s of fleet.closestToFull) {
      if (s.fullest !== null) lines.push(`  ${clean(s.name)}  ${clean(s.fullest.mount)}  ${num(s.fullest.usedPct)} % used, ${num(s.fullest.freeGb, 2)} GB free, ${forecastText(s.fullest.forecast)}`);
    }
    if (fleet.leastAvailable.length > 0) {
      lines.push('', 'Least available:');
      for (const s of fleet.leastAvailable) lines.push(`  ${clean(s.name)}  ${num(s.availabilityPct)} % of ${count(s.polls)} polls ok; ${clean(s.failures[0]?.reason ?? '')}`);
    }
  }
  const detailed = options.servers ?? model.servers;
  if (detailed.length > 0) {
    lines.push('', 'SERVERS');
    if (options.omittedNote !== undefined) lines.push(options.omittedNote);
  }
  for (const s of detailed) {
    lines.push(
      '',
      `== ${clean(s.name)}: available ${num(s.availabilityPct)} % (${count(s.ok)}/${count(s.polls)}), memory ${forecastText(s.memory.forecast)}`,
      '   day         polls    cpu avg  peak   mem% avg  peak   mem GB total  used  avail   swap GB used',
    );
    for (const d of s.days) {
      if (d.polls === 0) {
        lines.push(`   ${d.day}  no polls`);
        continue;
      }
      lines.push(
        `   ${d.day}  ${`${d.ok}/${d.polls}`.padStart(7)}  ${num(d.cpuAvg).padStart(7)} ${num(d.cpuPeak).padStart(5)}  ${num(d.memPctAvg).padStart(8)} ${num(d.memPctPeak).padStart(5)}  ${num(d.memTotalGb, 2).padStart(12)} ${num(d.memUsedGbAvg, 2).padStart(5)} ${num(d.memAvailableGbAvg, 2).padStart(6)}  ${num(d.swapUsedGbAvg, 2).padStart(7)}`,
      );
    }
    for (const disk of s.disks) {
      lines.push(`   ${clean(disk.mount)}: ${num(disk.last.usedGb, 2)} GB used, ${num(disk.last.freeGb, 2)} GB free of ${num(disk.last.totalGb, 2)} GB (${num(disk.last.usedPct)} %), ${forecastText(disk.forecast)}`);
    }
    if (s.failures.length > 0) lines.push(`   failures: ${s.failures.slice(0, 3).map((f) => `${clean(f.reason)} (${f.count}x)`).join('; ')}`);
    if (s.topCpu.length > 0) lines.push(`   top CPU: ${s.topCpu.map((p) => `${clean(p.process)} [${clean(p.user)}] ${num(p.cpuAvg)} %`).join(', ')}`);
    if (s.topMem.length > 0) lines.push(`   top memory: ${s.topMem.map((p) => `${clean(p.process)} [${clean(p.user)}] ${num(p.memMbPeak, 0)} MB`).join(', ')}`);
    if (s.users.length > 0) lines.push(`   users: ${s.users.map((u) => `${clean(u.user)} ${num(u.cpuAvg)} % CPU, ${num(u.memMbAvg, 0)} MB`).join('; ')}`);
  }
  if (model.badRows.length > 0 || model.notes.length > 0) {
    lines.push('', 'DATA QUALITY');
    for (const b of model.badRows) {
      lines.push(`${b.file}: ${count(b.count)} row(s) could not be read and were left out, e.g.`);
      for (const e of b.examples.slice(0, 3)) lines.push(`  ${clean(e)}`);
    }
    for (const note of model.notes) lines.push(clean(note));
  }
  return `${lines.join('\n')}\n`;
}
