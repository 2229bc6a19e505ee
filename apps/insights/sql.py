"""Database functions the figures need: elapsed seconds and PERCENTILE_CONT (PostgreSQL)."""

from django.db.models import Aggregate, FloatField, Func


class SecondsBetween(Func):
    """end - start in seconds, as a float, on PostgreSQL and SQLite."""

    output_field = FloatField()
    arity = 2

    def __init__(self, start, end, **extra):
        super().__init__(end, start, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision",
            arg_joiner=" - ",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra,
        )


class PercentilesCont(Aggregate):
    """PostgreSQL's ordered-set aggregate: continuous percentiles of the expression in the group,
    as an array, from one sort."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(ARRAY[%(fractions)s]::double precision[]) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression, *, fractions: tuple[float, ...], **extra):
        from django.contrib.postgres.fields import ArrayField  # PostgreSQL only, like the function

        text = ", ".join(repr(float(fraction)) for fraction in fractions)
        super().__init__(expression, fractions=text, output_field=ArrayField(FloatField()), **extra)
