"""What a test needs from outside the code under test (a broker, a tool, an optional module) and what
happens when it is missing: a skip that names it, or, where HITL_REQUIRE_SERVICES=1 (CI and
`make test-all`), a failure, so that a run meant to test everything cannot pass by skipping.

The skip reason names the service ("redis", "amqp", "chromium", "pdftoppm"): tests/skipped_summary.py
groups the skipped tests by it.
"""

import importlib
import os
import shutil
from types import ModuleType
from typing import NoReturn

import pytest

from tests.processes import reachable

REQUIRE_SERVICES = "HITL_REQUIRE_SERVICES"
EXTRAS_HINT = "make venv installs the SDK with every framework extra"


def unavailable(reason: str) -> NoReturn:
    """Skip the test for want of what `reason` names; fail it where every service is required."""
    if os.environ.get(REQUIRE_SERVICES) == "1":
        pytest.fail(f"{reason} ({REQUIRE_SERVICES}=1)")
    pytest.skip(reason)


def require_module(name: str) -> ModuleType:
    """The optional module `name` (the SDK, a framework of one of its extras)."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        unavailable(f"{name} is not installed ({EXTRAS_HINT}): {error}")


def require_url(variable: str, service: str) -> str:
    """The URL in the environment variable `variable`, once the `service` there accepts a connection."""
    url = os.environ.get(variable)
    if not url:
        unavailable(f"{variable} is not set: no {service}")
    if not reachable(url):
        unavailable(f"the {service} at {url} does not answer")
    return url


def require_program(path_or_name: str, install: str) -> str:
    """The executable `path_or_name` (a command on PATH, or an absolute path) with its full path."""
    found = shutil.which(path_or_name)
    if found is None:
        unavailable(f"{path_or_name} is missing ({install})")
    return found
