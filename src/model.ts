// The typed data that flows one way: inventory -> poll -> samples -> store.

export type TransportKind = 'ssh' | 'local' | 'winrm' | 'push';
export type OsKind = 'linux' | 'windows';

// How PowerShell remoting authenticates to a WinRM host (Invoke-Command -Authentication).
export type WinrmAuthentication = 'default' | 'negotiate' | 'kerberos' | 'credssp' | 'basic';

// WinRM connection options of one host (transport=winrm only).
export interface WinrmOptions {
  /** HTTPS listener (port 5986 by default) instead of HTTP (5985). */
  readonly useSsl: boolean;
  readonly authentication: WinrmAuthentication;
}

// How a host authenticates; secrets are referenced, never stored here.
export type AuthSpec =
  | { kind: 'default' }
  | { kind: 'agent' }
  | { kind: 'key'; path: string }
  | { kind: 'password-env'; envVar: string };

// One validated row of servers.csv.
export interface Host {
  readonly name: string;
  readonly address: string;
  readonly transport: TransportKind;
  readonly port: number;
  readonly user: string;
  readonly auth: AuthSpec;
  readonly os: OsKind;
  readonly tags: readonly string[];
  readonly enabled: boolean;
  /** 1-based line in the inventory file, for messages. */
  readonly line: number;
  /** Columns the core does not interpret (per-host overrides used by later stages). */
  readonly extra: Readonly<Record<string, string>>;
  /** Set for transport=winrm; `port` is then the WinRM port. */
  readonly winrm?: WinrmOptions;
  /** Set for transport=push: the host sends its probe output itself (docs/push.md). */
  readonly push?: PushOptions;
  /** Network zone whose worker pollers poll this host (servers.csv `zone`); absent means DEFAULT_ZONE. */
  readonly zone?: string;
}

// The zone of hosts whose `zone` cell is empty.
export const DEFAULT_ZONE = 'default';

/** The zone a host is polled from. */
export function zoneOf(host: Pick<Host, 'zone'>): string {
  return host.zone ?? DEFAULT_ZONE;
}

// A transport=push host's schedule: it is `timeout` once its last push is older than this (plus push.graceSeconds).
export interface PushOptions {
  readonly intervalSeconds: number;
}

export interface Disk {
  mount: string;
  fsType: string;
  totalKb: number;
  usedKb: number;
  availableKb: number;
}

export interface Proc {
  pid: number;
  user: string;
  cpuPct: number;
  rssKb: number;
  name: string;
}

export interface UserTotal {
  user: string;
  cpuPct: number;
  rssKb: number;
  processCount: number;
}

export interface Session {
  user: string;
  terminal: string;
  from: string;
}

// One host's answer to the probe, validated.
export interface Sample {
  hostname: string;
  osFamily: string;
  osVersion: string;
  osPretty: string;
  uptimeSec: number;
  cpuCores: number;
  cpuBusyPct: number;
  load: { m1: number; m5: number; m15: number } | null;
  mem: {
    totalKb: number;
    availableKb: number;
    freeKb: number;
    swapTotalKb: number;
    swapFreeKb: number;
  };
  disks: Disk[];
  procs: Proc[];
  users: UserTotal[];
  sessions: Session[];
  /** Notes the probe emitted about data it could not collect (e.g. a hung mount). */
  warnings: string[];
}

export type FailureStatus = 'timeout' | 'unreachable' | 'auth_failed' | 'host_key_mismatch' | 'probe_error';
export type PollStatus = 'ok' | FailureStatus;

// Where in a host's poll time was spent or a failure happened.
export type Phase = 'dns' | 'connect' | 'handshake' | 'auth' | 'exec' | 'read' | 'parse';

// The outcome of polling one host: always produced, never thrown.
export type PollResult =
  | {
      host: Host;
      status: 'ok';
      sample: Sample;
      startedAt: Date;
      durationMs: number;
      attempts: number;
    }
  | {
      host: Host;
      status: FailureStatus;
      phase: Phase;
      error: string;
      startedAt: Date;
      durationMs: number;
      attempts: number;
      cause?: unknown;
    };
