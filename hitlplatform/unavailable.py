"""Which exceptions mean "a backing service is unavailable" (answered 503 + Retry-After, never 500):
the database refusing or dropping connections, the connection pool exhausted, the broker down."""

from django.conf import settings
from django.db import InterfaceError as DjangoInterfaceError
from django.db import OperationalError as DjangoOperationalError

RETRY_AFTER_SECONDS = getattr(settings, "UNAVAILABLE_RETRY_AFTER_SECONDS", 5)


def unavailable_exceptions() -> tuple[type[BaseException], ...]:
    kinds: list[type[BaseException]] = [DjangoOperationalError, DjangoInterfaceError]
    try:
        from kombu.exceptions import OperationalError as BrokerOperationalError

        kinds.append(BrokerOperationalError)
    except ImportError:  # pragma: no cover - kombu comes with Celery
        pass
    try:
        from psycopg_pool import PoolTimeout

        kinds.append(PoolTimeout)
    except ImportError:  # the pool is optional (PostgreSQL only)
        pass
    return tuple(kinds)


def is_unavailable(exception: BaseException) -> bool:
    # SQLite's "database is locked" is an OperationalError too: contention, also best answered "retry shortly".
    return isinstance(exception, unavailable_exceptions())
