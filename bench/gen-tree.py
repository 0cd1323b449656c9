#!/usr/bin/env python3
"""gen-tree.py: a seeded, documents-like tree (a Dolibarr DOL_DATA_ROOT) for
the file benchmarks.

  bench/gen-tree.py generate DIR [--size-mb 1024] [--seed 1]
  bench/gen-tree.py mutate   DIR [--seed 1]

generate: about SIZE MiB (stops at the first file past it) of which ~90 % of
the bytes are incompressible PDF/JPEG-like files (random bytes between
realistic headers and trailers; sizes log-normal, clamped to 20 KiB..8 MiB)
and ~10 % compressible text (CSV, HTML mails, flat ODT XML, logs). The layout
follows Dolibarr: facture/FA2401-0001/FA2401-0001.pdf, commande/CO..., propale/PR...,
produit/<ref>/ (photo + thumbs/), societe/<id>/, ecm/<folder>/, doctemplates/.
Same seed and size -> byte-identical tree, including mtimes.

mutate: changes 10 existing files (5 regenerated whole with the same size,
5 with a 64 KiB region rewritten and 16 KiB appended) and adds 20 new files
(new invoices with their PDF, one with a scan), deterministically from the
seed. Refuses to run twice on the same tree.

Python standard library only; random.Random.randbytes gives ~350 MB/s here.
"""
import argparse
import math
import os
import random
import sys

KIB = 1024
MIB = 1024 * 1024
MIN_FILE = 20 * KIB
MAX_FILE = 8 * MIB
BASE_MTIME = 1735732800  # 2025-01-01 12:00:00 UTC
MUTATE_MTIME = BASE_MTIME + 400 * 86400
MARK = ".tidemark-bench-mutated"  # kept outside the tree (next to it)

WORDS = ("facture commande client fournisseur produit service livraison paiement "
         "acompte remise total montant taux tva ht ttc reglement virement cheque "
         "echeance relance devis proposition contrat intervention projet tache "
         "stock entrepot expedition reception article quantite prix unitaire "
         "societe contact adresse rue avenue boulevard ville code postal pays "
         "france telephone email site web siret siren naf capital responsable "
         "commercial comptable banque iban bic compte analytique exercice bilan "
         "the invoice order customer supplier product delivery payment amount "
         "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod "
         "tempor incididunt ut labore et dolore magna aliqua").split()
CITIES = ("Paris Lyon Marseille Toulouse Nantes Lille Rennes Bordeaux Grenoble "
          "Dijon Angers Brest Nancy Metz Tours Caen Rouen Reims Nice Limoges").split()
ECM_DIRS = ("Comptabilite", "Juridique", "RH/Contrats", "RH/Bulletins", "Qualite",
            "Marketing/Catalogues", "Achats", "Direction/PV AG", "Banque/Releves")


def lognormal_size(rnd, median, sigma):
    s = int(rnd.lognormvariate(math.log(median), sigma))
    return max(MIN_FILE, min(MAX_FILE, s))


