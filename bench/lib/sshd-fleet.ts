// The sshd "hosts" of the benchmarks that poll many of them (bench/dead-hosts.ts, bench/serve.ts):
// the test account, keys, N real OpenSSH sshd processes on loopback (16 ListenAddress each), a
// known_hosts file for all of them, and the choice of what a session runs on the host side: the
// real probe (whatever the poller streams, `sh -s`) or the CANNED probe. The canned probe is an
// sshd_config ForceCommand whose shell prints a fixed, valid protocol answer (a sample captured from
// a real Debian 12 host) with a builtin; the poller still streams its whole probe on stdin, which
// sshd receives and discards. SSH transport, the session, the exec, the poller's parsing and its
// fan-out are all real, only the probe's own work on the host is not. Why: on loopback every "host" shares the poller's machine and one process table, so the real
// probe's cost (it reads every /proc/<pid>) grows with the benchmark's own sessions and, at 1,000
// hosts on 2 cores, its CPU swamps the poller's and pushes healthy hosts past their deadline.
import { existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTestUser, loopbackAddresses, makeKeys, pickPort, removeKeys, startSshdFleet, TEST_USER, type Sshd, type SshdKeys } from '../../test/helpers/sshd.js';

/** What a session runs on the bench's sshd hosts. */
export type HostProbe = 'canned' | 'real';

/**
 * The canned probe's answer: real output of the Linux probe on a Debian 12 host (the golden
 * fixture test/fixtures/probe/debian12-dash/output.txt, 22 lines, 11 processes): the poller parses
 * and stores a sample of realistic size. Fixed, so every cycle's parsing costs the same.
 */
export const CANNED_ANSWER = [
  'fleetpoll-probe\t1',
  'host\tvm',
  'os\tlinux\t6.18.44-fc-v657\tDebian GNU/Linux 12 (bookworm)',
  'uptime\t3246',
  'load\t96.90\t259.08\t178.06',
  'mem\t24684092\t24010276\t21641780\t0\t0',
  'disk\t/\text4\t264212084\t14398008\t82379964',
  'cpu\t2\t99.0',
  'proc\t22811\troot\t91.3\t176436\tnode',
  'proc\t23145\troot\t63.6\t96452\tpwsh-sma',
  'proc\t12101\troot\t1.0\t1964\tbash',
  'proc\t1\troot\t0.0\t14480\tprocess_api',
  'proc\t20100\troot\t0.0\t9060\tsshd',
  'proc\t2974\troot\t0.0\t4336\tbash',
  'proc\t979\troot\t0.0\t4264\tbash',
  'proc\t2772\troot\t0.0\t4212\tbash',
  'proc\t15751\troot\t0.0\t4212\tbash',
  'proc\t2943\troot\t0.0\t4128\tbash',
  'proc\t7222\troot\t0.0\t4020\tbash',
  'user\troot\t155.9\t356660\t29',
  'tasks\t29\t58',
  'end',
  '',
].join('\n');

/** One line for a benchmark's output and docs: what the hosts run, and why. */
export function describeHostProbe(probe: HostProbe): string {
  return probe === 'canned'
    ? 'host side: CANNED probe (sshd ForceCommand prints a fixed real sample; the poller streams its probe as always; transport, session, exec and parsing are real, the probe work on the host is not, because on loopback it would load the poller\'s own cores)'
    : 'host side: REAL probe (sh -s runs the streamed Linux probe; on loopback its cost grows with the benchmark\'s own sessions)';
}

export interface FleetOptions {
  /** How many host addresses (one sshd per 16). */
  readonly hosts: number;
  /** Second octet of the 127.x.y.z block: each bench keeps its own. */
  readonly octet: number;
  /** Seed of the TCP port (pickPort). */
  readonly portSeed: number;
  /** Temp dir name prefix, e.g. 'fleetpoll-bench-dead-'. */
  readonly prefix: string;
  /** What sessions run at start; setProbe() switches it between cycles. */
  readonly probe: HostProbe;
  /**
   * sshd -r: each connection is a plain fork of its sshd, not a fresh exec of sshd (which loads the
   * binary, its config and host keys again: several ms of CPU per connection on the poller's own
   * cores). For benchmarks of the poller alone; a real server re-executes.
   */
  readonly noReexec?: boolean;
  /**
   * The canned probe first reads the streamed probe to its end (`cat >/dev/null`, as `sh -s` reads
   * it), at the cost of one more process per session on the sshd side. bench/dead-hosts.ts drains
   * (its figures were taken so); bench/serve.ts, which measures the sshd side, does not.
   */
  readonly drainStdin?: boolean;
}

