"""dolibarr_gen.py: row generators for a Dolibarr-shaped database (shared by
gen-dolibarr-db.py and erp-day.py; not run directly).

Rows are built from the real Dolibarr 23 schema: the fixture dump is loaded
first, its rows serve as templates (so every column keeps a real value, NULL
pattern and type), and the columns that make a row what it is (ids, refs,
foreign keys, names, dates, amounts, texts) are generated from a seed.
Nothing here depends on anything outside the Python standard library; the
server is reached through the `mariadb` command-line client.
"""
import json
import os
import random
import subprocess

# ---------------------------------------------------------------------------
# server access

def client_args(db=None):
    sock = os.environ.get("BENCH_DB_SOCKET") or os.environ.get("TM_DB_SOCKET")
    if not sock:
        raise SystemExit("dolibarr_gen: set BENCH_DB_SOCKET (or TM_DB_SOCKET) to the server's socket")
    args = ["mariadb", "--socket=" + sock, "-uroot", "--local-infile=1",
            "--max-allowed-packet=512M"]
    if db:
        args.append(db)
    return args


def query(db, sql):
    """Rows of a query as lists of strings (tab-separated batch output; only
    used for simple values: counts, ids, JSON documents)."""
    out = subprocess.run(client_args(db) + ["-N", "-B", "-r", "-e", sql], check=True,
                         stdout=subprocess.PIPE).stdout.decode()
    return [line.split("\t") for line in out.splitlines()]


def run_sql(db, sql_text):
    subprocess.run(client_args(db), input=sql_text.encode(), check=True)


# ---------------------------------------------------------------------------
# vocabulary

FIRST = ("Jean Marie Pierre Sophie Nicolas Isabelle Philippe Nathalie Laurent Sandrine "
         "Michel Catherine Alain Valerie Thomas Claire Julien Camille Antoine Julie Hugo "
         "Emma Lucas Chloe Louis Manon Arthur Lea Gabriel Ines Paul Sarah Maxime Anais "
         "Olivier Celine Francois Aurelie Eric Helene").split()
LAST = ("Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon "
        "Laurent Lefebvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard "
        "Andre Lefevre Mercier Dupont Lambert Bonnet Francois Martinez Legrand Garnier "
        "Faure Rousseau Blanc Guerin Muller Henry Roussel Nicolas Perrin Morin Mathieu "
        "Clement Gauthier Dumont Lopez Fontaine Chevalier Robin").split()
TRADES = ("Boulangerie Menuiserie Garage Cabinet Pharmacie Imprimerie Transports Atelier "
          "Plomberie Electricite Restaurant Hotel Librairie Fromagerie Jardinerie "
          "Informatique Conseil Batiment Charpente Couverture Pressing Optique Auto-ecole "
          "Architecture Traiteur Distribution Logistique Maconnerie Peinture").split()
FORMS = ("SARL", "SAS", "SA", "EURL", "SASU", "SCI", "EI", "SNC")
TOWNS = (("75011", "Paris"), ("69003", "Lyon"), ("13006", "Marseille"), ("31000", "Toulouse"),
         ("44000", "Nantes"), ("59000", "Lille"), ("35000", "Rennes"), ("33000", "Bordeaux"),
         ("38000", "Grenoble"), ("21000", "Dijon"), ("49100", "Angers"), ("29200", "Brest"),
         ("54000", "Nancy"), ("57000", "Metz"), ("37000", "Tours"), ("14000", "Caen"),
         ("76000", "Rouen"), ("51100", "Reims"), ("06000", "Nice"), ("87000", "Limoges"))
STREETS = ("rue de la Republique", "avenue Jean Jaures", "boulevard Victor Hugo",
           "rue du Moulin", "place de l'Eglise", "rue des Ecoles", "chemin des Vignes",
           "rue Pasteur", "allee des Tilleuls", "route de Lyon", "impasse des Lilas",
           "rue Nationale", "quai de la Loire", "rue du Commerce", "avenue de la Gare")
WORDS = ("installation maintenance fourniture livraison prestation conseil formation "
         "audit reparation remplacement piece main d'oeuvre deplacement forfait "
         "abonnement licence support assistance etude conception fabrication pose "
         "controle verification nettoyage mise en service garantie extension option "
         "materiel logiciel module annuel mensuel trimestriel standard premium "
         "acier inox bois chene pin aluminium cuivre PVC beton vitrage isolant "
         "electrique hydraulique pneumatique numerique professionnel industriel").split()
