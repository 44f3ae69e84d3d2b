"""integrity triggers: a sent mémoire never changes, the audit trail is append-only

Once a mémoire has its MJ number, the database itself refuses (SQLite and PostgreSQL alike):
- UPDATE of memoires except the lifecycle columns (status, status_changed_at, version,
  updated_at) — header, amounts, number and sending data are frozen; DELETE of it;
- INSERT/UPDATE/DELETE of its prestation_lines, frais_divers_items and attachments;
- UPDATE/DELETE of certificates (the proof of filing) at all;
- UPDATE of transitions (audit rows) at all, DELETE of those of a numbered mémoire (a draft
  may still be deleted with its history);
- UPDATE of stored_files (content-addressed bytes) at all, DELETE of bytes used by a sent
  mémoire.
The SQL is frozen here on purpose: the frozen column list is that of revision 0001. A later
column of memoires is not covered until a new migration adds it.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MESSAGE = "memoire envoye : modification interdite"

FROZEN_MEMOIRE_COLUMNS = (
    "id", "numero_tmp", "numero_mj", "mode_depot", "structure_id", "service_id",
    "juridiction_id", "categorie_code", "bank_account_id", "devise", "texte_code", "vat_type",
    "numero_facture", "remise_globale_ttc", "motif_remise_globale", "justification_forclusion",
    "total_ttc", "created_by_id", "created_at", "sent_at", "sent_by_id", "sent_ip",
    "honour_version", "duplicated_from_id",
)

# ---------------------------------------------------------------- SQLite

SQLITE_SENT = "(SELECT numero_mj FROM memoires WHERE id = {ref}.memoire_id) IS NOT NULL"
SQLITE_LINE_SENT = (
    "(SELECT m.numero_mj FROM memoires m JOIN prestation_lines l ON l.memoire_id = m.id "
    "WHERE l.id = {ref}.line_id) IS NOT NULL"
)


def _sqlite_trigger(name: str, timing: str, table: str, when: str | None,
                    message: str = MESSAGE) -> str:
    condition = f" WHEN {when}" if when else ""
    return (f"CREATE TRIGGER {name} BEFORE {timing} ON {table} FOR EACH ROW{condition} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END")


def _sqlite_statements() -> list[str]:
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FROZEN_MEMOIRE_COLUMNS)
    statements = [
        _sqlite_trigger("fj_memoires_no_update", "UPDATE", "memoires",
                        f"OLD.numero_mj IS NOT NULL AND ({changed})"),
        _sqlite_trigger("fj_memoires_no_delete", "DELETE", "memoires", "OLD.numero_mj IS NOT NULL"),
    ]
    for table, sent in (("prestation_lines", SQLITE_SENT), ("attachments", SQLITE_SENT),
                        ("frais_divers_items", SQLITE_LINE_SENT)):
        statements += [
            _sqlite_trigger(f"fj_{table}_no_insert", "INSERT", table, sent.format(ref="NEW")),
            _sqlite_trigger(f"fj_{table}_no_update", "UPDATE", table,
                            f"{sent.format(ref='OLD')} OR {sent.format(ref='NEW')}"),
            _sqlite_trigger(f"fj_{table}_no_delete", "DELETE", table, sent.format(ref="OLD")),
        ]
    statements += [
        _sqlite_trigger("fj_certificates_no_update", "UPDATE", "certificates", None,
                        "certificat de depot : modification interdite"),
        _sqlite_trigger("fj_certificates_no_delete", "DELETE", "certificates", None,
                        "certificat de depot : suppression interdite"),
        _sqlite_trigger("fj_transitions_no_update", "UPDATE", "transitions", None,
                        "journal des etats : modification interdite"),
        _sqlite_trigger("fj_transitions_no_delete", "DELETE", "transitions",
                        SQLITE_SENT.format(ref="OLD"),
                        "journal des etats : suppression interdite"),
        _sqlite_trigger("fj_stored_files_no_update", "UPDATE", "stored_files", None,
                        "fichier stocke : modification interdite"),
        _sqlite_trigger(
            "fj_stored_files_no_delete", "DELETE", "stored_files",
            "EXISTS (SELECT 1 FROM attachments a JOIN memoires m ON m.id = a.memoire_id "
            "WHERE a.sha256 = OLD.sha256 AND m.numero_mj IS NOT NULL)",
            "fichier stocke : suppression interdite"),
    ]
    return statements


SQLITE_TRIGGERS = (
    ["fj_memoires_no_update", "fj_memoires_no_delete"]
    + [f"fj_{t}_no_{op_}" for t in ("prestation_lines", "attachments", "frais_divers_items")
       for op_ in ("insert", "update", "delete")]
    + ["fj_certificates_no_update", "fj_certificates_no_delete", "fj_transitions_no_update",
       "fj_transitions_no_delete", "fj_stored_files_no_update", "fj_stored_files_no_delete"]
)

# ---------------------------------------------------------------- PostgreSQL

PG_RAISE = "RAISE EXCEPTION '{message}' USING ERRCODE = 'restrict_violation';"


def _pg_raise(message: str = MESSAGE) -> str:
    return PG_RAISE.format(message=message)


def _pg_statements() -> list[str]:
    new_row = ", ".join(f"NEW.{c}" for c in FROZEN_MEMOIRE_COLUMNS)
    old_row = ", ".join(f"OLD.{c}" for c in FROZEN_MEMOIRE_COLUMNS)
    return [
        """CREATE FUNCTION fj_memoire_sent(memoire_ref integer) RETURNS boolean
        LANGUAGE sql STABLE AS $$
          SELECT EXISTS (SELECT 1 FROM memoires WHERE id = memoire_ref AND numero_mj IS NOT NULL)
        $$""",
        """CREATE FUNCTION fj_line_sent(line_ref integer) RETURNS boolean
        LANGUAGE sql STABLE AS $$
          SELECT EXISTS (SELECT 1 FROM prestation_lines l JOIN memoires m ON m.id = l.memoire_id
                         WHERE l.id = line_ref AND m.numero_mj IS NOT NULL)
        $$""",
        f"""CREATE FUNCTION fj_memoires_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.numero_mj IS NOT NULL THEN
            IF TG_OP = 'DELETE' THEN {_pg_raise()} END IF;
            IF ROW({new_row}) IS DISTINCT FROM ROW({old_row}) THEN {_pg_raise()} END IF;
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$""",
        f"""CREATE FUNCTION fj_memoire_child_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP <> 'INSERT' AND fj_memoire_sent(OLD.memoire_id) THEN {_pg_raise()} END IF;
          IF TG_OP <> 'DELETE' AND fj_memoire_sent(NEW.memoire_id) THEN {_pg_raise()} END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$""",
        f"""CREATE FUNCTION fj_frais_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP <> 'INSERT' AND fj_line_sent(OLD.line_id) THEN {_pg_raise()} END IF;
          IF TG_OP <> 'DELETE' AND fj_line_sent(NEW.line_id) THEN {_pg_raise()} END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$""",
        f"""CREATE FUNCTION fj_certificates_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          {_pg_raise("certificat de depot : modification interdite")}
        END $$""",
        f"""CREATE FUNCTION fj_transitions_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'UPDATE' OR fj_memoire_sent(OLD.memoire_id) THEN
            {_pg_raise("journal des etats : modification interdite")}
          END IF;
          RETURN OLD;
        END $$""",
        f"""CREATE FUNCTION fj_stored_files_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'UPDATE' OR EXISTS (
              SELECT 1 FROM attachments a JOIN memoires m ON m.id = a.memoire_id
              WHERE a.sha256 = OLD.sha256 AND m.numero_mj IS NOT NULL) THEN
            {_pg_raise("fichier stocke : modification interdite")}
          END IF;
          RETURN OLD;
        END $$""",
        "CREATE TRIGGER fj_memoires_guard BEFORE UPDATE OR DELETE ON memoires "
        "FOR EACH ROW EXECUTE FUNCTION fj_memoires_guard()",
        "CREATE TRIGGER fj_prestation_lines_guard BEFORE INSERT OR UPDATE OR DELETE "
        "ON prestation_lines FOR EACH ROW EXECUTE FUNCTION fj_memoire_child_guard()",
        "CREATE TRIGGER fj_attachments_guard BEFORE INSERT OR UPDATE OR DELETE "
        "ON attachments FOR EACH ROW EXECUTE FUNCTION fj_memoire_child_guard()",
        "CREATE TRIGGER fj_frais_divers_items_guard BEFORE INSERT OR UPDATE OR DELETE "
        "ON frais_divers_items FOR EACH ROW EXECUTE FUNCTION fj_frais_guard()",
        "CREATE TRIGGER fj_certificates_guard BEFORE UPDATE OR DELETE ON certificates "
        "FOR EACH ROW EXECUTE FUNCTION fj_certificates_guard()",
        "CREATE TRIGGER fj_transitions_guard BEFORE UPDATE OR DELETE ON transitions "
        "FOR EACH ROW EXECUTE FUNCTION fj_transitions_guard()",
        "CREATE TRIGGER fj_stored_files_guard BEFORE UPDATE OR DELETE ON stored_files "
        "FOR EACH ROW EXECUTE FUNCTION fj_stored_files_guard()",
    ]


PG_TRIGGERS = (
    ("fj_memoires_guard", "memoires"), ("fj_prestation_lines_guard", "prestation_lines"),
    ("fj_attachments_guard", "attachments"), ("fj_frais_divers_items_guard", "frais_divers_items"),
    ("fj_certificates_guard", "certificates"), ("fj_transitions_guard", "transitions"),
    ("fj_stored_files_guard", "stored_files"),
)
PG_FUNCTIONS = (
    "fj_memoires_guard()", "fj_memoire_child_guard()", "fj_frais_guard()",
    "fj_certificates_guard()", "fj_transitions_guard()", "fj_stored_files_guard()",
    "fj_memoire_sent(integer)", "fj_line_sent(integer)",
)


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        statements = _sqlite_statements()
    elif dialect == "postgresql":
        statements = _pg_statements()
    else:  # pragma: no cover - only the two supported engines
        raise RuntimeError(f"Portail FJ runs on SQLite or PostgreSQL, not {dialect}")
    for statement in statements:
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        for name, table in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for function in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
