// Injected by scripts/bundle.mjs into the CommonJS bundle, where import.meta does not exist:
// the bundle's own URL, next to which the probe scripts are copied.
export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;
