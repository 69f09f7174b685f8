#!/usr/bin/python3
"""The approach of the agent-based tool the weekly report replaces: pandas read_csv of the whole log,
then groupby(server, date) mean/max. Run by bench/report.ts with Debian's python3-pandas
(/usr/bin/python3); prints one JSON line with its own wall time, CPU time and peak RSS."""
import json
import resource
import sys
import time

import pandas as pd

start = time.perf_counter()
log = pd.read_csv(sys.argv[1], encoding="utf-8-sig")
log["date"] = log["time"].str.slice(0, 10)
ok = log[log["status"] == "ok"]
daily = ok.groupby(["server", "date"]).agg(
    cpu_avg=("cpu_pct", "mean"),
    cpu_peak=("cpu_pct", "max"),
    mem_pct_avg=("mem_pct", "mean"),
    mem_pct_peak=("mem_pct", "max"),
    mem_total_gb=("mem_total_gb", "mean"),
    mem_used_gb=("mem_used_gb", "mean"),
    mem_available_gb=("mem_available_gb", "mean"),
    swap_used_gb=("swap_used_gb", "mean"),
)
polls = log.groupby(["server", "date"]).size()
usage = resource.getrusage(resource.RUSAGE_SELF)
print(
    json.dumps(
        {
            "wallMs": round((time.perf_counter() - start) * 1000),
            "cpuMs": round((usage.ru_utime + usage.ru_stime) * 1000),
            # Linux reports ru_maxrss in kB.
            "maxRssKb": usage.ru_maxrss,
            "groups": int(len(daily)),
            "polls": int(polls.sum()),
        }
    )
)
