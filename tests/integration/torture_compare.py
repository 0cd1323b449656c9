#!/usr/bin/env python3
"""torture_compare.py: the comparison of the data-shape torture suite (torture.sh), python3 only.

  torture_compare.py dump SOCKET DB > FILE   a canonical text of database DB on the server at
                                             SOCKET, through the stock `mariadb` client
  torture_compare.py diff ORACLE RESTORED    exit 0 when equal; else exit 1 and name every
                                             differing object, table, column and row (at most
                                             a few rows per table)

The dump holds SHOW CREATE DATABASE/TABLE/VIEW/SEQUENCE/TRIGGER/PROCEDURE/FUNCTION/EVENT
(the trigger's creation time left out), CHECKSUM TABLE of every base table and sequence (but
of a table with a VIRTUAL column, whose CHECKSUM TABLE changes across a server restart), and
every row of every base table and sequence: each column as HEX() of the value the server
holds, FLOAT/DOUBLE as CAST(... AS DOUBLE) (the full binary value in 17 digits, -0 marked),
DECIMAL as CAST(... AS CHAR), ENUM/SET with their index; invisible and generated columns
included (they are named, not *); every version of a system-versioned table, with its period.
"""
import subprocess
import sys
from collections import Counter


def ident(n):
    return "`" + n.replace("`", "``") + "`"


