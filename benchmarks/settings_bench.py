"""The production settings plus the one-table baseline app of the intake benchmark."""

from hitlplatform.settings import *  # noqa: F403
from hitlplatform.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks.bare"]
ROOT_URLCONF = "benchmarks.bare.urls"
MIGRATION_MODULES = {"bench_bare": None}  # created with --run-syncdb, never shipped