def pdf_bytes(rnd, size, title):
    """A PDF-like file: header, a text object, one big binary stream, xref, EOF."""
    head = (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
            b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Contents 4 0 R >>\nendobj\n"
            b"5 0 obj\n<< /Title (" + title.encode() + b") /Producer (TCPDF 6.6.5 "
            b"\\(http://www.tcpdf.org\\)) /Creator (Dolibarr ERP/CRM) >>\nendobj\n")
    tail = (b"\nendstream\nendobj\nxref\n0 6\n0000000000 65535 f \n"
            b"trailer\n<< /Size 6 /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n")
    tail = tail.replace(b"%d", str(size // 2).encode()).replace(b"%%%%", b"%%")
    n = size - len(head) - len(tail) - 64
    n = max(n, 0)
    mid = b"4 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % n
    body = head + mid + rnd.randbytes(n) + tail
    return body[:size] if len(body) >= size else body + b"\n" * (size - len(body))


def jpeg_bytes(rnd, size):
    """A JPEG-like file: SOI, JFIF APP0, an EXIF-ish APP1 text, DQT, entropy data, EOI."""
    app0 = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x01\x00H\x00H\x00\x00"
    exif = b"Exif\x00\x00MM\x00*Canon EOS 80D\x00Dolibarr upload\x00"
    app1 = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
    dqt = b"\xff\xdb\x00\x43\x00" + bytes(range(1, 65))
    sos = b"\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
    head = app0 + app1 + dqt + sos
    n = max(size - len(head) - 2, 0)
    return head + rnd.randbytes(n) + b"\xff\xd9"


def text_bytes(rnd, size, kind):
    """Compressible text (~3-5x with zstd): CSV exports, HTML mails, ODT XML, logs."""
    out = []
    total = 0
    words = WORDS
    if kind == "csv":
        out.append("ref;date;client;ville;montant_ht;tva;montant_ttc;statut\n")
    elif kind == "fodt":
        out.append('<?xml version="1.0" encoding="UTF-8"?>\n<office:document '
                   'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                   'office:version="1.3" office:mimetype="application/vnd.oasis.'
                   'opendocument.text">\n<office:body><office:text>\n')
    elif kind == "html":
        out.append("<html><head><meta charset=\"utf-8\"><title>Relance</title></head><body>\n")
    total = len(out[0]) if out else 0
    i = 0
    while total < size:
        i += 1
        if kind == "csv":
            ht = rnd.randrange(1000, 5000000) / 100
            line = "FA%02d%02d-%05d;20%02d-%02d-%02d;%s %s SARL;%s;%.2f;20.0;%.2f;%d\n" % (
                rnd.randrange(20, 27), rnd.randrange(1, 13), i, rnd.randrange(20, 27),
                rnd.randrange(1, 13), rnd.randrange(1, 29), rnd.choice(words).capitalize(),
                rnd.choice(words).capitalize(), rnd.choice(CITIES), ht, ht * 1.2,
                rnd.randrange(0, 4))
        elif kind == "log":
            line = "2025-%02d-%02d %02d:%02d:%02d INFO    127.0.0.1 admin %s %s id=%d\n" % (
                rnd.randrange(1, 13), rnd.randrange(1, 29), rnd.randrange(24),
                rnd.randrange(60), rnd.randrange(60), rnd.choice(words).upper(),
                " ".join(rnd.choices(words, k=6)), rnd.randrange(1, 99999))
        else:
            sent = " ".join(rnd.choices(words, k=rnd.randrange(8, 30))).capitalize() + "."
            if kind == "fodt":
                line = '<text:p text:style-name="P%d">%s</text:p>\n' % (rnd.randrange(1, 9), sent)
            else:
                line = "<p>%s</p>\n" % sent
        out.append(line)
        total += len(line)
    data = "".join(out).encode()
    return data[:size]


class Tree:
    """Plans and writes the tree. Every file is (relpath, kind, size, seed)."""

    def __init__(self, size_mb, seed):
        self.target = size_mb * MIB
        self.seed = seed

    def plan(self):
        rnd = random.Random(self.seed)
        files = []
        total = 0
        text_total = 0
        inv = {"facture": 0, "commande": 0, "propale": 0}
        prefix = {"facture": "FA", "commande": "CO", "propale": "PR"}
        nprod = 0
        nsoc = 0
        while total < self.target:
            r = rnd.random()
            if text_total < 0.1 * total:
                kind = rnd.choice(("csv", "log", "fodt", "html"))
                size = lognormal_size(rnd, 96 * KIB, 1.1)
                ext = {"csv": "csv", "log": "log", "fodt": "fodt", "html": "html"}[kind]
                where = rnd.random()
                if where < 0.5:
                    d = "ecm/" + rnd.choice(ECM_DIRS)
                    name = "%s %s %d.%s" % (rnd.choice(WORDS).capitalize(),
                                            rnd.choice(WORDS), rnd.randrange(2019, 2026), ext)
                elif where < 0.8:
                    nsoc += 1
                    d = "societe/%d" % nsoc
                    name = "echanges_%d.%s" % (rnd.randrange(1, 99), ext)
                else:
                    d = "doctemplates/%s" % rnd.choice(("invoices", "orders", "proposals",
                                                        "thirdparties", "projects"))
                    name = "template_%s_%d.%s" % (rnd.choice(WORDS), len(files), ext)
                files.append((d + "/" + name, kind, size))
                text_total += size
                total += size
                continue
            if r < 0.55:
                mod = rnd.choice(("facture", "facture", "facture", "commande", "propale"))
                inv[mod] += 1
                n = inv[mod]
                ref = "%s%02d%02d-%04d" % (prefix[mod], 24 + (n // 6000) % 3,
                                           1 + (n // 500) % 12, n % 10000)
                d = "%s/%s" % (mod, ref)
                size = lognormal_size(rnd, 60 * KIB, 0.9)
                files.append((d + "/" + ref + ".pdf", "pdf", size))
                total += size
                if rnd.random() < 0.25:  # a scanned attachment next to it
                    size = lognormal_size(rnd, 400 * KIB, 1.0)
                    name = rnd.choice(("scan bon de livraison", "bon commande signe",
                                       "Justificatif", "courrier client"))
                    ext = rnd.choice(("pdf", "jpg"))
                    files.append(("%s/%s %d.%s" % (d, name, n, ext),
                                  "pdf" if ext == "pdf" else "jpg", size))
                    total += size
            elif r < 0.75:
                nprod += 1
                ref = "PROD-%05d" % nprod
                d = "produit/" + ref
                size = lognormal_size(rnd, 350 * KIB, 0.8)
                files.append((d + "/photo_%s.jpg" % ref.lower(), "jpg", size))
                files.append((d + "/thumbs/photo_%s_small.jpg" % ref.lower(), "jpg", MIN_FILE + rnd.randrange(30 * KIB)))
                files.append((d + "/thumbs/photo_%s_mini.jpg" % ref.lower(), "jpg", MIN_FILE + rnd.randrange(4 * KIB)))
                total += size + 2 * MIN_FILE
            elif r < 0.9:
                nsoc += 1
                d = "societe/%d" % nsoc
                name = rnd.choice(("Kbis", "contrat cadre", "RIB", "logo", "attestation urssaf"))
                ext = "jpg" if name == "logo" else "pdf"
                size = lognormal_size(rnd, 150 * KIB, 1.2)
                files.append(("%s/%s.%s" % (d, name, ext), "pdf" if ext == "pdf" else "jpg", size))
                total += size
            else:
                d = "ecm/" + rnd.choice(ECM_DIRS)
                ext = rnd.choice(("pdf", "pdf", "jpg"))
                size = lognormal_size(rnd, 250 * KIB, 1.4)
                files.append(("%s/%s %d.%s" % (d, rnd.choice(WORDS).capitalize(),
                                               len(files), ext),
                              "pdf" if ext == "pdf" else "jpg", size))
                total += size
        return files


def file_content(rnd, relpath, kind, size):
    if kind == "pdf":
        return pdf_bytes(rnd, size, os.path.basename(relpath))
    if kind == "jpg":
        return jpeg_bytes(rnd, size)
    return text_bytes(rnd, size, kind)


def write_file(root, relpath, data, mtime):
    path = os.path.join(root, relpath)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.utime(path, (mtime, mtime))


def cmd_generate(args):
    root = args.dir
    if os.path.exists(root) and os.listdir(root):
        sys.exit("gen-tree: %s exists and is not empty; remove it first" % root)
    os.makedirs(root, exist_ok=True)
    tree = Tree(args.size_mb, args.seed)
    files = tree.plan()
    total = 0
    text = 0
    for i, (rel, kind, size) in enumerate(files):
        # per-file generator: contents do not depend on the order of writing
        rnd = random.Random((args.seed << 32) ^ (i * 2654435761))
        data = file_content(rnd, rel, kind, size)
        write_file(root, rel, data, BASE_MTIME + i * 37)
        total += len(data)
        if kind not in ("pdf", "jpg"):
            text += len(data)
    # dirs get fixed mtimes too (deepest first)
    for dirpath, _dirs, _files in sorted(os.walk(root), key=lambda t: -t[0].count(os.sep)):
        os.utime(dirpath, (BASE_MTIME, BASE_MTIME))
    print("gen-tree: %s: %d files, %.1f MiB (%.1f %% compressible text), seed %d"
          % (root, len(files), total / MIB, 100.0 * text / max(total, 1), args.seed))


def cmd_mutate(args):
    root = os.path.abspath(args.dir)
    mark = root.rstrip("/") + MARK
    if os.path.exists(mark):
        sys.exit("gen-tree: %s was already mutated (%s exists)" % (root, mark))
    existing = []
    for dirpath, _dirs, names in os.walk(root):
        for n in names:
            existing.append(os.path.relpath(os.path.join(dirpath, n), root))
    existing.sort()
    if len(existing) < 10:
        sys.exit("gen-tree: %s has fewer than 10 files" % root)
    rnd = random.Random(("mutate", args.seed).__repr__())
    changed = rnd.sample(existing, 10)
    added_bytes = 0
    for j, rel in enumerate(changed):
        path = os.path.join(root, rel)
        size = os.path.getsize(path)
        kind = os.path.splitext(rel)[1].lstrip(".")
        kind = kind if kind in ("pdf", "jpg", "csv", "log", "fodt", "html") else "csv"
        if j < 5:
            data = file_content(rnd, rel, kind, size)  # regenerated document
            with open(path, "wb") as f:
                f.write(data)
        else:
            with open(path, "r+b") as f:  # edited in place + grown
                off = rnd.randrange(0, max(size - 64 * KIB, 1))
                f.seek(off)
                f.write(rnd.randbytes(min(64 * KIB, size)))
                f.seek(0, os.SEEK_END)
                f.write(rnd.randbytes(16 * KIB))
        os.utime(path, (MUTATE_MTIME + j, MUTATE_MTIME + j))
    for k in range(20):
        ref = "FA2612-%04d" % (9000 + k)
        if k == 7:
            rel = "facture/%s/scan bon de livraison %d.jpg" % ("FA2612-%04d" % 9006, k)
            size = lognormal_size(rnd, 700 * KIB, 1.0)
            data = jpeg_bytes(rnd, size)
        else:
            rel = "facture/%s/%s.pdf" % (ref, ref)
            size = lognormal_size(rnd, 60 * KIB, 0.9)
            data = pdf_bytes(rnd, size, ref + ".pdf")
        if os.path.exists(os.path.join(root, rel)):
            sys.exit("gen-tree: %s already exists: tree not from gen-tree.py?" % rel)
        write_file(root, rel, data, MUTATE_MTIME + 100 + k)
        added_bytes += len(data)
    with open(mark, "w") as f:
        f.write("mutated with seed %d\n" % args.seed)
    print("gen-tree: %s: changed 10 files, added 20 files (%.1f KiB new), seed %d"
          % (root, added_bytes / KIB, args.seed))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="write a new tree into DIR")
    g.add_argument("dir")
    g.add_argument("--size-mb", type=int, default=1024)
    g.add_argument("--seed", type=int, default=1)
    m = sub.add_parser("mutate", help="change 10 files and add 20 in DIR")
    m.add_argument("dir")
    m.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    if args.cmd == "generate":
        cmd_generate(args)
    else:
        cmd_mutate(args)


if __name__ == "__main__":
    main()
