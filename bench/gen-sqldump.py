#!/usr/bin/env python3
"""gen-sqldump.py: a seeded file shaped like mariadb-dump output of a
Dolibarr database, about SIZE MiB, without a database server (bench/s3.sh's
"dump-sized stream"; bench/db.sh makes a real dump from a real server).

  bench/gen-sqldump.py OUT --size-mb 1024 [--seed 1]

Tables llx_societe, llx_facture, llx_facturedet, llx_actioncomm with
multi-row extended INSERTs of ~1 MiB (as mariadb-dump writes them), ids
growing, dates growing with the ids, amounts, references and French text
from bench/dolibarr_gen.py's word list. Compresses about 3-4x with zstd,
like a real dump; no two 1 MiB stretches are alike (ids and amounts differ).
Same seed and size -> same bytes.
"""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dolibarr_gen as dg  # noqa: E402

TABLES = [
    ("llx_societe", "CREATE TABLE `llx_societe` (\n  `rowid` int(11) NOT NULL AUTO_INCREMENT,\n"
     "  `nom` varchar(128) DEFAULT NULL,\n  `datec` datetime DEFAULT NULL,\n  `address` varchar(255) DEFAULT NULL,\n"
     "  `zip` varchar(25) DEFAULT NULL,\n  `town` varchar(50) DEFAULT NULL,\n  `email` varchar(128) DEFAULT NULL,\n"
     "  `note_private` text DEFAULT NULL,\n  PRIMARY KEY (`rowid`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n", 1),
    ("llx_facture", "CREATE TABLE `llx_facture` (\n  `rowid` int(11) NOT NULL AUTO_INCREMENT,\n"
     "  `ref` varchar(30) NOT NULL,\n  `fk_soc` int(11) NOT NULL,\n  `datef` date DEFAULT NULL,\n"
     "  `total_ht` double(24,8) DEFAULT 0.00000000,\n  `total_tva` double(24,8) DEFAULT 0.00000000,\n"
     "  `total_ttc` double(24,8) DEFAULT 0.00000000,\n  `fk_statut` smallint(6) NOT NULL DEFAULT 0,\n"
     "  `note_public` text DEFAULT NULL,\n  PRIMARY KEY (`rowid`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n", 2),
    ("llx_facturedet", "CREATE TABLE `llx_facturedet` (\n  `rowid` int(11) NOT NULL AUTO_INCREMENT,\n"
     "  `fk_facture` int(11) NOT NULL,\n  `description` text DEFAULT NULL,\n  `tva_tx` double(7,4) DEFAULT NULL,\n"
     "  `qty` double DEFAULT NULL,\n  `subprice` double(24,8) DEFAULT NULL,\n  `total_ht` double(24,8) DEFAULT NULL,\n"
     "  PRIMARY KEY (`rowid`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n", 5),
    ("llx_actioncomm", "CREATE TABLE `llx_actioncomm` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
     "  `code` varchar(50) DEFAULT NULL,\n  `datep` datetime DEFAULT NULL,\n  `label` varchar(255) NOT NULL,\n"
     "  `note` mediumtext DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n", 2),
]
TOWNS = ["Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Lille", "Rennes", "Bordeaux", "Grenoble", "Dijon"]


def row(table, rnd, i, n_total, short, long_):
    day = dg.day_of(i / max(1, n_total))
    secs = rnd.randrange(86400)
    if table == "llx_societe":
        name = " ".join(rnd.choices(dg.WORDS, k=2)).title() + " SARL"
        return (name, dg.dt_s(day, secs), "%d rue %s" % (rnd.randint(1, 200), rnd.choice(dg.WORDS)),
                "%05d" % rnd.randint(1000, 95999), rnd.choice(TOWNS),
                "contact%d@%s.example" % (i, rnd.choice(dg.WORDS)), rnd.choice(long_))
    if table == "llx_facture":
        ht = round(rnd.uniform(10, 20000), 2)
        return ("FA%s-%05d" % (dg.date_s(day)[2:7].replace("-", ""), i), rnd.randint(1, 50000),
                dg.date_s(day), ht, round(ht * 0.2, 2), round(ht * 1.2, 2), rnd.choice((1, 2, 2, 2, 3)),
                rnd.choice(short))
    if table == "llx_facturedet":
        qty, pu = rnd.randint(1, 40), round(rnd.uniform(1, 900), 2)
        return (rnd.randint(1, i + 1), rnd.choice(short), 20.0, float(qty), pu, round(qty * pu, 2))
    code, label = rnd.choice(dg.EVENT_LABELS)
    return (code, dg.dt_s(day, secs), label % ("FA%05d" % i) if "%s" in label else label, rnd.choice(long_))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--size-mb", type=int, default=1024)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rnd = random.Random(a.seed)
    short, long_ = dg.make_text_pool(a.seed)
    target = a.size_mb * 1024 * 1024
    weight = sum(t[2] for t in TABLES)
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)\n--\n"
                "-- Host: localhost    Database: dolibarr\n"
                "-- ------------------------------------------------------\n\n"
                "/*!40101 SET NAMES utf8mb4 */;\n/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;\n\n")
        for name, ddl, w in TABLES:
            budget = target * w // weight
            f.write("--\n-- Table structure for table `%s`\n--\n\nDROP TABLE IF EXISTS `%s`;\n%s\n"
                    "LOCK TABLES `%s` WRITE;\n/*!40000 ALTER TABLE `%s` DISABLE KEYS */;\n"
                    % (name, name, ddl, name, name))
            written, i = 0, 0
            est_rows = max(1, budget // 200)
            while written < budget:
                parts, size = [], 0
                while size < (1 << 20) and written + size < budget:
                    i += 1
                    v = dg.sql_values((i,) + row(name, rnd, i, est_rows, short, long_))
                    parts.append(v)
                    size += len(v) + 1
                stmt = "INSERT INTO `%s` VALUES %s;\n" % (name, ",".join(parts))
                f.write(stmt)
                written += len(stmt)
            f.write("/*!40000 ALTER TABLE `%s` ENABLE KEYS */;\nUNLOCK TABLES;\n\n" % name)
        f.write("-- Dump completed\n")


if __name__ == "__main__":
    main()
