// The fleet's metrics in the exposition format, from the results of the last cycle (a scrape never
// polls). node_exporter's names where the meaning is the same, fleetpoll_* otherwise. Two shapes:
// the whole fleet with an `instance` label per host (/metrics/fleet), or one host without it, the
// blackbox way (/probe?target=). Top processes are not series; per-user series exist only for users
// with processes, so the series count is bounded by hosts x (mounts + users + a fixed set).
import type { PollResult, PollStatus, Sample } from '../../model.js';
import { escapeHelp, formatValue, label } from './exposition.js';
import type { MetricsCycle } from './source.js';

// Every poll status, each a series of fleetpoll_poll_status (1 for the host's status, 0 for the others).
const STATUS_SET: Readonly<Record<PollStatus, true>> = { ok: true, timeout: true, unreachable: true, auth_failed: true, host_key_mismatch: true, probe_error: true };
/** The poll statuses, in the CSV files' order. */
export const POLL_STATUSES = Object.keys(STATUS_SET) as readonly PollStatus[];
const STATUS_LABELS = Object.fromEntries(POLL_STATUSES.map((s) => [s, label('status', s)])) as Readonly<Record<PollStatus, string>>;

/** Appended to every HELP text: what a scrape returns, and what it does not do. */
export const LAST_CYCLE_NOTE = "(from fleetpoll's last poll cycle; a scrape does not poll)";

// A host as the families read it; its label texts are escaped once per render, not once per family.
interface HostView {
  readonly result: PollResult;
  /** The sample of an ok host; null for a failed one (it has no measured series: not a zero, not measured). */
  readonly sample: Sample | null;
  /** `mountpoint="…",fstype="…"` per filesystem, a mount listed twice once (a duplicate series fails the whole scrape). */
  readonly disks: readonly (readonly [string, Sample['disks'][number]])[];
  /** `user="…"` per user with processes, once each. */
  readonly users: readonly (readonly [string, Sample['users'][number]])[];
}

// Adds one sample: labels besides `instance`, already rendered (see label()), or '' for none.
type Emit = (labels: string, value: number) => void;

// One family: its name, HELP, and the samples a host gives it.
interface FamilyDef {
  readonly name: string;
  readonly help: string;
  samples(host: HostView, cycle: MetricsCycle, emit: Emit): void;
}

const KB = 1024;

// From an ok host's sample only.
function fromSample(name: string, help: string, value: (s: Sample, r: PollResult) => number | null): FamilyDef {
  return {
    name,
    help,
    samples(h, _cycle, emit) {
      if (h.sample === null) return;
      const v = value(h.sample, h.result);
      if (v !== null) emit('', v);
    },
  };
}

function pollEndSec(r: PollResult): number {
  return Math.round(r.startedAt.getTime() + r.durationMs) / 1000;
}

