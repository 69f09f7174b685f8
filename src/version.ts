// fleetpoll's version, as `--version` prints it; test/version.test.ts keeps it equal to package.json's.
export const VERSION = '0.1.0';
