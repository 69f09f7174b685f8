// The dashboard's static files (compiled client modules, the style sheet, uPlot), served by fleetpoll
// itself: pollers often have no internet, so nothing comes from a CDN. The set is listed once, when the
// routes are registered, from the build output (dist/web, made by scripts/copy-assets.mjs); a request
// can only ever name one of those files, never a path of its own.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the build puts the browser files: dist/web, next to dist/src. */
export const ASSET_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

// One servable file: its bytes and content type.
export interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

/** Every servable file under `dir`, keyed by its path below it with '/' separators (source maps are left out). */
export function loadAssets(dir: string = ASSET_DIR): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  const walk = (at: string): void => {
    let names: string[];
    try {
      names = readdirSync(at);
    } catch {
      return;
    }
    for (const name of names) {
      const file = join(at, name);
      if (statSync(file).isDirectory()) walk(file);
      else {
        const type = TYPES[extname(name)];
        if (type !== undefined) assets.set(relative(dir, file).split(sep).join('/'), { body: readFileSync(file), type });
      }
    }
  };
  walk(dir);
  return assets;
}
