"""Database functions the report's queries need on PostgreSQL and SQLite."""

from django.db.models import (
    DateField,
    FloatField,
    Func,
    JSONField,
    TextField,
)


class _PerDatabase(Func):
    """A function written as its own SQL template on each database (None: Func's own SQL)."""

    sqlite_template: str | None = None
    postgresql_template: str | None = None

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template=self.sqlite_template, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template=self.postgresql_template, **extra)


class _Floor(_PerDatabase):
    """floor() of a non-negative number, natively (Floor is a Python function on SQLite)."""

    function = "FLOOR"
    output_field = FloatField()
    # CAST truncates toward zero: the floor of a non-negative value.
    sqlite_template = "CAST(%(expressions)s AS INTEGER)"


class _UtcDay(_PerDatabase):
    """The UTC day of a timestamp, computed natively (TruncDate is a Python function on SQLite)."""

    output_field = DateField()
    sqlite_template = "substr(%(expressions)s, 1, 10)"
    postgresql_template = "(%(expressions)s AT TIME ZONE 'UTC')::date"


class _IsoUtc(_PerDatabase):
    """A timestamp as microsecond ISO-8601 UTC text (apps.audit.canonical.format_timestamp)."""

    output_field = TextField()
    # Django stores "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC and drops a zero fraction.
    sqlite_template = (
        "(CASE WHEN length(%(expressions)s) = 19 THEN replace(%(expressions)s, ' ', 'T') || '.000000Z'"
        " ELSE replace(%(expressions)s, ' ', 'T') || 'Z' END)"
    )
    postgresql_template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


class _JsonValue(_PerDatabase):
    """A JSON column as a nested value of JSONObject (SQLite stores it as text)."""

    output_field = JSONField()
    sqlite_template = "json(%(expressions)s)"
    postgresql_template = "%(expressions)s"
