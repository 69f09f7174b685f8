// What hashed known_hosts lines cost a poll: every host looked up against N hashed lines, first with
// nothing known (the HMAC scan of a first poll), then with the names that poll saved (later polls).
// Run with `npm run bench:known-hosts`; env N (hosts = hashed lines, default 2000).
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KnownHosts } from '../src/fleet/known-hosts.js';
import { readKnownHostsNames, writeKnownHostsNames } from '../src/fleet/known-hosts-names.js';

const N = Number(process.env.N ?? 2000);
if (!Number.isInteger(N) || N < 1 || N > 20000) throw new Error(`N must be a whole number from 1 to 20000 (got ${process.env.N})`);

// Any valid ed25519 public key blob will do: only the lookup is measured, not a handshake.
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const BLOB = Buffer.from(KEY.split(' ')[1] ?? '', 'base64');

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function lookUpAll(kh: KnownHosts, addresses: readonly string[]): Promise<number> {
  const start = cpuMs();
  for (const address of addresses) {
    const decision = await kh.verify(address, 22, BLOB);
    if (decision.decision !== 'accept') throw new Error(`${address}: ${decision.decision === 'refuse' ? decision.message : ''}`);
  }
  return cpuMs() - start;
}

const dir = mkdtempSync(join(tmpdir(), 'fleetpoll-bench-known-hosts-'));
try {
  const addresses = Array.from({ length: N }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  const lines = addresses.map((address) => {
    const salt = randomBytes(20);
    return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(address).digest('base64')} ${KEY}`;
  });
  const userFile = join(dir, 'known_hosts');
  writeFileSync(userFile, `${lines.join('\n')}\n`);
  const plainFile = join(dir, 'known_hosts.plain');
  writeFileSync(plainFile, `${addresses.map((a) => `${a} ${KEY}`).join('\n')}\n`);
  const namesFile = join(dir, 'known-hosts-names.json');

  const first = new KnownHosts({ mode: 'strict', userFile, systemFile: null });
  await first.load();
  const scanMs = await lookUpAll(first, addresses);
  await writeKnownHostsNames(namesFile, first.resolvedNames());

  const later = new KnownHosts({ mode: 'strict', userFile, systemFile: null });
  await later.load();
  const verifyStart = cpuMs();
  const verified = later.useResolvedNames(await readKnownHostsNames(namesFile));
  const savedMs = cpuMs() - verifyStart + (await lookUpAll(later, addresses));
  if (verified !== N || later.newlyResolved !== 0) throw new Error(`expected all ${N} lines from the saved names, got ${verified} (+${later.newlyResolved} scanned)`);

  const plain = new KnownHosts({ mode: 'strict', userFile: plainFile, systemFile: null });
  await plain.load();
  const plainMs = await lookUpAll(plain, addresses);

  const row = (label: string, ms: number): string => `${label.padEnd(44)} ${ms.toFixed(0).padStart(8)} ms CPU ${(ms / N).toFixed(3).padStart(8)} ms/host`;
  process.stdout.write(
    `${N} hosts, each looked up against a known_hosts file of ${N} lines (node ${process.version})\n` +
      `${row('hashed, first poll (HMAC scan)', scanMs)}\n` +
      `${row('hashed, later polls (saved names verified)', savedMs)}\n` +
      `${row('plain names (baseline)', plainMs)}\n` +
      `saved names make later polls ${(scanMs / savedMs).toFixed(0)}x cheaper than the scan; ${(savedMs / plainMs).toFixed(1)}x the plain-name baseline\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
