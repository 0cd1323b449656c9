#!/usr/bin/env python3
"""erp-day.py: one realistic ERP day on a database made by gen-dolibarr-db.py.

  BENCH_DB_SOCKET=/path/sock bench/erp-day.py [--db bench] [--seed 1] [--day 1]
                  [--percent 1.0] [--dry-run]

Touches about PERCENT % of the rows of each business table (the 14 tables
gen-dolibarr-db.py fills), through the normal SQL path (binlog on, foreign
keys checked), in small transactions like an application would:
  - 40 % of the touched rows are new rows appended (new thirdparties,
    documents with their lines, payments, events, ECM records),
  - 50 % are updates: 80 % of them on the newest 10 % of the rows (recent
    documents get validated, paid, re-edited), 20 % spread uniformly over
    the older rows (a customer's phone number, an old invoice's note),
  - 10 % are deletes (draft lines, agenda events, contacts, ECM records).
Statements are interleaved in a seeded random order. Same database state +
same seed + same day -> the same statements.
"""
import argparse
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dolibarr_gen as dg  # noqa: E402

LINE_FK = {"llx_facturedet": "fk_facture", "llx_commandedet": "fk_commande",
           "llx_propaldet": "fk_propal"}
DELETABLE = {"llx_facturedet", "llx_propaldet", "llx_commandedet", "llx_actioncomm",
             "llx_socpeople", "llx_ecm_files"}