/** A running fleet of sshd hosts; stop() it in a finally. */
export interface SshdFleet {
  readonly addresses: readonly string[];
  readonly port: number;
  readonly keys: SshdKeys;
  readonly sshd: readonly Sshd[];
  /** PIDs of the sshd masters (for the sshd-side CPU accounting). */
  readonly masters: readonly number[];
  /** A known_hosts file naming every address ([address]:port). */
  readonly knownHostsPath: string;
  /** A scratch dir of the bench's own (removed by stop()). */
  readonly work: string;
  readonly startedMs: number;
  probe(): HostProbe;
  /** Switches what new sessions run (a flag file the ForceCommand script reads). */
  setProbe(probe: HostProbe): void;
  /** servers.csv text for `rows` on this fleet's port, logging in with the bench key. */
  inventory(rows: readonly { readonly name: string; readonly address: string }[]): string;
  /** Stops every sshd (SIGTERM, then SIGKILL) and removes the temp dirs. */
  stop(): Promise<void>;
  /** For signal handlers: SIGKILLs every sshd and removes the temp dirs, synchronously. */
  killNow(): void;
}

/** Creates the test account and keys and starts ceil(hosts / 16) sshd on loopback. */
export async function startFleet(options: FleetOptions): Promise<SshdFleet> {
  ensureTestUser();
  const keys = makeKeys(options.prefix);
  const work = mkdtempSync(join(tmpdir(), options.prefix));
  const port = pickPort(options.portSeed);
  const addresses = loopbackAddresses(options.hosts, options.octet);
  const flagPath = join(keys.dir, 'canned.on');
  const forcePath = join(keys.dir, 'force-probe.sh');
  if (CANNED_ANSWER.includes("'")) throw new Error('the canned answer must not contain a single quote');
  // Sourced by the login shell (`sh -c '. force-probe.sh'`): no extra shell process. The canned
  // branch is one builtin printf (after `cat >/dev/null` with drainStdin: a fork and an exec more
  // per session on the sshd side, which bench/serve.ts measures); the real branch execs the
  // poller's command itself, as sshd would without a ForceCommand.
  writeFileSync(
    forcePath,
    `if [ -e ${flagPath} ]; then\n${options.drainStdin === true ? '  cat >/dev/null\n' : ''}  printf '%s' '${CANNED_ANSWER}'\nelse\n  eval "exec $SSH_ORIGINAL_COMMAND"\nfi\n`,
    { mode: 0o644 },
  );
  const setProbe = (probe: HostProbe): void => {
    if (probe === 'canned') writeFileSync(flagPath, '', { mode: 0o644 });
    else if (existsSync(flagPath)) unlinkSync(flagPath);
  };
  setProbe(options.probe);
  let current = options.probe;
  const started = performance.now();
  let sshd: Sshd[];
  try {
    sshd = await startSshdFleet(addresses, port, keys, `ForceCommand . ${forcePath}\n`, options.noReexec === true);
  } catch (error) {
    removeKeys(keys);
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
  const startedMs = performance.now() - started;
  const knownHostsPath = join(work, 'known_hosts');
  writeFileSync(knownHostsPath, `${sshd.flatMap((s) => s.knownHostsLines()).join('\n')}\n`, { mode: 0o600 });
  const removeDirs = (): void => {
    removeKeys(keys);
    rmSync(work, { recursive: true, force: true });
  };
  return {
    addresses,
    port,
    keys,
    sshd,
    masters: sshd.map((s) => s.pid),
    knownHostsPath,
    work,
    startedMs,
    probe: () => current,
    setProbe: (probe) => {
      setProbe(probe);
      current = probe;
    },
    inventory: (rows) => `name,address,transport,port,user,auth,os\n${rows.map((r) => `${r.name},${r.address},ssh,${port},${TEST_USER},key:${keys.clientKeyPath},linux`).join('\n')}\n`,
    stop: async () => {
      await Promise.all(sshd.map((s) => s.stop()));
      removeDirs();
    },
    killNow: () => {
      for (const s of sshd) {
        try {
          process.kill(s.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      removeDirs();
    },
  };
}
