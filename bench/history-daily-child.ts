// Part (4) of bench/history.ts, as its own process so that it is timed like pandas is (start-up included): the
// weekly report's per server and day figures that pandas computes from log.csv (bench/report_pandas.py: polls,
// average and peak CPU and memory %, average memory used), read from an up-to-date history store's hourly
// rollups, and each filesystem's average and peak used % per day. Prints the row counts as JSON.
// Usage: node history-daily-child.js <store.sqlite> <from epoch s> <to epoch s>
import { openHistory } from '../src/history/open.js';

const [file, fromText, toText] = process.argv.slice(2);
if (file === undefined || fromText === undefined || toText === undefined) throw new Error('usage: history-daily-child <store.sqlite> <from> <to>');
const DAY = 86_400;
const db = openHistory(file, { readonly: true });
// Averages over an hour are weighted by its ok polls, so a day's average is the average of its polls. One
// statement per day, grouped by host: the rows come in host order from the primary key, so SQLite groups them
// without a sort (grouping a week by host and day in one statement sorted 168,000 rows first: 1.5 x the CPU).
const daily = db.prepare(`SELECT h.name, sum(r.polls), sum(r.ok),
    sum(r.cpu_pct_avg * r.ok) / sum(r.ok), max(r.cpu_pct_max), sum(r.mem_pct_avg * r.ok) / sum(r.ok), max(r.mem_pct_max),
    sum(r.mem_used_kb_avg * r.ok) / sum(r.ok), max(r.mem_used_kb_max), sum(r.swap_pct_avg * r.ok) / sum(r.ok)
  FROM hosts h CROSS JOIN hourly r WHERE r.host_id = h.id AND r.hour >= ? AND r.hour < ? GROUP BY h.id`).raw();
const dailyDisks = db.prepare(`SELECT h.name, d.mount, avg(d.used_pct_avg), max(d.used_pct_max)
  FROM hosts h CROSS JOIN hourly_disks d WHERE d.host_id = h.id AND d.hour >= ? AND d.hour < ? GROUP BY h.id, d.mount`).raw();
let hostDays = 0;
let diskDays = 0;
for (let day = Number(fromText); day < Number(toText); day += DAY) {
  hostDays += daily.all(day, day + DAY).length;
  diskDays += dailyDisks.all(day, day + DAY).length;
}
db.close();
process.stdout.write(`${JSON.stringify({ hostDays, diskDays })}\n`);
