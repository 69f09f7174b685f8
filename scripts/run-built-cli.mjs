// `npm run poll`: runs the built CLI (dist/src/cli.js) in this process, without building first
// (npm ci builds once; `npm run build` after changing the sources). Without a build it says so.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cli = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));
if (existsSync(cli)) {
  // process.argv keeps this script's arguments ("poll" and the user's options): cli.js reads them from index 2.
  await import(pathToFileURL(cli).href);
} else {
  process.stderr.write(`fleetpoll: ${cli} is missing: fleetpoll is not built. Run \`npm run build\` (npm ci builds it too), then try again.\n`);
  // Like any other invalid setup (exit codes: 2 = invalid input or configuration).
  process.exitCode = 2;
}
