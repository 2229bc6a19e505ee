"""Database triggers that make the audit tables append-only (migration 0002).

PostgreSQL: row triggers refuse UPDATE and DELETE, a statement trigger refuses TRUNCATE, all
`ENABLE ALWAYS` so that `session_replication_role = replica` does not switch them off.
SQLite: row triggers refuse UPDATE and DELETE (SQLite has no TRUNCATE).
Event data may be deleted only once an `audit.redacted` event names it (erasure, GDPR Art. 17).
The errors are integrity violations (SQLSTATE 23000 / SQLITE_CONSTRAINT): Django raises IntegrityError.
"""

from contextlib import contextmanager

APPEND_ONLY_TABLES = ("audit_event", "audit_checkpoint", "audit_merkle_node")
DATA_TABLE = "audit_event_data"

_REDACTION_EXISTS = (
    "EXISTS (SELECT 1 FROM audit_event WHERE action = 'audit.redacted'"
    " AND object_type = 'audit.auditevent' AND object_id = CAST(OLD.seq AS TEXT))"
)

_POSTGRES_FUNCTIONS = [
    """
    CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION audit_guard_event_data() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND {_REDACTION_EXISTS} THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit event data may only be erased by a recorded redaction: % on % refused',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END $$
    """,
]


def install(connection) -> None:
    with connection.cursor() as cursor:
        for statement in _install_statements(connection.vendor):
            cursor.execute(statement)


def remove(connection) -> None:
    with connection.cursor() as cursor:
        for statement in _remove_statements(connection.vendor):
            cursor.execute(statement)


@contextmanager
def suspended(connection):
    """Lift the triggers for a block: `flush` between tests, and tests that tamper on purpose."""
    _check_deferred_constraints(connection)  # PostgreSQL alters no table with pending trigger events
    remove(connection)
    _defer_constraints(connection)
    try:
        yield
    finally:
        _check_deferred_constraints(connection)
        install(connection)
        _defer_constraints(connection)


def _check_deferred_constraints(connection) -> None:
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _defer_constraints(connection) -> None:
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _install_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        statements = list(_POSTGRES_FUNCTIONS)
        for table in (*APPEND_ONLY_TABLES, DATA_TABLE):
            function = "audit_guard_event_data" if table == DATA_TABLE else "audit_refuse_change"
            statements += [
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
                f" FOR EACH ROW EXECUTE FUNCTION {function}()",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
                f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_append_only",
                f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_no_truncate",
            ]
        return statements
    if vendor == "sqlite":
        statements = []
        for table in APPEND_ONLY_TABLES:
            for operation in ("UPDATE", "DELETE"):
                statements.append(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table}"
                    f" BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: {operation} on {table} refused'); END"
                )
        statements += [
            f"CREATE TRIGGER {DATA_TABLE}_no_update BEFORE UPDATE ON {DATA_TABLE}"
            f" BEGIN SELECT RAISE(ABORT, 'audit event data may only be erased by a recorded redaction'); END",
            f"CREATE TRIGGER {DATA_TABLE}_no_delete BEFORE DELETE ON {DATA_TABLE} WHEN NOT {_REDACTION_EXISTS}"
            f" BEGIN SELECT RAISE(ABORT, 'audit event data may only be erased by a recorded redaction'); END",
        ]
        return statements
    return []


def _remove_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        statements = []
        for table in (*APPEND_ONLY_TABLES, DATA_TABLE):
            statements += [
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            ]
        return [
            *statements,
            "DROP FUNCTION IF EXISTS audit_refuse_change()",
            "DROP FUNCTION IF EXISTS audit_guard_event_data()",
        ]
    if vendor == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_{operation}"
            for table in (*APPEND_ONLY_TABLES, DATA_TABLE)
            for operation in ("update", "delete")
        ]
    return []
