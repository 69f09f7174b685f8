// Parses probe protocol v1 (see shared/design.md) into a validated Sample. Pure.
import type { Disk, Proc, Sample, Session, UserTotal } from '../model.js';

export const PROTOCOL_HEADER = 'fleetpoll-probe';
export const PROTOCOL_VERSION = '1';
const HEADER_LINE = `${PROTOCOL_HEADER}\t${PROTOCOL_VERSION}`;

export type ParseOutcome = { ok: true; sample: Sample } | { ok: false; error: string };

// Bounds on what a host may send; a hostile host costs a probe_error, not our memory.
const MAX_TEXT = 256;
// A Map: record types come from the host, and a type like `__proto__` must not reach Object's prototype.
const MAX_RECORDS = new Map([
  ['disk', 512],
  ['proc', 2000],
  ['user', 10000],
  ['session', 2000],
  ['warn', 100],
]);
// Shell start-up files can print a line or two before the probe runs (a .bashrc echo).
const MAX_NOISE_LINES = 20;

const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROL_ALL = /[\u0000-\u001f\u007f]/g;

class ProtocolError extends Error {}

function num(field: string | undefined, what: string, line: number): number {
  if (field === undefined || !/^\d+(\.\d+)?$/.test(field)) {
    throw new ProtocolError(`line ${line}: ${what} is not a non-negative number: ${JSON.stringify(clip(field ?? ''))}`);
  }
  const value = Number(field);
  if (!Number.isFinite(value)) throw new ProtocolError(`line ${line}: ${what} is out of range`);
  return value;
}

function int(field: string | undefined, what: string, line: number): number {
  const value = num(field, what, line);
  if (!Number.isSafeInteger(value)) throw new ProtocolError(`line ${line}: ${what} is not an integer`);
  return value;
}

function pct(field: string | undefined, what: string, line: number, max: number): number {
  const value = num(field, what, line);
  if (value > max) throw new ProtocolError(`line ${line}: ${what} ${value} exceeds ${max}`);
  return value;
}

function text(field: string | undefined, what: string, line: number): string {
  if (field === undefined) throw new ProtocolError(`line ${line}: ${what} is missing`);
  // Control characters would break CSV cells and log lines; the probe should have removed them.
  return clip(CONTROL.test(field) ? field.replace(CONTROL_ALL, '?') : field);
}

function clip(value: string): string {
  return value.length > MAX_TEXT ? value.slice(0, MAX_TEXT) : value;
}

function arity(fields: string[], min: number, line: number): void {
  if (fields.length - 1 < min) {
    throw new ProtocolError(`line ${line}: '${fields[0]}' record needs ${min} fields, got ${fields.length - 1}`);
  }
}

/** Parses the complete stdout of a probe. Truncated, malformed or oversized output is an error. */
export function parseProbeOutput(raw: string): ParseOutcome {
  try {
    return { ok: true, sample: parse(raw) };
  } catch (error) {
    if (error instanceof ProtocolError) return { ok: false, error: error.message };
    throw error;
  }
}

function parse(raw: string): Sample {
  // Windows PowerShell may prefix UTF-8 output with a BOM.
  const lines = (raw.startsWith('\uFEFF') ? raw.slice(1) : raw).split('\n');
  let index = 0;
  while (index < lines.length && stripCr(lines[index] ?? '') !== HEADER_LINE) {
    const candidate = stripCr(lines[index] ?? '');
    if (candidate.startsWith(`${PROTOCOL_HEADER}\t`)) {
      throw new ProtocolError(`unsupported probe protocol version ${JSON.stringify(clip(candidate.split('\t')[1] ?? ''))}`);
    }
    index += 1;
    if (index > MAX_NOISE_LINES) break;
  }
  if (index >= lines.length || index > MAX_NOISE_LINES) {
    const first = stripCr(lines[0] ?? '').trim();
    throw new ProtocolError(
      raw.trim() === '' ? 'no output from probe' : `not probe output (first line: ${JSON.stringify(clip(first).slice(0, 80))})`,
    );
  }

  const sample: Sample = {
    hostname: '',
    osFamily: '',
    osVersion: '',
    osPretty: '',
    uptimeSec: -1,
    cpuCores: 0,
    cpuBusyPct: -1,
    load: null,
    mem: { totalKb: -1, availableKb: 0, freeKb: 0, swapTotalKb: 0, swapFreeKb: 0 },
    disks: [],
    procs: [],
    users: [],
    sessions: [],
    warnings: [],
  };
  if (index > 0) sample.warnings.push(`${index} line(s) of output before the probe header were ignored`);

  const counts = new Map<string, number>();
  let ended = false;
  for (index += 1; index < lines.length; index += 1) {
    const lineNo = index + 1;
    const line = stripCr(lines[index] ?? '');
    if (line === '') continue;
    const fields = line.split('\t');
    const type = fields[0] ?? '';
    if (type === 'end') {
      ended = true;
      break;
    }
    const limit = MAX_RECORDS.get(type);
    if (limit !== undefined) {
      const count = (counts.get(type) ?? 0) + 1;
      if (count > limit) throw new ProtocolError(`more than ${limit} '${type}' records`);
      counts.set(type, count);
    }
    readRecord(sample, type, fields, lineNo);
  }
  if (!ended) throw new ProtocolError('output truncated: no end record');
  if (sample.hostname === '') throw new ProtocolError("missing 'host' record");
  if (sample.cpuBusyPct < 0) throw new ProtocolError("missing 'cpu' record");
  if (sample.mem.totalKb < 0) throw new ProtocolError("missing 'mem' record");
  if (sample.uptimeSec < 0) throw new ProtocolError("missing 'uptime' record");
  return sample;
}

