// The probe script for each OS, with its tunables prepended as data (never from inventory).
import { readFileSync } from 'node:fs';
import type { OsKind } from '../model.js';

const FILES: Record<OsKind, string> = { linux: 'linux.sh', windows: 'windows.ps1' };

export interface ProbeParams {
  readonly cpuWindowSec: number;
  readonly topProcesses: number;
}

/** Loads the probe for `os` once; the result is the exact bytes streamed to each host. */
export function buildProbeScript(os: OsKind, params: ProbeParams): string {
  const file = FILES[os];
  const body = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8');
  // Numbers only: validated by config, formatted here so nothing else can reach the shell.
  const window = Number(params.cpuWindowSec.toFixed(2));
  const topN = Math.trunc(params.topProcesses);
  // Same tunables in each probe's own assignment syntax; the Windows probe is PowerShell.
  if (os === 'windows') return `$FP_WINDOW = ${window}\n$FP_TOPN = ${topN}\n${body}`;
  return `FP_WINDOW=${window}\nFP_TOPN=${topN}\n${body}`;
}
