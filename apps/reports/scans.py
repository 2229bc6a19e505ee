"""SQLite only: read a period that holds most of a table by scanning the table, not the index.

Without statistics SQLite takes any range on an indexed column as selective, so a period holding
most proposals is read through `proposal_created` plus one table lookup per row. For such a
period a plain scan is six times cheaper (1.35M proposals, 30 days of 30: 10.0 -> 1.55 s wall,
3.6 -> 0.6 s CPU). PostgreSQL's planner has the statistics and chooses on its own.
"""

from datetime import datetime

from django.db import connection
from django.db.models import DateTimeField, F, Func, QuerySet

# Above this share of the table a scan beats the index lookups.
SCAN_ABOVE_SHARE = 0.2


def period_filter(queryset: QuerySet, *, field: str, since: datetime, until: datetime) -> QuerySet:
    """`queryset` narrowed to since <= field < until, by scan or index, whichever is cheaper."""
    in_period = queryset.filter(**{f"{field}__gte": since, f"{field}__lt": until})
    if connection.vendor != "sqlite":
        return in_period
    rows = queryset.model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    if in_period.order_by().count() <= SCAN_ABOVE_SHARE * rows:
        return in_period
    # A unary plus leaves the value as it is and keeps SQLite from using an index on it.
    unindexed = Func(F(field), template="+%(expressions)s", output_field=DateTimeField())
    return queryset.alias(_scanned=unindexed).filter(_scanned__gte=since, _scanned__lt=until)
