// Copies the probe scripts next to the compiled modules: they are read at run time and streamed
// to hosts as data. Builds the dashboard's browser files into dist/web: the client modules (their
// own tsconfig: DOM types, ES modules for the browser), the style sheet and uPlot, all served by
// fleetpoll itself (src/web/assets.ts), never from a CDN.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// src/probes: the probes and the Windows SSH bootstrap; src/fleet: the PowerShell remoting broker.
for (const dir of ['src/probes', 'src/fleet']) {
  const to = join('dist', dir);
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.sh') || name.endsWith('.ps1')) cpSync(join(dir, name), join(to, name));
  }
}

const require = createRequire(import.meta.url);
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'src/web/client/tsconfig.json'], { stdio: 'inherit' });
mkdirSync('dist/web/uplot', { recursive: true });
cpSync('src/web/static', 'dist/web', { recursive: true });
const uplot = join(dirname(require.resolve('uplot/package.json')), 'dist');
for (const name of ['uPlot.iife.min.js', 'uPlot.min.css']) cpSync(join(uplot, name), join('dist/web/uplot', name));
