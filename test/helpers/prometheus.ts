// A real Prometheus server (Debian's /usr/bin/prometheus) started on loopback with a temp config and
// storage, queried through its HTTP API, stopped by PID; and promtool's linter over an exposition.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

/** Why the Prometheus tests cannot run here (null when they can); in CI a missing binary is a failure. */
export function missingPrometheus(): string | null {
  const missing = [PROMETHEUS, PROMTOOL].filter((p) => !existsSync(p));
  if (missing.length === 0) return null;
  const message = `${missing.join(' and ')} not installed (apt-get install prometheus)`;
  if (process.env.CI === 'true') throw new Error(`CI requires ${message}`);
  return message;
}

// One sample of an instant query's vector result.
export interface VectorSample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

// A running Prometheus.
export interface RunningPrometheus {
  readonly url: string;
  readonly dir: string;
  /** An instant PromQL query; throws with Prometheus's own error text. */
  query(promql: string): Promise<VectorSample[]>;
  /** Targets and their last scrape errors, for failure messages. */
  targets(): Promise<string>;
  /** Stops the process (by PID) and removes its storage. */
  stop(): Promise<void>;
}

/** Starts Prometheus with `configYaml` (files it names can be put in `files`, relative to its dir); resolves when ready. */
export async function startPrometheus(configYaml: string, listen: { address: string; port: number }, files: Record<string, string> = {}): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-prometheus-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o600 });
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, configYaml);
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${listen.address}:${listen.port}`, '--log.level=warn'],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://${listen.address}:${listen.port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      const killer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with ${child.exitCode}: ${stderr}`);
    }
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready within 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    dir,
    async query(promql) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.json()) as { status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };
      if (body.status !== 'success' || body.data === undefined) throw new Error(`query ${promql}: ${body.error ?? response.status}`);
      if (body.data.resultType !== 'vector') throw new Error(`query ${promql}: a ${body.data.resultType}, not a vector`);
      return body.data.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
    },
    async targets() {
      const body = (await (await fetch(`${url}/api/v1/targets`)).json()) as { data: { activeTargets: { scrapeUrl: string; health: string; lastError: string }[] } };
      return body.data.activeTargets.map((t) => `${t.scrapeUrl}: ${t.health} ${t.lastError}`).join('\n');
    },
    stop,
  };
}

// What promtool said about an exposition.
export interface PromtoolCheck {
  /** 0: clean; 3: lint problems only; 1: the text does not parse. */
  readonly code: number | null;
  /** One line per problem. */
  readonly problems: readonly string[];
}

/** `promtool check metrics` over an exposition text. */
export function promtoolCheckMetrics(text: string): PromtoolCheck {
  const run = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  const problems = `${run.stdout}${run.stderr}`.split('\n').filter((l) => l.trim() !== '');
  return { code: run.status, problems };
}

/** The problems left once node_exporter's own camelCase memory names (which promtool's linter flags in node_exporter too) are set aside. */
export function problemsBesidesNodeExporterNames(check: PromtoolCheck): string[] {
  return check.problems.filter((p) => !/^node_memory_[A-Za-z]+_bytes metric names should be written in 'snake_case' not 'camelCase'$/.test(p));
}

// A throwaway CA-less certificate for one IP address, for HTTPS scrapes.
export interface IpCert {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
}

/** Makes a self-signed certificate for `ip` in `dir` with openssl. */
export function makeIpCert(dir: string, ip: string): IpCert {
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${ip}`, '-addext', `subjectAltName=IP:${ip}`], { stdio: 'ignore' });
  if (!existsSync(certFile)) throw new Error(`openssl could not make a certificate for ${ip}`);
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8') };
}