PRODUCT_KINDS = ("Vis", "Ecrou", "Panneau", "Cable", "Tube", "Profile", "Ordinateur",
                 "Ecran", "Imprimante", "Licence", "Contrat", "Pompe", "Vanne", "Moteur",
                 "Capteur", "Palette", "Carton", "Peinture", "Colle", "Joint", "Filtre")
EVENT_LABELS = (("AC_TEL", "Appel telephonique"), ("AC_RDV", "Rendez-vous"),
                ("AC_EMAIL", "Envoi email"), ("AC_BILL_VALIDATE", "Facture %s validee"),
                ("AC_BILL_SENTBYMAIL", "Facture %s envoyee par email"),
                ("AC_ORDER_VALIDATE", "Commande %s validee"),
                ("AC_PROPAL_VALIDATE", "Proposition %s validee"),
                ("AC_BILL_PAYED", "Facture %s passee a payee"),
                ("AC_COMPANY_CREATE", "Tiers %s cree"), ("AC_OTH_AUTO", "Relance automatique"))


def sentence(rnd, lo=6, hi=18):
    return " ".join(rnd.choices(WORDS, k=rnd.randint(lo, hi))).capitalize() + "."


def make_text_pool(seed, n=4000):
    """Pre-built texts (descriptions, notes, mail bodies): picking from a pool is
    much faster than composing per row, and real ERP text repeats a lot."""
    rnd = random.Random(seed)
    short = [sentence(rnd, 3, 10) for _ in range(n)]
    long_ = ["\n".join(sentence(rnd) for _ in range(rnd.randint(2, 8))) for _ in range(n // 4)]
    return short, long_


# ---------------------------------------------------------------------------
# dates: ids grow with time, like a real instance (newest rows = latest dates)

EPOCH_DAY0 = 18993  # 2022-01-01 as days since 1970-01-01
SPAN_DAYS = 4 * 365


def _ymd(days):
    # days since 1970-01-01 -> (y, m, d), civil-from-days (H. Hinnant)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + (m <= 2), m, d)


def day_of(frac):
    return EPOCH_DAY0 + int(frac * SPAN_DAYS)


def date_s(days):
    return "%04d-%02d-%02d" % _ymd(days)


def dt_s(days, secs):
    y, m, d = _ymd(days)
    return "%04d-%02d-%02d %02d:%02d:%02d" % (y, m, d, secs // 3600, secs // 60 % 60, secs % 60)


# ---------------------------------------------------------------------------
# serialisation

_TSV_ESC = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})
_SQL_ESC = str.maketrans({"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\0": "\\0"})


def tsv_line(row):
    return "\t".join("\\N" if v is None else (v.translate(_TSV_ESC) if isinstance(v, str) else repr(v) if isinstance(v, float) else str(v)) for v in row) + "\n"


def sql_values(row):
    return "(" + ",".join("NULL" if v is None else ("'" + v.translate(_SQL_ESC) + "'" if isinstance(v, str) else repr(v) if isinstance(v, float) else str(v)) for v in row) + ")"


def sql_literal(v):
    return sql_values([v])[1:-1]


# ---------------------------------------------------------------------------
# templates from the loaded fixture

SKIP_TYPES = ("point", "geometry", "polygon", "linestring")


def load_templates(db, table):
    cols = query(db, "SELECT column_name, data_type FROM information_schema.columns WHERE "
                     "table_schema='%s' AND table_name='%s' ORDER BY ordinal_position" % (db, table))
    names = [c for c, t in cols if t.lower() not in SKIP_TYPES]
    # the fixture's rows have the lowest ids: templates come from them only
    # (erp-day.py runs on millions of rows and must not read them all)
    rows = query(db, "SELECT JSON_ARRAY(%s) FROM %s ORDER BY `%s` LIMIT 1000"
                 % (",".join("`%s`" % n for n in names), table, names[0]))
    tpl = []
    for (j,) in rows:
        vals = json.loads(j)
        # JSON numbers come back as int/float; keep decimals as text-free numbers
        tpl.append(vals)
    if not tpl:
        raise SystemExit("dolibarr_gen: %s has no row in the fixture to use as template" % table)
    return names, tpl


# ---------------------------------------------------------------------------
# the generators: one per table; gen(i) -> row (list, in `names` order)

TABLES = ("llx_societe", "llx_socpeople", "llx_product", "llx_propal", "llx_propaldet",
          "llx_commande", "llx_commandedet", "llx_facture", "llx_facturedet", "llx_paiement",
          "llx_paiement_facture", "llx_bank", "llx_actioncomm", "llx_ecm_files")

# rows per "unit" of data (one thirdparty); detail tables are per parent
UNIT = {"llx_societe": 1.0, "llx_socpeople": 1.6, "llx_product": 0.25, "llx_propal": 1.2,
        "llx_commande": 1.0, "llx_facture": 3.0, "llx_paiement": 2.4, "llx_actioncomm": 6.0,
        "llx_ecm_files": 3.5}
LINES = {"llx_propaldet": ("llx_propal", 4), "llx_commandedet": ("llx_commande", 4),
         "llx_facturedet": ("llx_facture", 4), "llx_paiement_facture": ("llx_paiement", 1),
         "llx_bank": ("llx_paiement", 1)}
PK = {"llx_actioncomm": "id"}


class Ctx:
    """What generators need to know about each other: id ranges and counts."""

    def __init__(self, seed, base, count):
        self.seed = seed
        self.base = base      # table -> first new id
        self.count = count    # table -> rows to generate
        self.short, self.long = make_text_pool(seed)

    def rng(self, table, i):
        return random.Random("%d/%s/%d" % (self.seed, table, i // 4096))

    def pick(self, rnd, table, newest_frac=1.0):
        """A random existing id of table (among the generated rows)."""
        n = self.count[table]
        lo = int(n * (1.0 - newest_frac))
        return self.base[table] + rnd.randrange(lo, n) if n > lo else self.base[table]

    def frac(self, table, rowid):
        n = self.count[table]
        return min(max((rowid - self.base[table]) / max(n, 1), 0.0), 0.9999)


class Gen:
    def __init__(self, ctx, db, table):
        self.ctx = ctx
        self.table = table
        self.names, self.tpl = load_templates(db, table)
        self.ix = {n: k for k, n in enumerate(self.names)}

    def row(self, rnd, values):
        r = list(rnd.choice(self.tpl))
        ix = self.ix
        for k, v in values.items():
            if k in ix:
                r[ix[k]] = v
        return r


def _money(rnd, lo, hi):
    return round(rnd.uniform(lo, hi), 2)


def gen_rows(ctx, gen, start, stop):
    """Rows start..stop-1 (0-based offsets into the table's generated range),
    deterministic per table and offset block."""
    t = gen.table
    base = ctx.base[t]
    out = []
    rnd = None
    for i in range(start, stop):
        if rnd is None or i % 4096 == 0:
            rnd = ctx.rng(t, i)
        rid = base + i
        fr = i / max(ctx.count[t], 1)
        day = day_of(fr)
        secs = rnd.randrange(7 * 3600, 19 * 3600)
        out.append(gen.row(rnd, ROWFN[t](ctx, rnd, rid, i, day, secs)))
    return out


def _soc(ctx, rnd, rid, i, day, secs):
    zipc, town = rnd.choice(TOWNS)
    name = "%s %s %s" % (rnd.choice(TRADES), rnd.choice(LAST), rnd.choice(FORMS))
    return {"rowid": rid, "nom": name, "name_alias": None if rnd.random() < 0.7 else rnd.choice(LAST),
            "entity": 1, "status": 1, "code_client": "CU%05d-%06d" % (rid % 100000, rid),
            "code_fournisseur": ("SU%05d-%06d" % (rid % 100000, rid)) if rnd.random() < 0.2 else None,
            "prefix_comm": None, "barcode": None,
            "address": "%d %s" % (rnd.randint(1, 180), rnd.choice(STREETS)), "zip": zipc, "town": town,
            "phone": "0%d %02d %02d %02d %02d" % (rnd.randint(1, 5), rnd.randint(0, 99), rnd.randint(0, 99), rnd.randint(0, 99), rnd.randint(0, 99)),
            "email": "contact%d@%s.example.fr" % (rid, rnd.choice(LAST).lower()),
            "siren": "%09d" % rnd.randrange(10 ** 9), "siret": "%014d" % rnd.randrange(10 ** 14),
            "tva_intra": "FR%011d" % rnd.randrange(10 ** 11), "capital": float(rnd.choice((1000, 5000, 10000, 50000, 100000))),
            "client": rnd.choice((1, 1, 2, 3)), "fournisseur": 1 if rnd.random() < 0.2 else 0,
            "note_private": None if rnd.random() < 0.8 else rnd.choice(ctx.long),
            "note_public": None if rnd.random() < 0.9 else rnd.choice(ctx.short),
            "datec": dt_s(day, secs), "tms": dt_s(day + rnd.randint(0, 30), secs),
            "logo": None, "import_key": None, "last_main_doc": None}


def _contact(ctx, rnd, rid, i, day, secs):
    zipc, town = rnd.choice(TOWNS)
    fn, ln = rnd.choice(FIRST), rnd.choice(LAST)
    return {"rowid": rid, "datec": dt_s(day, secs), "tms": dt_s(day, secs),
            "fk_soc": ctx.pick(rnd, "llx_societe", 1.0), "entity": 1,
            "civility": rnd.choice(("MR", "MME", None)), "lastname": ln, "firstname": fn,
            "address": "%d %s" % (rnd.randint(1, 180), rnd.choice(STREETS)), "zip": zipc, "town": town,
            "poste": rnd.choice(("Gerant", "Comptable", "Responsable achats", "Assistante", "Directeur", None)),
            "phone": "0%d %02d %02d %02d %02d" % (rnd.randint(1, 5), rnd.randint(0, 99), rnd.randint(0, 99), rnd.randint(0, 99), rnd.randint(0, 99)),
            "phone_mobile": "06 %02d %02d %02d %02d" % (rnd.randint(0, 99), rnd.randint(0, 99), rnd.randint(0, 99), rnd.randint(0, 99)),
            "email": "%s.%s%d@example.fr" % (fn.lower(), ln.lower(), rid),
            "note_private": None if rnd.random() < 0.85 else rnd.choice(ctx.short), "statut": 1,
            "import_key": None}


def _product(ctx, rnd, rid, i, day, secs):
    price = _money(rnd, 1, 2500)
    label = "%s %s %s" % (rnd.choice(PRODUCT_KINDS), rnd.choice(WORDS), rnd.choice(WORDS))
    return {"rowid": rid, "ref": "P%07d" % rid, "entity": 1, "datec": dt_s(day, secs),
            "tms": dt_s(day, secs), "label": label, "description": rnd.choice(ctx.long),
            "price": price, "price_ttc": round(price * 1.2, 2), "price_base_type": "HT",
            "tva_tx": 20.0, "barcode": None, "fk_barcode_type": None, "stock": float(rnd.randint(0, 500)),
            "pmp": round(price * 0.6, 2), "cost_price": round(price * 0.55, 2),
            "fk_product_type": 0 if rnd.random() < 0.8 else 1, "tosell": 1, "tobuy": 1,
            "weight": round(rnd.uniform(0.1, 30), 2), "import_key": None, "last_main_doc": None}


def _doc(prefix, table):
    def fn(ctx, rnd, rid, i, day, secs):
        y, m, _ = _ymd(day)
        ref = "%s%02d%02d-%06d" % (prefix, y % 100, m, rid)
        ht = _money(rnd, 20, 20000)
        tva = round(ht * 0.2, 2)
        st = rnd.choice((1, 2, 2, 2, 3)) if i < ctx.count[table] * 0.97 else rnd.choice((0, 1))
        v = {"rowid": rid, "ref": ref, "entity": 1, "ref_client": None if rnd.random() < 0.7 else "BC-%d" % rnd.randrange(10 ** 6),
             "fk_soc": ctx.pick(rnd, "llx_societe"), "fk_projet": None,
             "total_ht": ht, "total_tva": tva, "total_ttc": round(ht + tva, 2),
             "multicurrency_total_ht": ht, "multicurrency_total_tva": tva,
             "multicurrency_total_ttc": round(ht + tva, 2), "fk_statut": st,
             "note_private": None if rnd.random() < 0.85 else rnd.choice(ctx.short),
             "note_public": rnd.choice((None, "Merci pour votre confiance.", rnd.choice(ctx.short))),
             "tms": dt_s(day + rnd.randint(0, 20), secs), "import_key": None,
             "last_main_doc": "%s/%s/%s.pdf" % ({"FA": "facture", "CO": "commande", "PR": "propale"}[prefix], ref, ref)}
        if prefix == "FA":
            v.update({"datec": dt_s(day, secs), "datef": date_s(day), "date_valid": date_s(day),
                      "date_lim_reglement": date_s(day + 30), "paye": 1 if st == 2 else 0,
                      "date_closing": dt_s(day + rnd.randint(5, 60), secs) if st == 2 else None,
                      "type": 0, "fk_facture_source": None, "fk_fac_rec_source": None})
        elif prefix == "CO":
            v.update({"date_creation": dt_s(day, secs), "date_valid": dt_s(day, secs + 60),
                      "date_commande": date_s(day), "date_cloture": dt_s(day + 20, secs) if st == 3 else None,
                      "amount_ht": ht, "facture": 1 if st == 3 else 0,
                      "date_livraison": dt_s(day + rnd.randint(3, 30), 0)})
        else:
            v.update({"datec": dt_s(day, secs), "datep": date_s(day), "fin_validite": dt_s(day + 30, secs),
                      "date_valid": dt_s(day, secs + 60), "price": 0.0,
                      "date_signature": dt_s(day + 7, secs) if st == 2 else None,
                      "date_cloture": dt_s(day + 7, secs) if st >= 2 else None})
        return v
    return fn


def _line(table, fkcol):
    parent, per = LINES[table]

    def fn(ctx, rnd, rid, i, day, secs):
        # the lines of one document are consecutive rows, `per` of them
        fk = ctx.base[parent] + min(i // per, ctx.count[parent] - 1)
        qty = float(rnd.choice((1, 1, 1, 2, 3, 5, 10, 12, 20, 50, 100)))
        pu = _money(rnd, 0.5, 1500)
        ht = round(qty * pu, 2)
        tva = round(ht * 0.2, 2)
        with_prod = rnd.random() < 0.7
        return {"rowid": rid, fkcol: fk, "fk_parent_line": None,
                "fk_product": ctx.pick(rnd, "llx_product") if with_prod else None,
                "label": None, "description": rnd.choice(ctx.short) if rnd.random() < 0.85 else rnd.choice(ctx.long),
                "tva_tx": 20.0, "qty": qty, "subprice": pu, "price": pu, "total_ht": ht, "total_tva": tva,
                "total_ttc": round(ht + tva, 2), "multicurrency_subprice": pu,
                "multicurrency_total_ht": ht, "multicurrency_total_tva": tva,
                "multicurrency_total_ttc": round(ht + tva, 2), "fk_remise_except": None,
                "product_type": 0 if with_prod else 1, "rang": i % per + 1,
                "buy_price_ht": round(pu * 0.6, 2), "import_key": None, "fk_commandefourndet": None}
    return fn


def _paiement(ctx, rnd, rid, i, day, secs):
    amt = _money(rnd, 20, 24000)
    return {"rowid": rid, "ref": "PAY%06d" % rid, "entity": 1, "datec": dt_s(day, secs),
            "tms": dt_s(day, secs), "datep": dt_s(day, 43200), "amount": amt, "multicurrency_amount": amt,
            "fk_paiement": rnd.choice((2, 3, 4, 6, 7)), "num_paiement": None if rnd.random() < 0.6 else "%07d" % rnd.randrange(10 ** 7),
            "note": None if rnd.random() < 0.9 else rnd.choice(ctx.short),
            "fk_bank": ctx.base["llx_bank"] + i, "statut": 0}


def _paiement_facture(ctx, rnd, rid, i, day, secs):
    return {"rowid": rid, "fk_paiement": ctx.base["llx_paiement"] + i,
            "fk_facture": ctx.base["llx_facture"] + min(int(i * ctx.count["llx_facture"] / max(ctx.count["llx_paiement"], 1)), ctx.count["llx_facture"] - 1),
            "amount": _money(rnd, 20, 24000)}


def _bank(ctx, rnd, rid, i, day, secs):
    return {"rowid": rid, "datec": dt_s(day, secs), "tms": dt_s(day, secs), "datev": date_s(day),
            "dateo": date_s(day), "amount": _money(rnd, 20, 24000), "label": "(CustomerInvoicePayment)",
            "fk_type": rnd.choice(("VIR", "CHQ", "CB", "PRE")), "num_releve": None if rnd.random() < 0.5 else "R%04d" % (i // 300),
            "rappro": 1 if rnd.random() < 0.5 else 0, "emetteur": rnd.choice(LAST) if rnd.random() < 0.3 else None,
            "origin_id": None, "origin_type": None, "import_key": None}


def _event(ctx, rnd, rid, i, day, secs):
    code, label = rnd.choice(EVENT_LABELS)
    if "%s" in label:
        label = label % ("FA%06d" % ctx.pick(rnd, "llx_facture"))
    soc = ctx.pick(rnd, "llx_societe")
    mail = code.endswith("SENTBYMAIL") or code == "AC_EMAIL"
    return {"id": rid, "ref": str(rid), "entity": 1, "datep": dt_s(day, secs), "datep2": dt_s(day, secs + 1800),
            "code": code, "datec": dt_s(day, secs), "tms": dt_s(day, secs), "fk_soc": soc,
            "fk_contact": ctx.pick(rnd, "llx_socpeople") if rnd.random() < 0.4 else None,
            "label": label, "note": rnd.choice(ctx.long) if mail else rnd.choice(ctx.short),
            "percent": rnd.choice((-1, 0, 50, 100)), "fk_element": None, "elementtype": None,
            "email_subject": label if mail else None, "email_from": "factu@example.fr" if mail else None,
            "email_to": ("compta%d@example.fr" % soc) if mail else None,
            "email_msgid": ("<%d.%d@dolibarr.example.fr>" % (rid, rnd.randrange(10 ** 9))) if mail else None,
            "ip": "127.0.0.1", "import_key": None}


def _ecm(ctx, rnd, rid, i, day, secs):
    kind = rnd.random()
    if kind < 0.6:
        fid = ctx.pick(rnd, "llx_facture")
        path, fname, otype = "facture/FA%06d" % fid, "FA%06d.pdf" % fid, "facture"
    elif kind < 0.8:
        fid = ctx.pick(rnd, "llx_commande")
        path, fname, otype = "commande/CO%06d" % fid, "CO%06d.pdf" % fid, "commande"
    else:
        fid = ctx.pick(rnd, "llx_societe")
        path, fname, otype = "societe/%d" % fid, "%s %d.pdf" % (rnd.choice(("Kbis", "RIB", "contrat")), rid), "societe"
    return {"rowid": rid, "ref": "%032x" % rnd.getrandbits(128), "label": "%032x" % rnd.getrandbits(128),
            "share": None, "entity": 1, "filepath": path, "filename": "%d-%s" % (rid, fname),
            "src_object_type": otype, "src_object_id": fid, "position": 1,
            "gen_or_uploaded": "generated" if otype != "societe" else "uploaded",
            "date_c": dt_s(day, secs), "tms": dt_s(day, secs), "description": "", "keywords": ""}


ROWFN = {"llx_societe": _soc, "llx_socpeople": _contact, "llx_product": _product,
         "llx_propal": _doc("PR", "llx_propal"), "llx_commande": _doc("CO", "llx_commande"),
         "llx_facture": _doc("FA", "llx_facture"),
         "llx_propaldet": _line("llx_propaldet", "fk_propal"),
         "llx_commandedet": _line("llx_commandedet", "fk_commande"),
         "llx_facturedet": _line("llx_facturedet", "fk_facture"),
         "llx_paiement": _paiement, "llx_paiement_facture": _paiement_facture, "llx_bank": _bank,
         "llx_actioncomm": _event, "llx_ecm_files": _ecm}


def base_ids(db):
    """First free id of every generated table (after the fixture's rows)."""
    parts = ["SELECT '%s', COALESCE(MAX(%s), 0) + 1 FROM %s" % (t, PK.get(t, "rowid"), t) for t in TABLES]
    return {t: int(v) for t, v in query(db, " UNION ALL ".join(parts))}


def counts_for_units(units):
    c = {}
    for t, per in UNIT.items():
        c[t] = max(1, int(units * per))
    for t, (parent, per) in LINES.items():
        c[t] = c[parent] * per
    return c
