#!/usr/bin/env python3
"""thread-cpu.py: CPU seconds per thread of some processes over a window.

  bench/thread-cpu.py OUT.tsv PID[:LABEL]...    (runs until SIGTERM/SIGINT)

Samples /proc/PID/task/*/stat every 0.5 s; at the end writes one line per
thread that used CPU in the window: label, tid, thread name (comm), CPU s
(utime + stime), and the process totals. Used by bench/pitr.sh
(BENCH_PROFILE=1) to say where a replay's time goes.
"""
import os
import signal
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def sample(pid):
    out = {}
    try:
        tids = os.listdir("/proc/%s/task" % pid)
    except OSError:
        return out
    for t in tids:
        try:
            with open("/proc/%s/task/%s/stat" % (pid, t)) as f:
                s = f.read()
            with open("/proc/%s/task/%s/comm" % (pid, t)) as f:
                comm = f.read().strip()
        except OSError:
            continue
        fields = s[s.rindex(")") + 2:].split()
        out[t] = (comm, (int(fields[11]) + int(fields[12])) / TICK)
    return out


def main():
    out_path = sys.argv[1]
    procs = []
    for a in sys.argv[2:]:
        pid, _, label = a.partition(":")
        procs.append((pid, label or pid))
    first = {pid: sample(pid) for pid, _ in procs}
    last = dict(first)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    t0 = time.time()
    while not stop:
        time.sleep(0.5)
        for pid, _ in procs:
            s = sample(pid)
            if s:
                last[pid] = {**last[pid], **s}
    wall = time.time() - t0
    with open(out_path, "w") as f:
        f.write("# window %.1f s\n" % wall)
        for pid, label in procs:
            tot = 0.0
            rows = []
            for tid, (comm, cpu) in last[pid].items():
                d = cpu - first[pid].get(tid, (comm, 0.0))[1]
                tot += d
                if d >= 0.05:
                    rows.append((d, tid, comm))
            for d, tid, comm in sorted(rows, reverse=True):
                f.write("%s\t%s\t%s\t%.2f\n" % (label, tid, comm, d))
            f.write("%s\ttotal\t-\t%.2f\n" % (label, tot))


if __name__ == "__main__":
    main()
