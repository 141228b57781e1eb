#!/usr/bin/env python3
"""Prints the robustness suite's summary table from the result files its executables wrote.

usage: summary.py RESULTS_DIR SUITE...

Each suite writes RESULTS_DIR/<suite>.started when it begins, <suite>.hang when its watchdog
fired, and <suite>.json when it ends (see RobustnessReport.h). A suite that started but left no
result and no hang marker crashed. Exit status 1 if any suite failed, crashed, hung or leaked;
suites that did not run in this ctest invocation are listed as such and do not fail the summary.
"""
import io
import json
import os
import sys


def main():
    # The table goes to stdout and to RESULTS_DIR/summary.txt (ctest only shows the output of a
    # passing test with -V; the file keeps it for the closing note and CI artifacts).
    buffer = io.StringIO()
    real_stdout, sys.stdout = sys.stdout, buffer
    try:
        rc = summarize()
    finally:
        sys.stdout = real_stdout
    print(buffer.getvalue(), end="")
    if len(sys.argv) >= 3:
        with open(os.path.join(sys.argv[1], "summary.txt"), "w") as f:
            f.write(buffer.getvalue())
    return rc


def summarize():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    results, suites = sys.argv[1], sys.argv[2:]
    rows = []
    totals = {"cases": 0, "failed": 0, "crashes": 0, "hangs": 0, "leaks": 0}
    max_rss = None
    fds_after_soak = None
    figures = {}
    for suite in suites:
        base = os.path.join(results, suite)
        if not os.path.exists(base + ".started"):
            rows.append((suite, "not run", "", "", "", "", ""))
            continue
        if os.path.exists(base + ".hang"):
            totals["hangs"] += 1
            rows.append((suite, "HANG", "?", "?", "0", "1", "?"))
            continue
        try:
            with open(base + ".json") as f:
                r = json.load(f)
        except (OSError, ValueError):
            totals["crashes"] += 1
            rows.append((suite, "CRASH", "?", "?", "1", "0", "?"))
            continue
        leaks = r.get("leaks", -1)
        totals["cases"] += r["cases"]
        totals["failed"] += r["failed"]
        totals["leaks"] += max(leaks, 0)
        status = "pass" if r["exit"] == 0 and r["failed"] == 0 and leaks <= 0 else "FAIL"
        rows.append((suite, status, str(r["cases"]), str(r["failed"]), "0", "0",
                     "n/a (no LSan)" if leaks < 0 else str(leaks)))
        for k, v in r.get("figures", {}).items():
            figures[suite.replace("robustness_", "") + "." + k] = v
            if k == "max_rss_growth_kib":
                max_rss = v if max_rss is None else max(max_rss, v)
            if k == "fds_after_soak" or (k == "cycles_fds_after" and fds_after_soak is None):
                fds_after_soak = v

    header = ("suite", "result", "cases", "failed", "crashes", "hangs", "leaks")
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    print("\nRobustness summary")
    print(line)
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print(line)
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |")
    print(line)
    print(f"cases run: {totals['cases']}   failed: {totals['failed']}   crashes: {totals['crashes']}   "
          f"hangs: {totals['hangs']}   leaks: {totals['leaks']}")
    print("max RSS growth: " + ("n/a (soak not run)" if max_rss is None else f"{max_rss} KiB ({max_rss / 1024:.1f} MiB)"))
    print("fds after the soak: " + ("n/a (soak not run)" if fds_after_soak is None else str(fds_after_soak)))
    for k in sorted(figures):
        print(f"  {k} = {figures[k]}")
    bad = totals["failed"] + totals["crashes"] + totals["hangs"] + totals["leaks"]
    bad += sum(1 for row in rows if row[1] == "FAIL")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
