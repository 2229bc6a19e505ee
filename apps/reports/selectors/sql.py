"""Database functions the report's queries need on PostgreSQL and SQLite."""

from django.db.models import (
    DateField,
    FloatField,
    Func,
    JSONField,
    TextField,
)


class _Floor(Func):
    """floor() of a non-negative number, natively (Floor is a Python function on SQLite)."""

    function = "FLOOR"
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        # CAST truncates toward zero: the floor of a non-negative value.
        return super().as_sql(compiler, connection, template="CAST(%(expressions)s AS INTEGER)", **extra)


class _UtcDay(Func):
    """The UTC day of a timestamp, computed natively (TruncDate is a Python function on SQLite)."""

    output_field = DateField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="substr(%(expressions)s, 1, 10)", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="(%(expressions)s AT TIME ZONE 'UTC')::date", **extra)


class _IsoUtc(Func):
    """A timestamp as microsecond ISO-8601 UTC text (apps.audit.canonical.format_timestamp)."""

    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC and drops a zero fraction.
        template = (
            "(CASE WHEN length(%(expressions)s) = 19 THEN replace(%(expressions)s, ' ', 'T') || '.000000Z'"
            " ELSE replace(%(expressions)s, ' ', 'T') || 'Z' END)"
        )
        return super().as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        return super().as_sql(compiler, connection, template=template, **extra)


class _JsonValue(Func):
    """A JSON column as a nested value of JSONObject (SQLite stores it as text)."""

    output_field = JSONField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="json(%(expressions)s)", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="%(expressions)s", **extra)
