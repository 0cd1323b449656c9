#!/usr/bin/env python3
"""pitr-workload.py: many small ERP transactions on a database made by
gen-dolibarr-db.py, as SQL text for the `mariadb` client (bench/pitr.sh).

  BENCH_DB_SOCKET=/path/sock bench/pitr-workload.py --transactions N [--db bench]
                  [--seed 1] [--streams K] --out PREFIX

Writes PREFIX.0.sql .. PREFIX.(K-1).sql: K independent streams of BEGIN ..
COMMIT blocks, N transactions in all, meant to be fed to K clients at once.
Streams never touch the same rows (ids are split by stream: new rows use
ids above hi congruent to the stream number modulo K, updates and deletes pick ids congruent to the
stream modulo K), so concurrent clients do not deadlock on each other.
The mix, per transaction (every one several statements, row-based binlog):
  30 % new invoice: llx_facture row + 2-5 llx_facturedet lines, thirdparty touched
  10 % new order: llx_commande row + 2-4 llx_commandedet lines
  15 % payment: llx_bank, llx_paiement, llx_paiement_facture rows, the invoice paid
  30 % edit: a recent invoice re-edited (80 % among the newest 10 %), two of
       its lines changed, a product's price and stock
  10 % agenda: an llx_actioncomm event, an ECM record, a contact touched
   5 % delete: an invoice line, an agenda event and an ECM record removed,
       the invoice's note updated
Same database state + seed + N + K -> the same SQL.
"""
import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dolibarr_gen as dg  # noqa: E402

USED = ("llx_societe", "llx_socpeople", "llx_product", "llx_commande", "llx_commandedet",
        "llx_facture", "llx_facturedet", "llx_paiement", "llx_paiement_facture", "llx_bank",
        "llx_actioncomm", "llx_ecm_files")


