// Copies the probe scripts next to the compiled modules: they are read at run time and streamed
// to hosts as data.
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

// src/probes: the probes and the Windows SSH bootstrap; src/fleet: the PowerShell remoting broker.
for (const dir of ['src/probes', 'src/fleet']) {
  const to = join('dist', dir);
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.sh') || name.endsWith('.ps1')) cpSync(join(dir, name), join(to, name));
  }
}