def upd_sets(t, rnd, ts, ctx):
    """SET clause of one realistic update of table t."""
    q = dg.sql_literal
    if t == "llx_societe":
        return "phone=%s, email=%s, tms=%s" % (q("0%d %02d %02d %02d %02d" % (rnd.randint(1, 5), *(rnd.randint(0, 99) for _ in range(4)))),
                                               q("compta%d@%s.example.fr" % (rnd.randrange(10 ** 5), rnd.choice(dg.LAST).lower())), q(ts))
    if t == "llx_socpeople":
        return "phone_mobile=%s, poste=%s, tms=%s" % (q("06 %02d %02d %02d %02d" % tuple(rnd.randint(0, 99) for _ in range(4))),
                                                      q(rnd.choice(("Gerant", "Comptable", "Directeur", "Acheteur"))), q(ts))
    if t == "llx_product":
        p = round(rnd.uniform(1, 2500), 2)
        return "price=%r, price_ttc=%r, stock=%r, tms=%s" % (p, round(p * 1.2, 2), float(rnd.randint(0, 500)), q(ts))
    if t == "llx_facture":
        return ("fk_statut=2, paye=1, date_closing=%s, email_sent_counter=email_sent_counter+1, "
                "note_private=%s, tms=%s" % (q(ts), q(rnd.choice(ctx.short)), q(ts)))
    if t in ("llx_commande", "llx_propal"):
        extra = "facture=1, date_cloture=%s" % q(ts) if t == "llx_commande" else "date_signature=%s, date_cloture=%s" % (q(ts), q(ts))
        return "fk_statut=%d, %s, tms=%s" % (rnd.choice((2, 3)), extra, q(ts))
    if t in ("llx_facturedet", "llx_commandedet", "llx_propaldet"):
        qty = float(rnd.choice((1, 2, 3, 5, 10, 20)))
        pu = round(rnd.uniform(0.5, 1500), 2)
        ht = round(qty * pu, 2)
        return ("qty=%r, subprice=%r, total_ht=%r, total_tva=%r, total_ttc=%r, description=%s"
                % (qty, pu, ht, round(ht * 0.2, 2), round(ht * 1.2, 2), q(rnd.choice(ctx.short))))
    if t == "llx_paiement":
        return "statut=1, note=%s, tms=%s" % (q(rnd.choice(ctx.short)), q(ts))
    if t == "llx_paiement_facture":
        return "amount=%r" % round(rnd.uniform(20, 24000), 2)
    if t == "llx_bank":
        return "rappro=1, num_releve=%s, tms=%s" % (q("R%04d" % rnd.randrange(10000)), q(ts))
    if t == "llx_actioncomm":
        return "percent=100, note=%s, tms=%s" % (q(rnd.choice(ctx.long)), q(ts))
    if t == "llx_ecm_files":
        return "label=%s, position=%d, tms=%s" % (q("%032x" % rnd.getrandbits(128)), rnd.randint(1, 5), q(ts))
    raise KeyError(t)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default="bench")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--day", type=int, default=1, help="day number after the generated period")
    p.add_argument("--percent", type=float, default=1.0)
    p.add_argument("--dry-run", action="store_true", help="print the SQL instead of running it")
    a = p.parse_args()
    t0 = time.time()
    rnd = random.Random("erp-day/%d/%d" % (a.seed, a.day))

    stats = {t: dg.query(a.db, "SELECT COALESCE(MIN(%s),0), COALESCE(MAX(%s),0), COUNT(*) FROM %s"
                         % (dg.PK.get(t, "rowid"), dg.PK.get(t, "rowid"), t))[0] for t in dg.TABLES}
    lo = {t: int(v[0]) for t, v in stats.items()}
    hi = {t: int(v[1]) for t, v in stats.items()}
    nrows = {t: int(v[2]) for t, v in stats.items()}
    if sum(nrows.values()) == 0:
        sys.exit("erp-day: %s has no rows in the business tables" % a.db)
    # ctx.pick() chooses among all existing rows of a table
    ctx = dg.Ctx(a.seed, dict(lo), {t: max(hi[t] - lo[t] + 1, 1) for t in dg.TABLES})
    gens = {t: dg.Gen(ctx, a.db, t) for t in dg.TABLES}
    day = dg.EPOCH_DAY0 + dg.SPAN_DAYS + a.day

    # -- new rows: parents first, lines point at the new parents -------------
    n_new = {t: max(1, int(nrows[t] * a.percent / 100 * 0.4)) for t in dg.TABLES if t not in dg.LINES}
    for t, (parent, per) in dg.LINES.items():
        n_new[t] = n_new[parent] * per
    inserts = []  # (sql) in dependency order
    for t in dg.TABLES:
        pk = dg.PK.get(t, "rowid")
        cols = ",".join("`%s`" % c for c in gens[t].names)
        batch = []
        for k in range(n_new[t]):
            rid = hi[t] + 1 + k
            secs = 8 * 3600 + int(k * 10 * 3600 / n_new[t])
            vals = dg.ROWFN[t](ctx, rnd, rid, k, day, secs)
            if t in LINE_FK:  # the new lines belong to the new documents
                parent, per = dg.LINES[t]
                vals[LINE_FK[t]] = hi[parent] + 1 + k // per
            if t == "llx_paiement":
                vals["fk_bank"] = hi["llx_bank"] + 1 + k
            if t == "llx_paiement_facture":
                vals["fk_paiement"] = hi["llx_paiement"] + 1 + k
                vals["fk_facture"] = ctx.pick(rnd, "llx_facture", 0.1)
            vals[pk] = rid
            batch.append(dg.sql_values(gens[t].row(rnd, vals)))
            if len(batch) == 20 or k == n_new[t] - 1:
                inserts.append("INSERT INTO %s (%s) VALUES %s;" % (t, cols, ",".join(batch)))
                batch = []

    # -- updates and deletes ------------------------------------------------
    others = []
    n_upd = n_del = 0
    total_rows = sum(nrows.values())
    del_rows = max(sum(nrows[t] for t in DELETABLE), 1)
    for t in dg.TABLES:
        pk = dg.PK.get(t, "rowid")
        n = nrows[t]
        span = hi[t] - lo[t] + 1
        newest = max(int(span * 0.1), 1)
        for _ in range(max(1, int(n * a.percent / 100 * 0.5))):
            if rnd.random() < 0.8:
                rid = hi[t] - rnd.randrange(newest)
            else:
                rid = lo[t] + rnd.randrange(span)
            ts = dg.dt_s(day, rnd.randrange(8 * 3600, 19 * 3600))
            others.append("UPDATE %s SET %s WHERE %s=%d;" % (t, upd_sets(t, rnd, ts, ctx), pk, rid))
            n_upd += 1
        if t in DELETABLE:
            # 10 % of the day's touched rows, spread over the deletable tables by size
            for _ in range(max(1, int(total_rows * a.percent / 100 * 0.1 * n / del_rows))):
                rid = hi[t] - rnd.randrange(newest) if rnd.random() < 0.8 else lo[t] + rnd.randrange(span)
                others.append("DELETE FROM %s WHERE %s=%d;" % (t, pk, rid))
                n_del += 1
    rnd.shuffle(others)
    # interleave: inserts keep their order, the rest is spread between them
    stream = []
    ii = 0
    for k, s in enumerate(others):
        while ii < len(inserts) and rnd.random() < len(inserts) / max(len(others), 1):
            stream.append(inserts[ii])
            ii += 1
        stream.append(s)
    stream.extend(inserts[ii:])
    out = ["SET SESSION foreign_key_checks=1;"]
    for k in range(0, len(stream), 10):
        out.append("BEGIN;")
        out.extend(stream[k:k + 10])
        out.append("COMMIT;")
    sql = "\n".join(out) + "\n"
    total = sum(nrows.values())
    new_rows = sum(n_new.values())
    summary = ("erp-day: %s day %d seed %d: %d new rows, %d updates, %d deletes on %d rows (%.2f %%), "
               "%d statements" % (a.db, a.day, a.seed, new_rows, n_upd, n_del, total,
                                  100.0 * (new_rows + n_upd + n_del) / total, len(stream)))
    if a.dry_run:
        sys.stdout.write(sql)
        print(summary, file=sys.stderr)
        return
    subprocess.run(dg.client_args(a.db), input=sql.encode(), check=True)
    print(summary + " in %.1f s" % (time.time() - t0))


if __name__ == "__main__":
    main()
