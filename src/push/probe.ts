// The probe a push host runs itself: the shipped probe with the `time` record switched on (Linux:
// FP_PUSH=1), or for Windows one PowerShell file holding the probe, the stamp and the Invoke-RestMethod
// that sends it. Only numbers from the settings, the URL and a file path are written into them, each
// quoted for its language.
import type { OsKind } from '../model.js';
import { buildProbeScript, type ProbeParams } from '../probes/scripts.js';

// Where a Windows push script sends to, and where it reads its token.
export interface PushTarget {
  /** https://poller:8443/api/v1/ingest/<name> */
  readonly url: string;
  /** File on the host holding the token (one line). */
  readonly tokenFile: string;
}

/** The probe of a push host: prints protocol v1 with a `time` record; for Windows with `send`, also posts it. */
export function buildPushProbe(os: OsKind, params: ProbeParams, send: PushTarget | null = null): string {
  if (os === 'linux') return `FP_PUSH=1\n${buildProbeScript('linux', params)}`;
  // Library mode: the probe only defines its functions; the footer runs it and stamps the header.
  const footer = [
    '',
    '# fleetpoll push: the probe, stamped with the time its sample was taken (docs/push.md).',
    // Not DateTimeOffset.ToUnixTimeSeconds: .NET 4.6+, and Windows PowerShell 5.1 may run on 4.5.
    "$fpTime = [long][Math]::Floor(([DateTime]::UtcNow - [DateTime]::new(1970, 1, 1, 0, 0, 0, [DateTimeKind]::Utc)).TotalSeconds)",
    '$fpText = Invoke-FpProbe',
    '$fpAt = $fpText.IndexOf("`n") + 1',
    '$fpBody = $fpText.Substring(0, $fpAt) + "time`t" + $fpTime + "`n" + $fpText.Substring($fpAt)',
    ...(send === null
      ? ['$fpBody']
      : [
          `$fpToken = (Get-Content -LiteralPath ${psQuote(send.tokenFile)} -Raw).Trim()`,
          '# Windows PowerShell 5.1 may not offer TLS 1.2 by default.',
          '[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12',
          `Invoke-RestMethod -Method Post -Uri ${psQuote(send.url)} -Headers @{ Authorization = 'Bearer ' + $fpToken } -ContentType 'text/plain; charset=utf-8' -Body ([Text.Encoding]::UTF8.GetBytes($fpBody)) -TimeoutSec 60 | Out-Null`,
        ]),
    '',
  ].join('\n');
  return `$FP_LIBRARY = $true\n${buildProbeScript('windows', params)}${footer}`;
}

/** A PowerShell single-quoted string literal. */
export function psQuote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** A POSIX shell single-quoted word. */
export function shQuote(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}
