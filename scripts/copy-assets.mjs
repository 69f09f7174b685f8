// Copies the probe scripts next to the compiled modules and next to the bundle: they are read at
// run time and streamed to hosts as data.
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const BUNDLE_DIR = 'dist/bundle';
mkdirSync(BUNDLE_DIR, { recursive: true });
const copied = new Set();
// src/probes: the probes and the Windows SSH bootstrap; src/fleet: the PowerShell remoting broker.
for (const dir of ['src/probes', 'src/fleet']) {
  const to = join('dist', dir);
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.sh') && !name.endsWith('.ps1')) continue;
    cpSync(join(dir, name), join(to, name));
    // The bundle's modules share one directory: two scripts of one name would shadow each other.
    if (copied.has(name)) throw new Error(`copy-assets: two scripts named ${name}`);
    copied.add(name);
    cpSync(join(dir, name), join(BUNDLE_DIR, name));
  }
}
