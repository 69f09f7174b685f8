// Child process for test/store/snapshot.test.ts: reads a CSV in a tight loop, in its own process so
// it truly runs while the parent replaces the file, and reports every read that was not a whole snapshot.
// Usage: node snapshot-reader.js <file> <expected data rows> <stop file>
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

const [file, expectedText, stopFile] = process.argv.slice(2);
// `node --test dist/test/` runs every file under test/, helpers included: without arguments, do nothing.
if (file === undefined || expectedText === undefined || stopFile === undefined) process.exit(0);
const expectedRows = Number(expectedText);
const problems: string[] = [];
const versions = new Set<string>();
let reads = 0;

process.stdout.write('ready\n');
while (!existsSync(stopFile)) {
  reads += 1;
  try {
    const records = parse(readFileSync(file), { bom: true }) as string[][];
    const rows = records.slice(1);
    if (rows.length !== expectedRows) throw new Error(`${rows.length} rows, expected ${expectedRows}`);
    const version = rows[0]?.[0] ?? '';
    if (rows.some((row) => row[0] !== version)) throw new Error('rows of different snapshots in one read');
    versions.add(version);
  } catch (error) {
    if (problems.length < 5) problems.push(`read ${reads}: ${(error as Error).message}`);
  }
}
process.stdout.write(`${JSON.stringify({ reads, versions: versions.size, problems })}\n`);
