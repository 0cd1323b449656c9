#!/usr/bin/env python3
"""gen-dolibarr-db.py: a seeded Dolibarr-shaped database of about SIZE MiB of
mariadb-dump output, for bench/db.sh.

  BENCH_DB_SOCKET=/path/sock bench/gen-dolibarr-db.py [--db bench] [--size-mb 1024]
                  [--seed 1] [--jobs 2] [--tmp DIR] [--replace]

Creates database DB (utf8mb4_unicode_ci), loads the real Dolibarr 23 schema
and demo rows from /work/shared/fixtures/dolibarr (or $BENCH_FIXTURE), then
bulk-fills the business tables with LOAD DATA LOCAL INFILE (binlog off for
these sessions): thirdparties, contacts, products, proposals, orders,
invoices and their lines, payments, bank lines, agenda events, ECM file
records. Rows grow with time (higher id = later date), as in a real
instance, which erp-day.py relies on. Same seed and size -> same rows.

The size is calibrated on a sample of each table's generated rows (their
length as SQL literals); the resulting dump lands within ~10 % of SIZE.
"""
import argparse
import multiprocessing
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dolibarr_gen as dg  # noqa: E402

FIXTURE = os.environ.get("BENCH_FIXTURE",
                         "/work/shared/fixtures/dolibarr/dolibarr_23.0.0-beta_demo.sql")
CHUNK_ROWS = 100000

G = {}  # filled before the pool forks: ctx, gens, db, tmp


def load_chunk(job):
    table, start, stop = job
    ctx, gen, db, tmp = G["ctx"], G["gens"][table], G["db"], G["tmp"]
    path = os.path.join(tmp, "%s.%d.tsv" % (table, start))
    with open(path, "w", encoding="utf-8") as f:
        rows = dg.gen_rows(ctx, gen, start, stop)
        f.write("".join(dg.tsv_line(r) for r in rows))
    cols = ",".join("`%s`" % n for n in gen.names)
    sql = ("SET SESSION sql_log_bin=0, foreign_key_checks=0, unique_checks=0;\n"
           "LOAD DATA LOCAL INFILE '%s' INTO TABLE %s CHARACTER SET utf8mb4 (%s);\n"
           % (path, table, cols))
    try:
        dg.run_sql(db, sql)
    finally:
        os.unlink(path)
    return stop - start


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default="bench")
    p.add_argument("--size-mb", type=int, default=1024)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--tmp", default=os.environ.get("TMPDIR", "/var/tmp"))
    p.add_argument("--replace", action="store_true", help="drop DB first if it exists")
    a = p.parse_args()
    t0 = time.time()
    if not os.path.exists(FIXTURE):
        sys.exit("gen-dolibarr-db: fixture %s not found (set BENCH_FIXTURE)" % FIXTURE)
    exists = dg.query(None, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name='%s'" % a.db)[0][0]
    if exists != "0":
        if not a.replace:
            sys.exit("gen-dolibarr-db: database %s exists (use --replace)" % a.db)
        dg.run_sql(None, "DROP DATABASE `%s`;" % a.db)
    dg.run_sql(None, "CREATE DATABASE `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;" % a.db)
    with open(FIXTURE, "rb") as f:
        subprocess.run(dg.client_args(a.db) + ["--init-command=SET SESSION sql_log_bin=0"],
                       stdin=f, check=True)
    print("gen-dolibarr-db: fixture loaded (%.1f s)" % (time.time() - t0), file=sys.stderr)

    base = dg.base_ids(a.db)
    probe = {t: 1000 for t in dg.TABLES}
    ctx = dg.Ctx(a.seed, base, probe)
    gens = {t: dg.Gen(ctx, a.db, t) for t in dg.TABLES}
    # calibrate: average literal length per row, per table
    avg = {}
    for t in dg.TABLES:
        rows = dg.gen_rows(ctx, gens[t], 0, 400)
        # x1.2: mariadb-dump prints DOUBLE(24,8) with all 8 decimals, 20.0 as 20.0000...
        avg[t] = 1.2 * sum(len(dg.sql_values(r)) + 2 for r in rows) / len(rows)
    unit_counts = dg.counts_for_units(1000)
    per_unit = sum(unit_counts[t] * avg[t] for t in dg.TABLES) / 1000
    target = a.size_mb * 1024 * 1024 - os.path.getsize(FIXTURE)
    units = max(10, int(target / per_unit))
    counts = dg.counts_for_units(units)
    ctx = dg.Ctx(a.seed, base, counts)
    for g in gens.values():
        g.ctx = ctx
    G.update(ctx=ctx, gens=gens, db=a.db, tmp=a.tmp)
    os.makedirs(a.tmp, exist_ok=True)
    jobs = []
    for t in dg.TABLES:
        for s in range(0, counts[t], CHUNK_ROWS):
            jobs.append((t, s, min(s + CHUNK_ROWS, counts[t])))
    # biggest first keeps both workers busy to the end
    jobs.sort(key=lambda j: -(j[2] - j[1]) * avg[j[0]])
    total = sum(counts.values())
    print("gen-dolibarr-db: %d units, %d rows in %d chunks, est. %.0f MiB of dump"
          % (units, total, len(jobs), (sum(counts[t] * avg[t] for t in dg.TABLES)) / 1048576),
          file=sys.stderr)
    done = 0
    with multiprocessing.get_context("fork").Pool(a.jobs) as pool:
        for n in pool.imap_unordered(load_chunk, jobs):
            done += n
            print("\rgen-dolibarr-db: %d/%d rows (%.0f s)" % (done, total, time.time() - t0),
                  end="", file=sys.stderr)
    print(file=sys.stderr)
    with open(os.path.join(a.tmp, "gen-dolibarr-db.counts"), "w") as f:
        for t in dg.TABLES:
            f.write("%s\t%d\t%d\n" % (t, base[t], counts[t]))
    print("gen-dolibarr-db: %s: %s rows generated in %.1f s (seed %d)"
          % (a.db, total, time.time() - t0, a.seed))


if __name__ == "__main__":
    main()