function readRecord(sample: Sample, type: string, f: string[], line: number): void {
  switch (type) {
    case 'host':
      arity(f, 1, line);
      sample.hostname = text(f[1], 'hostname', line);
      return;
    case 'os':
      arity(f, 1, line);
      sample.osFamily = text(f[1], 'os family', line);
      sample.osVersion = f[2] === undefined ? '' : text(f[2], 'os version', line);
      sample.osPretty = f[3] === undefined ? '' : text(f[3], 'os name', line);
      return;
    case 'uptime':
      arity(f, 1, line);
      sample.uptimeSec = num(f[1], 'uptime', line);
      return;
    case 'cpu':
      arity(f, 2, line);
      sample.cpuCores = int(f[1], 'cpu cores', line);
      if (sample.cpuCores < 1) throw new ProtocolError(`line ${line}: cpu cores must be at least 1`);
      sample.cpuBusyPct = pct(f[2], 'cpu busy %', line, 100);
      return;
    case 'load':
      arity(f, 3, line);
      sample.load = { m1: num(f[1], 'load 1m', line), m5: num(f[2], 'load 5m', line), m15: num(f[3], 'load 15m', line) };
      return;
    case 'mem': {
      arity(f, 5, line);
      const mem = {
        totalKb: int(f[1], 'mem total', line),
        availableKb: int(f[2], 'mem available', line),
        freeKb: int(f[3], 'mem free', line),
        swapTotalKb: int(f[4], 'swap total', line),
        swapFreeKb: int(f[5], 'swap free', line),
      };
      if (mem.totalKb === 0) throw new ProtocolError(`line ${line}: mem total is 0`);
      if (mem.availableKb > mem.totalKb || mem.freeKb > mem.totalKb) {
        throw new ProtocolError(`line ${line}: mem available/free exceed total`);
      }
      if (mem.swapFreeKb > mem.swapTotalKb) throw new ProtocolError(`line ${line}: swap free exceeds swap total`);
      sample.mem = mem;
      return;
    }
    case 'disk': {
      arity(f, 5, line);
      const disk: Disk = {
        mount: text(f[1], 'mount', line),
        fsType: text(f[2], 'fs type', line),
        totalKb: int(f[3], 'disk total', line),
        usedKb: int(f[4], 'disk used', line),
        availableKb: int(f[5], 'disk available', line),
      };
      sample.disks.push(disk);
      return;
    }
    case 'proc': {
      arity(f, 5, line);
      const proc: Proc = {
        pid: int(f[1], 'pid', line),
        user: text(f[2], 'process user', line),
        cpuPct: num(f[3], 'process cpu %', line),
        rssKb: int(f[4], 'process resident kB', line),
        // A process name may legitimately contain tabs only if the probe failed to sanitise; keep the rest.
        name: text(f.slice(5).join(' '), 'process name', line),
      };
      sample.procs.push(proc);
      return;
    }
    case 'user': {
      arity(f, 4, line);
      const user: UserTotal = {
        user: text(f[1], 'user', line),
        cpuPct: num(f[2], 'user cpu %', line),
        rssKb: int(f[3], 'user resident kB', line),
        processCount: int(f[4], 'user process count', line),
      };
      sample.users.push(user);
      return;
    }
    case 'session': {
      arity(f, 1, line);
      const session: Session = {
        user: text(f[1], 'session user', line),
        terminal: f[2] === undefined ? '' : text(f[2], 'session terminal', line),
        from: f[3] === undefined ? '' : text(f[3], 'session origin', line),
      };
      sample.sessions.push(session);
      return;
    }
    case 'warn':
      sample.warnings.push(text(f.slice(1).join(' '), 'warning', line));
      return;
    default:
      // Unknown record types are ignored so probes can grow (protocol rule).
      return;
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
