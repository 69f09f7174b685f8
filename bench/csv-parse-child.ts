// Reference for bench/report.ts: stream a CSV file through csv-parse and count its records (no aggregation),
// the baseline the issue quotes ("a plain csv-parse stream: about pandas' time in 70 MB").
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: csv-parse-child <file.csv>');
let records = 0;
const parser = createReadStream(file).pipe(parse({ bom: true, relax_column_count: true }));
for await (const record of parser) {
  void record;
  records += 1;
}
process.stdout.write(`${records} records\n`);
