// The command that runs the Windows probe over SSH: a fixed bootstrap that reads the probe from stdin.
import { readFileSync } from 'node:fs';

let encoded: string | null = null;

/** The bootstrap as PowerShell's -EncodedCommand wants it: UTF-16LE, base64, comment lines dropped. */
export function encodedBootstrap(): string {
  if (encoded === null) {
    const text = readFileSync(new URL('./windows-ssh-bootstrap.ps1', import.meta.url), 'utf8')
      .split(/\r?\n/)
      .filter((line) => !line.trimStart().startsWith('#') && line.trim() !== '')
      .join('\n');
    encoded = Buffer.from(text, 'utf16le').toString('base64');
  }
  return encoded;
}

/**
 * The command line for an os=windows host. Only letters, digits, '-', '+', '/', '=' and
 * spaces: it means the same to cmd.exe, PowerShell and sh, whichever runs it. The
 * executable comes from the settings (validated there), never from servers.csv.
 */
export function windowsProbeCommand(executable: string): string {
  return `${executable} -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${encodedBootstrap()}`;
}
