// Copies the probe scripts next to the compiled code: they are streamed to hosts as data.
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const from = 'src/probes';
const to = 'dist/src/probes';
mkdirSync(to, { recursive: true });
for (const name of readdirSync(from)) {
  if (name.endsWith('.sh') || name.endsWith('.ps1')) cpSync(join(from, name), join(to, name));
}
