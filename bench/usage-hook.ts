// Preloaded with --import into each measured child: at exit it records that process's own
// CPU time and peak RSS, so the numbers include Node start-up and module loading but
// nothing of the parent, sshd or the probes.
import { writeFileSync } from 'node:fs';

/** What a measured child reports about itself (written as JSON to $BENCH_USAGE_FILE). */
export interface ChildUsage {
  readonly cpuUserUs: number;
  readonly cpuSystemUs: number;
  readonly maxRssKb: number;
  readonly uptimeMs: number;
}

const target = process.env.BENCH_USAGE_FILE;
if (target !== undefined && target !== '') {
  process.on('exit', () => {
    const cpu = process.cpuUsage();
    const usage: ChildUsage = {
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      // Linux reports ru_maxrss in kB; Node passes it through.
      maxRssKb: process.resourceUsage().maxRSS,
      uptimeMs: process.uptime() * 1000,
    };
    writeFileSync(target, JSON.stringify(usage));
  });
}