class Stream:
    def __init__(self, k, nstreams, lo, hi):
        self.k, self.n = k, nstreams
        self.lo, self.hi = lo, dict(hi)
        # first new id of the stream: the smallest id above hi congruent to k
        self.next = {t: hi[t] + 1 + (k - hi[t] - 1) % nstreams for t in USED}

    def new_id(self, t):
        rid = self.next[t]
        self.next[t] += self.n
        self.hi[t] = rid
        return rid

    def pick(self, rnd, t, recent=0.8):
        """An id of this stream's residue class: recent (newest 10 %) or uniform."""
        lo, hi = self.lo[t], self.hi[t]
        span = hi - lo + 1
        if rnd.random() < recent:
            rid = hi - rnd.randrange(max(span // 10, 1))
        else:
            rid = lo + rnd.randrange(span)
        rid -= (rid - self.k) % self.n
        return rid if rid >= lo else rid + self.n


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default="bench")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--transactions", type=int, required=True)
    p.add_argument("--streams", type=int, default=1)
    p.add_argument("--out", required=True, help="output prefix: PREFIX.K.sql")
    a = p.parse_args()
    t0 = time.time()
    q = dg.sql_literal
    stats = {t: dg.query(a.db, "SELECT COALESCE(MIN(%s),0), COALESCE(MAX(%s),0) FROM %s"
                         % (dg.PK.get(t, "rowid"), dg.PK.get(t, "rowid"), t))[0] for t in USED}
    lo = {t: int(v[0]) for t, v in stats.items()}
    hi = {t: int(v[1]) for t, v in stats.items()}
    ctx = dg.Ctx(a.seed, dict(lo), {t: max(hi[t] - lo[t] + 1, 1) for t in dg.TABLES if t in lo})
    for t in dg.TABLES:
        ctx.base.setdefault(t, 1)
        ctx.count.setdefault(t, 1)
    gens = {t: dg.Gen(ctx, a.db, t) for t in USED}
    cols = {t: ",".join("`%s`" % c for c in gens[t].names) for t in USED}
    day = dg.EPOCH_DAY0 + dg.SPAN_DAYS + 1
    counts = {}

    def ins(rnd, t, rows):
        return "INSERT INTO %s (%s) VALUES %s;" % (t, cols[t], ",".join(dg.sql_values(gens[t].row(rnd, v)) for v in rows))

    for k in range(a.streams):
        rnd = random.Random("pitr-workload/%d/%d/%d" % (a.seed, a.streams, k))
        s = Stream(k, a.streams, lo, hi)
        n = a.transactions // a.streams + (1 if k < a.transactions % a.streams else 0)
        with open("%s.%d.sql" % (a.out, k), "w") as f:
            f.write("SET SESSION foreign_key_checks=1;\n")
            for i in range(n):
                secs = 8 * 3600 + int(i * 10 * 3600 / max(n, 1))
                ts = q(dg.dt_s(day, secs))
                x = rnd.random()
                out = ["BEGIN;"]
                if x < 0.30:
                    kind = "invoice"
                    fid = s.new_id("llx_facture")
                    v = dg.ROWFN["llx_facture"](ctx, rnd, fid, i, day, secs)
                    v["fk_soc"] = s.pick(rnd, "llx_societe", 0.3)
                    v["fk_statut"], v["paye"], v["date_closing"] = 0, 0, None
                    out.append(ins(rnd, "llx_facture", [v]))
                    lines = []
                    for r in range(rnd.randint(2, 5)):
                        lid = s.new_id("llx_facturedet")
                        lv = dg.ROWFN["llx_facturedet"](ctx, rnd, lid, r, day, secs)
                        lv["fk_facture"], lv["rang"] = fid, r + 1
                        lines.append(lv)
                    out.append(ins(rnd, "llx_facturedet", lines))
                    out.append("UPDATE llx_societe SET tms=%s WHERE rowid=%d;" % (ts, v["fk_soc"]))
                elif x < 0.40:
                    kind = "order"
                    cid = s.new_id("llx_commande")
                    v = dg.ROWFN["llx_commande"](ctx, rnd, cid, i, day, secs)
                    v["fk_soc"] = s.pick(rnd, "llx_societe", 0.3)
                    out.append(ins(rnd, "llx_commande", [v]))
                    lines = []
                    for r in range(rnd.randint(2, 4)):
                        lid = s.new_id("llx_commandedet")
                        lv = dg.ROWFN["llx_commandedet"](ctx, rnd, lid, r, day, secs)
                        lv["fk_commande"], lv["rang"] = cid, r + 1
                        lines.append(lv)
                    out.append(ins(rnd, "llx_commandedet", lines))
                elif x < 0.55:
                    kind = "payment"
                    bid, pid, pfid = s.new_id("llx_bank"), s.new_id("llx_paiement"), s.new_id("llx_paiement_facture")
                    fid = s.pick(rnd, "llx_facture")
                    bv = dg.ROWFN["llx_bank"](ctx, rnd, bid, i, day, secs)
                    pv = dg.ROWFN["llx_paiement"](ctx, rnd, pid, i, day, secs)
                    pv["fk_bank"], pv["amount"] = bid, bv["amount"]
                    pv["multicurrency_amount"] = bv["amount"]
                    out.append(ins(rnd, "llx_bank", [bv]))
                    out.append(ins(rnd, "llx_paiement", [pv]))
                    out.append(ins(rnd, "llx_paiement_facture", [{"rowid": pfid, "fk_paiement": pid,
                                                                  "fk_facture": fid, "amount": bv["amount"]}]))
                    out.append("UPDATE llx_facture SET fk_statut=2, paye=1, date_closing=%s, tms=%s WHERE rowid=%d;"
                               % (ts, ts, fid))
                elif x < 0.85:
                    kind = "edit"
                    fid = s.pick(rnd, "llx_facture")
                    ht = round(rnd.uniform(20, 20000), 2)
                    out.append("UPDATE llx_facture SET total_ht=%r, total_tva=%r, total_ttc=%r, note_private=%s, "
                               "tms=%s WHERE rowid=%d;" % (ht, round(ht * 0.2, 2), round(ht * 1.2, 2),
                                                            q(rnd.choice(ctx.short)), ts, fid))
                    for _ in range(2):
                        qty = float(rnd.choice((1, 2, 3, 5, 10, 20)))
                        pu = round(rnd.uniform(0.5, 1500), 2)
                        lht = round(qty * pu, 2)
                        out.append("UPDATE llx_facturedet SET qty=%r, subprice=%r, total_ht=%r, total_tva=%r, "
                                   "total_ttc=%r WHERE rowid=%d;" % (qty, pu, lht, round(lht * 0.2, 2),
                                                                      round(lht * 1.2, 2), s.pick(rnd, "llx_facturedet")))
                    pp = round(rnd.uniform(1, 2500), 2)
                    out.append("UPDATE llx_product SET price=%r, price_ttc=%r, stock=stock-%d, tms=%s WHERE rowid=%d;"
                               % (pp, round(pp * 1.2, 2), rnd.randint(1, 5), ts, s.pick(rnd, "llx_product", 0.2)))
                elif x < 0.95:
                    kind = "agenda"
                    eid, mid = s.new_id("llx_actioncomm"), s.new_id("llx_ecm_files")
                    out.append(ins(rnd, "llx_actioncomm", [dg.ROWFN["llx_actioncomm"](ctx, rnd, eid, i, day, secs)]))
                    out.append(ins(rnd, "llx_ecm_files", [dg.ROWFN["llx_ecm_files"](ctx, rnd, mid, i, day, secs)]))
                    out.append("UPDATE llx_socpeople SET phone_mobile=%s, tms=%s WHERE rowid=%d;"
                               % (q("06 %02d %02d %02d %02d" % tuple(rnd.randint(0, 99) for _ in range(4))), ts,
                                  s.pick(rnd, "llx_socpeople", 0.3)))
                else:
                    kind = "delete"
                    out.append("DELETE FROM llx_facturedet WHERE rowid=%d;" % s.pick(rnd, "llx_facturedet"))
                    out.append("DELETE FROM llx_actioncomm WHERE id=%d;" % s.pick(rnd, "llx_actioncomm"))
                    out.append("DELETE FROM llx_ecm_files WHERE rowid=%d;" % s.pick(rnd, "llx_ecm_files"))
                    out.append("UPDATE llx_facture SET note_public=%s, tms=%s WHERE rowid=%d;"
                               % (q(rnd.choice(ctx.short)), ts, s.pick(rnd, "llx_facture")))
                counts[kind] = counts.get(kind, 0) + 1
                out.append("COMMIT;\n")
                f.write("\n".join(out))
    print("pitr-workload: %d transactions in %d streams (%s) written in %.1f s"
          % (a.transactions, a.streams, ", ".join("%s %d" % kv for kv in sorted(counts.items())),
             time.time() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
