"""The last lines of a test run: which groups of tests were skipped for want of a service or a
tool, and the line that enables each (`make test-all` runs them all against local services).

Tests name what they miss in their skip reason ("HITL_TEST_REDIS_URL is not set", "needs
PostgreSQL", "/usr/bin/chromium is missing"); a reason's first known name decides its group.
"""

import os
import re

import pytest

GROUPS = [
    # name, words of a skip reason, the line that enables the group
    ("Redis", ("redis",), "HITL_TEST_REDIS_URL=redis://127.0.0.1:6379/15 make test"),
    ("RabbitMQ", ("amqp", "rabbitmq"), "HITL_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5672// make test"),
    ("PostgreSQL", ("postgresql", "postgres"), "DATABASE_URL=postgres://postgres@127.0.0.1:5432/hitl make test"),
    ("SQLite", ("sqlite",), "env -u DATABASE_URL make test"),
    ("Chromium", ("chromium",), "apt-get install chromium"),
    ("poppler", ("pdftoppm", "poppler"), "apt-get install poppler-utils"),
]
DATABASES = {"PostgreSQL", "SQLite"}
SERVICES = {"Redis", "RabbitMQ", *DATABASES}


def group_of(reason: str) -> str | None:
    """The group whose word comes first in the reason, if any."""
    reason = reason.lower()
    found = []
    for name, words, _line in GROUPS:
        positions = [match.start() for word in words for match in re.finditer(re.escape(word), reason)]
        if positions:
            found.append((min(positions), name))
    return min(found)[1] if found else None


def skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def skipped_groups(reports) -> dict[str, int]:
    counts = {}
    for report in reports:
        name = group_of(skip_reason(report))
        if name is not None:
            counts[name] = counts.get(name, 0) + 1
    return counts


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    # The outermost wrapper: these lines come after pytest's own short summary.
    yield
    counts = skipped_groups(terminalreporter.stats.get("skipped", []))
    if os.environ.get("HITL_REQUIRE_SERVICES") == "1":
        # `make test-all` or CI: a missing service fails, and the other pass runs the other database's tests.
        counts = {name: count for name, count in counts.items() if name not in DATABASES}
    if not counts:
        return
    terminalreporter.section("skipped for want of a service or a tool", sep="-", yellow=True)
    for name, _words, line in GROUPS:
        if name in counts:
            terminalreporter.write_line(f"{counts[name]:>4} need {name:<11} enable with: {line}")
    if SERVICES & set(counts) and os.environ.get("HITL_REQUIRE_SERVICES") != "1":
        terminalreporter.write_line(
            "all service groups at once, against local Redis, RabbitMQ and PostgreSQL: make test-all"
        )
