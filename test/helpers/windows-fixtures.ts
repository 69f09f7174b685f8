// Turns recorded Windows outputs (test/fixtures/windows/<case>/) into the readings the Windows
// probe formats, as PowerShell code: the probe's formatting then runs on them under pwsh.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { psQuote } from './pwsh.js';

/** Fixtures are read from the source tree; tsc does not copy them to dist/. */
export const WINDOWS_FIXTURES = fileURLToPath(new URL('../../../test/fixtures/windows/', import.meta.url));
/** The probe itself, from the source tree. */
export const WINDOWS_PROBE = fileURLToPath(new URL('../../../src/probes/windows.ps1', import.meta.url));

// One object of Format-List or Format-Table output: property name -> text as printed.
export type ListRecord = Record<string, string>;

/** The cases: one folder each, holding the recorded outputs, output.txt and expected.json. */
export function windowsCases(): string[] {
  return readdirSync(WINDOWS_FIXTURES, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** `Format-List` text: records separated by blank lines, `Name : value`, long values wrapped. */
export function parseFormatList(text: string): ListRecord[] {
  const records: ListRecord[] = [];
  let current: ListRecord | null = null;
  let last: string | null = null;
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    if (raw.trim() === '') {
      if (current !== null) records.push(current);
      current = null;
      last = null;
      continue;
    }
    const m = /^(\S[^:]*?)\s*:(?: (.*))?$/.exec(raw);
    if (m !== null && !/^\s/.test(raw)) {
      current ??= {};
      last = m[1] ?? '';
      current[last] = (m[2] ?? '').trimEnd();
    } else if (current !== null && last !== null) {
      current[last] = `${current[last] ?? ''}${raw.trim()}`;
    }
  }
  if (current !== null) records.push(current);
  return records;
}

/** `Format-Table` text: header, a line of dashes per column, rows; cells found by position. */
export function parseFormatTable(text: string): ListRecord[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim() !== '');
  const dashIndex = lines.findIndex((l) => /^[\s-]+$/.test(l) && l.includes('-'));
  if (dashIndex < 1) throw new Error('table without a header underline');
  const header = lines[dashIndex - 1] ?? '';
  const columns = [...(lines[dashIndex] ?? '').matchAll(/-+/g)].map((m) => ({
    start: m.index ?? 0,
    end: (m.index ?? 0) + m[0].length,
    name: header.slice(m.index ?? 0, (m.index ?? 0) + m[0].length).trim(),
  }));
  return lines.slice(dashIndex + 1).map((line) => {
    const row: ListRecord = Object.fromEntries(columns.map((c) => [c.name, '']));
    for (const token of line.matchAll(/\S+/g)) {
      const start = token.index ?? 0;
      const end = start + token[0].length;
      // A cell belongs to the column its text overlaps (numbers are right-aligned, text left-aligned).
      const column = columns.find((c) => start < c.end && end > c.start) ?? columns.reduce((a, b) => (Math.abs(b.start - start) < Math.abs(a.start - start) ? b : a));
      row[column.name] = row[column.name] === '' ? token[0] : `${row[column.name]} ${token[0]}`;
    }
    return row;
  });
}

function objectLiteral(record: ListRecord): string {
  return `[pscustomobject]@{ ${Object.entries(record)
    .map(([k, v]) => `${psQuote(k)} = ${psQuote(v)}`)
    .join('; ')} }`;
}

function listFile(dir: string, name: string): ListRecord[] | null {
  const path = join(dir, name);
  return existsSync(path) ? parseFormatList(readFileSync(path, 'utf8')) : null;
}

function arrayOf(records: readonly ListRecord[] | null): string {
  return records === null ? '@()' : `@(${records.map(objectLiteral).join(', ')})`;
}

/** PowerShell code that sets $FpReadings from a case folder, in the shape Get-FpReadings returns. */
export function readingsScript(caseDir: string): string {
  const os = listFile(caseDir, 'Win32_OperatingSystem.txt')?.[0];
  if (os === undefined) throw new Error(`${caseDir}: Win32_OperatingSystem.txt is required`);
  const cs = listFile(caseDir, 'Win32_ComputerSystem.txt')?.[0];
  const revision = listFile(caseDir, 'CurrentVersion.txt')?.[0]?.UBR;
  const sessions = existsSync(join(caseDir, 'Get-Process.txt'))
    ? parseFormatTable(readFileSync(join(caseDir, 'Get-Process.txt'), 'utf8')).map((r) => ({ Id: r.Id ?? '', SessionId: r.SI ?? '' }))
    : [];
  const owners = (listFile(caseDir, 'GetOwner.txt') ?? [])
    .map((r) => `[long]${Number(r.ProcessId)} = ${objectLiteral({ Domain: r.Domain ?? '', User: r.User ?? '', ReturnValue: r.ReturnValue ?? '' })}`)
    .join('; ');
  const quserPath = join(caseDir, 'quser.txt');
  const quser = existsSync(quserPath)
    ? `@(${readFileSync(quserPath, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '').map(psQuote).join(', ')})`
    : '$null';
  const warningsPath = join(caseDir, 'warnings.txt');
  const warnings = existsSync(warningsPath)
    ? readFileSync(warningsPath, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '').map(psQuote).join(', ')
    : '';
  return [
    '$FpReadings = @{',
    `  OperatingSystem = ${objectLiteral(os)}`,
    `  ComputerSystem = ${cs === undefined ? '$null' : objectLiteral(cs)}`,
    `  BuildRevision = ${revision === undefined ? '$null' : psQuote(revision)}`,
    `  Processor1 = ${arrayOf(listFile(caseDir, 'Win32_PerfRawData_PerfOS_Processor.1.txt'))}`,
    `  Processor2 = ${arrayOf(listFile(caseDir, 'Win32_PerfRawData_PerfOS_Processor.2.txt'))}`,
    `  Process1 = ${arrayOf(listFile(caseDir, 'Win32_PerfRawData_PerfProc_Process.1.txt'))}`,
    `  Process2 = ${arrayOf(listFile(caseDir, 'Win32_PerfRawData_PerfProc_Process.2.txt'))}`,
    `  ProcessSessions = ${arrayOf(sessions)}`,
    `  PageFiles = ${arrayOf(listFile(caseDir, 'Win32_PageFileUsage.txt'))}`,
    `  Volumes = ${arrayOf(listFile(caseDir, 'Win32_Volume.txt'))}`,
    `  Quser = ${quser}`,
    `  Owners = @{ ${owners} }`,
    `  Warnings = @(${warnings})`,
    '}',
  ].join('\n');
}

/** Culture the case is formatted under (culture.txt), default en-US. */
export function caseCulture(caseDir: string): string {
  const path = join(caseDir, 'culture.txt');
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : 'en-US';
}

/**
 * A complete script for a "Windows host": the real probe in library mode, the recorded
 * readings, and the call that formats them. What a host would print, minus the collecting.
 */
export function fixtureProbeScript(caseDir: string, topN = 10): string {
  return [
    '$FP_LIBRARY = $true',
    readFileSync(WINDOWS_PROBE, 'utf8'),
    readingsScript(caseDir),
    `[System.Threading.Thread]::CurrentThread.CurrentCulture = [System.Globalization.CultureInfo]::GetCultureInfo(${psQuote(caseCulture(caseDir))})`,
    `Format-FpProbe $FpReadings ${Math.trunc(topN)}`,
  ].join('\n');
}
