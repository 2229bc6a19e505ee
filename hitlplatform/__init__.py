from .celery import app as celery_app

__all__ = ("celery_app",)
from . import (
    dbpool,  # noqa: F401 - registers the after-fork hook of connection pools
    pg_arrays,  # noqa: F401 - registers the faster text-array dumper of psycopg
)