def lit(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def run(sock, sql):
    p = subprocess.run(["mariadb", "--default-character-set=utf8mb4", "--max-allowed-packet=1G", "-S", sock, "-uroot",
                        "-N", "-B"], input=sql.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        sys.exit("torture_compare: mariadb on %s: %s" % (sock, p.stderr.decode(errors="replace").strip()))
    return p.stdout.decode("utf-8", errors="surrogateescape").split("\n")


def unescape(s):
    """the mariadb client's batch-mode escapes (\\t \\n \\0 \\\\) undone"""
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            out.append({"t": "\t", "n": "\n", "0": "\0", "\\": "\\"}.get(s[i + 1], s[i + 1]))
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def expr(col, dtype):
    c = ident(col)
    if dtype in ("float", "double", "real"):  # -0 told from 0 by the sign ATAN2 gives it
        return "CONCAT(CAST({c} AS DOUBLE), IF({c} = 0 AND ATAN2({c}, -1) < 0, '(-0)', ''))".format(c=c)
    if dtype == "decimal":
        return "CAST(%s AS CHAR)" % c
    if dtype in ("enum", "set"):  # the index too: an invalid ENUM value is '' with index 0
        return "CONCAT(HEX({c}), '/', {c} + 0)".format(c=c)
    return "HEX(%s)" % c


def dump(sock, db):
    d = lit(db)
    meta = run(sock, (
        "SELECT 'T', TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = {d};"
        "SELECT 'C', TABLE_NAME, COLUMN_NAME, DATA_TYPE, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = {d} "
        "  ORDER BY TABLE_NAME, ORDINAL_POSITION;"
        "SELECT 'R', ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = {d};"
        "SELECT 'G', TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = {d};"
        "SELECT 'E', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = {d};").format(d=d))
    tables, cols, objs, virtual = {}, {}, [], set()
    for line in meta:
        f = line.split("\t")
        if f[0] == "T":
            tables[f[1]] = f[2]
        elif f[0] == "C":
            cols.setdefault(f[1], []).append((f[2], f[3], f[4]))
            if f[4].startswith("VIRTUAL"):
                virtual.add(f[1])
        elif f[0] == "R":
            objs.append(("routine", "SHOW CREATE %s %s.%s" % (f[1], ident(db), ident(f[2])), f[2], None))
        elif f[0] == "G":
            objs.append(("trigger", "SHOW CREATE TRIGGER %s.%s" % (ident(db), ident(f[1])), f[1], 6))
        elif f[0] == "E":
            objs.append(("event", "SHOW CREATE EVENT %s.%s" % (ident(db), ident(f[1])), f[1], None))
    q = ["SELECT '@@database';", "SHOW CREATE DATABASE %s;" % ident(db)]
    for t in sorted(tables):
        ty = tables[t]
        full = "%s.%s" % (ident(db), ident(t))
        if ty == "VIEW":
            q += ["SELECT %s;" % lit("@@view\t" + t), "SHOW CREATE VIEW %s;" % full]
            continue
        q += ["SELECT %s;" % lit("@@create\t" + t), "SHOW CREATE TABLE %s;" % full]
        if t in virtual:  # its CHECKSUM TABLE changes with a server restart: the rows below decide
            q += ["SELECT %s;" % lit("@@checksum\t" + t), "SELECT 'x', 'skipped: a VIRTUAL column';"]
        else:
            q += ["SELECT %s;" % lit("@@checksum\t" + t), "CHECKSUM TABLE %s EXTENDED;" % full]
        names = [(n, ty_) for n, ty_, _ in cols.get(t, [])]
        if ty == "SYSTEM VERSIONED":  # every version, with its period (implicit columns named)
            full += " FOR SYSTEM_TIME ALL"
            if sum(1 for _, _, x in cols.get(t, []) if x == "STORED GENERATED, INVISIBLE") < 2:
                names += [("row_start", "timestamp"), ("row_end", "timestamp")]
        q += ["SELECT %s;" % lit("@@rows\t" + t + "\t" + "\t".join(n for n, _ in names)),
              "SELECT %s FROM %s;" % (", ".join(expr(n, ty_) for n, ty_ in names), full)]
    for kind, stmt, name, keep in objs:
        q += ["SELECT %s;" % lit("@@%s\t%s" % (kind, name)), stmt + ";"]
    out, cur = [], None
    for line in run(sock, "\n".join(q)):
        if line.startswith("@@"):
            line = unescape(line)
            kind = line[2:].split("\t")[0]
            out.append(line)
            continue
        if not line:
            continue
        f = line.split("\t")
        if kind == "create":
            line = f[1]
        elif kind == "checksum":
            line = f[1]
        elif kind == "trigger":
            line = "\t".join(f[:6])
        elif kind in ("database", "view"):
            line = "\t".join(f[1:])
        out.append(" " + line)
    return out


def parse(path):
    sec, cur, order = {}, None, []
    for line in open(path, encoding="utf-8", errors="surrogateescape"):
        line = line.rstrip("\n")
        if line.startswith("@@"):
            cur = line[2:]
            sec[cur] = []
            order.append(cur)
        elif cur is not None:
            sec[cur].append(line[1:])
    return sec, order


def diff(a_path, b_path):
    a, order = parse(a_path)
    b, order_b = parse(b_path)
    msgs = []
    for k in order + [k for k in order_b if k not in a]:
        kind, _, rest = k.partition("\t")
        name = rest.split("\t")[0]
        if k not in b:
            msgs.append("%s %s: missing in the restore" % (kind, name))
            continue
        if k not in a:
            msgs.append("%s %s: in the restore, not in the oracle" % (kind, name))
            continue
        if kind != "rows":
            if a[k] != b[k]:
                ta, tb = " | ".join(a[k]), " | ".join(b[k])
                i = next((i for i in range(min(len(ta), len(tb))) if ta[i] != tb[i]), min(len(ta), len(tb)))
                i = max(0, i - 60)
                msgs.append("%s %s differs:\n      oracle:   ...%s\n      restored: ...%s" % (
                    kind, name, ta[i:i + 300], tb[i:i + 300]))
            continue
        cols = rest.split("\t")[1:]
        ca, cb = Counter(a[k]), Counter(b[k])
        only_a, only_b = sorted((ca - cb).elements()), sorted((cb - ca).elements())
        if not only_a and not only_b:
            continue
        msgs.append("rows %s: %d oracle rows missing or different, %d restored rows not in the oracle "
                    "(oracle %d rows, restored %d)" % (name, len(only_a), len(only_b), len(a[k]), len(b[k])))
        by_first = {}
        for r in only_b:
            by_first.setdefault(r.split("\t")[0], []).append(r)
        shown = 0
        for r in only_a:
            if shown >= 4:
                break
            fa = r.split("\t")
            cand = by_first.get(fa[0])
            if cand:
                fb = cand.pop(0).split("\t")
                d = ["%s: oracle %s, restored %s" % (cols[i] if i < len(cols) else i, fa[i][:80], fb[i][:80])
                     for i in range(min(len(fa), len(fb))) if fa[i] != fb[i]]
                msgs.append("   row %s=%s: %s" % (cols[0], fa[0], "; ".join(d)[:700]))
            else:
                msgs.append("   row only in the oracle: %s" % r[:300])
            shown += 1
        for rest_rows in by_first.values():
            for r in rest_rows[:max(0, 4 - shown)]:
                msgs.append("   row only in the restore: %s" % r[:300])
                shown += 1
    for m in msgs:
        print(m)
    return 1 if msgs else 0


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "dump":
        sys.stdout.write("\n".join(dump(sys.argv[2], sys.argv[3])) + "\n")
    elif len(sys.argv) == 4 and sys.argv[1] == "diff":
        sys.exit(diff(sys.argv[2], sys.argv[3]))
    else:
        sys.exit("usage: torture_compare.py dump SOCKET DB | diff ORACLE RESTORED")


if __name__ == "__main__":
    main()