/** The families, in the order they are written (exported for the tests). */
export const FLEET_FAMILIES: readonly FamilyDef[] = [
  {
    name: 'fleetpoll_up',
    help: '1 when the last poll of the host succeeded (status ok), else 0',
    samples(h, _cycle, emit) {
      emit('', h.sample === null ? 0 : 1);
    },
  },
  {
    name: 'fleetpoll_poll_status',
    help: 'The status of the last poll of the host: 1 for the series whose status label it had, 0 for the others',
    samples(h, _cycle, emit) {
      for (const s of POLL_STATUSES) emit(STATUS_LABELS[s], h.result.status === s ? 1 : 0);
    },
  },
  {
    name: 'fleetpoll_probe_duration_seconds',
    help: 'How long the last poll of the host took (connect, probe, read; retries included), seconds',
    samples(h, _cycle, emit) {
      emit('', Math.round(h.result.durationMs) / 1000);
    },
  },
  {
    name: 'fleetpoll_last_poll_timestamp_seconds',
    help: 'When the last poll of the host ended, epoch seconds',
    samples(h, _cycle, emit) {
      emit('', pollEndSec(h.result));
    },
  },
  {
    name: 'fleetpoll_last_success_timestamp_seconds',
    help: 'When the last successful poll of the host ended, epoch seconds; absent when none succeeded since the service started',
    samples(h, cycle, emit) {
      const at = cycle.lastOkAtSec.get(h.result.host.name);
      if (at !== undefined) emit('', at);
    },
  },
  {
    name: 'fleetpoll_host_info',
    help: 'Always 1; the labels carry the host name the host reports and its operating system',
    samples(h, _cycle, emit) {
      if (h.sample !== null) emit(`${label('hostname', h.sample.hostname)},${label('os', h.sample.osPretty || h.sample.osFamily)}`, 1);
    },
  },
  fromSample('fleetpoll_cpu_cores', 'Logical CPU cores of the host', (s) => s.cpuCores),
  fromSample('fleetpoll_cpu_busy_ratio', 'Share of the whole host CPU busy over the probe window (poll.cpuWindowSeconds), 0..1', (s) => s.cpuBusyPct / 100),
  fromSample('node_load1', '1m load average', (s) => s.load?.m1 ?? null),
  fromSample('node_load5', '5m load average', (s) => s.load?.m5 ?? null),
  fromSample('node_load15', '15m load average', (s) => s.load?.m15 ?? null),
  fromSample('node_boot_time_seconds', 'Node boot time, in unixtime (poll time minus uptime)', (s, r) => Math.round(r.startedAt.getTime() / 1000 - s.uptimeSec)),
  fromSample('node_memory_MemTotal_bytes', 'Memory information field MemTotal_bytes', (s) => s.mem.totalKb * KB),
  fromSample('node_memory_MemAvailable_bytes', 'Memory information field MemAvailable_bytes', (s) => s.mem.availableKb * KB),
  fromSample('node_memory_MemFree_bytes', 'Memory information field MemFree_bytes', (s) => s.mem.freeKb * KB),
  fromSample('node_memory_SwapTotal_bytes', 'Memory information field SwapTotal_bytes', (s) => s.mem.swapTotalKb * KB),
  fromSample('node_memory_SwapFree_bytes', 'Memory information field SwapFree_bytes', (s) => s.mem.swapFreeKb * KB),
  disks('node_filesystem_size_bytes', 'Filesystem size in bytes', (d) => d.totalKb),
  disks('node_filesystem_avail_bytes', 'Filesystem space available to non-root users in bytes', (d) => d.availableKb),
  disks('node_filesystem_free_bytes', 'Filesystem free space in bytes (size minus used, root reserve included)', (d) => d.totalKb - d.usedKb),
  users('fleetpoll_user_cpu_ratio', "CPU of the user's processes over the probe window as a share of one core (1 = one core busy; may exceed 1), users with processes only", (u) => u.cpuPct / 100),
  users('fleetpoll_user_resident_bytes', "Resident memory of the user's processes in bytes, users with processes only", (u) => u.rssKb * KB),
  users('fleetpoll_user_processes', 'Processes the user runs, users with processes only', (u) => u.processCount),
];

function disks(name: string, help: string, kb: (d: Sample['disks'][number]) => number): FamilyDef {
  return {
    name,
    help,
    samples(h, _cycle, emit) {
      for (const [labels, d] of h.disks) emit(labels, kb(d) * KB);
    },
  };
}

function users(name: string, help: string, value: (u: Sample['users'][number]) => number): FamilyDef {
  return {
    name,
    help,
    samples(h, _cycle, emit) {
      for (const [labels, u] of h.users) emit(labels, value(u));
    },
  };
}

function view(result: PollResult): HostView {
  if (result.status !== 'ok') return { result, sample: null, disks: [], users: [] };
  const sample = result.sample;
  const disks = new Map<string, Sample['disks'][number]>();
  for (const d of sample.disks) {
    const labels = `${label('mountpoint', d.mount)},${label('fstype', d.fsType)}`;
    if (!disks.has(labels)) disks.set(labels, d);
  }
  const users = new Map<string, Sample['users'][number]>();
  for (const u of sample.users) {
    if (u.processCount <= 0) continue;
    const labels = label('user', u.user);
    if (!users.has(labels)) users.set(labels, u);
  }
  return { result, sample, disks: [...disks], users: [...users] };
}

/** The whole fleet, one `instance` label (the servers.csv name) per host. */
export function fleetExposition(cycle: MetricsCycle): string {
  return render(cycle, cycle.results, (r) => label('instance', r.host.name));
}

/** One host, without an `instance` label (Prometheus adds its own from the target), blackbox style. */
export function probeExposition(cycle: MetricsCycle, result: PollResult): string {
  return render(cycle, [result], () => '');
}

// Each family's samples contiguous, as the format requires; a family without samples writes nothing.
function render(cycle: MetricsCycle, results: readonly PollResult[], base: (r: PollResult) => string): string {
  const hosts = results.map(view);
  const bases = results.map(base);
  // Pieces joined once at the end: one flat string, not a rope of 50,000 concatenations.
  const out: string[] = [];
  for (const def of FLEET_FAMILIES) {
    const header = out.length;
    out.push(`# HELP ${def.name} ${escapeHelp(`${def.help} ${LAST_CYCLE_NOTE}`)}\n# TYPE ${def.name} gauge\n`);
    let prefix = '';
    const emit: Emit = (labels, value) => {
      const set = labels === '' ? prefix : prefix === '' ? labels : `${prefix},${labels}`;
      out.push(set === '' ? def.name : `${def.name}{${set}}`, ' ', formatValue(value), '\n');
    };
    hosts.forEach((h, i) => {
      prefix = bases[i]!;
      def.samples(h, cycle, emit);
    });
    // A family without samples writes nothing (no dangling HELP).
    if (out.length === header + 1) out.pop();
  }
  return out.join('');
}
