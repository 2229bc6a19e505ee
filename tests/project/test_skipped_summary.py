"""The end of a test run names each group skipped for want of a service, and how to enable it."""

import os
import subprocess
import sys

from tests.skipped_summary import group_of

from .makerun import ROOT

SKIPPING_TESTS = """
import pytest

def test_redis():
    pytest.skip("HITL_TEST_REDIS_URL is not set: no redis broker to run a real worker against")

def test_rabbitmq():
    pytest.skip("the amqp broker at amqp://127.0.0.1:1// does not answer")

@pytest.mark.skipif(True, reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
def test_postgresql():
    pass

def test_postgresql_settings():
    pytest.skip("PostgreSQL settings; this pass runs on SQLite")

def test_for_no_service():
    pytest.skip("not today")

def test_that_runs():
    pass
"""


def run_pytest(tmp_path, source: str, **environment) -> str:
    (tmp_path / "test_sample.py").write_text(source)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-ra",
            "-p",
            "tests.skipped_summary",
            "-p",
            "no:django",
            "-p",
            "no:cacheprovider",
        ],
        cwd=tmp_path,
        env={key: value for key, value in os.environ.items() if key != "HITL_REQUIRE_SERVICES"}
        | {"PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stdout


def test_the_last_lines_count_each_skipped_group_and_say_how_to_enable_it(tmp_path):
    output = run_pytest(tmp_path, SKIPPING_TESTS)

    closing = output[output.index("short test summary info") :].splitlines()
    lines = closing[closing.index(next(line for line in closing if "skipped for want of" in line)) + 1 : -1]
    assert lines == [
        "   1 need Redis       enable with: HITL_TEST_REDIS_URL=redis://127.0.0.1:6379/15 make test",
        "   1 need RabbitMQ    enable with: HITL_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5672// make test",
        "   2 need PostgreSQL  enable with: DATABASE_URL=postgres://postgres@127.0.0.1:5432/hitl make test",
        "all service groups at once, against local Redis, RabbitMQ and PostgreSQL: make test-all",
    ]
    assert "1 passed, 5 skipped" in closing[-1]


def test_a_run_that_skips_no_group_ends_as_usual(tmp_path):
    output = run_pytest(tmp_path, "import pytest\n\ndef test_later():\n    pytest.skip('not today')\n")

    assert "1 skipped" in output
    assert "skipped for want of" not in output and "make test-all" not in output


def test_make_test_all_leaves_out_the_other_databases_pass(tmp_path):
    # (with HITL_REQUIRE_SERVICES=1 a missing broker fails; the PostgreSQL pass runs the PostgreSQL tests)
    output = run_pytest(tmp_path, SKIPPING_TESTS, HITL_REQUIRE_SERVICES="1")

    assert "need Redis" in output and "need PostgreSQL" not in output and "make test-all" not in output


def test_the_first_name_in_a_reason_decides_its_group():
    assert group_of("SQLite settings; this pass runs on PostgreSQL") == "SQLite"
    assert group_of("multi-process concurrency runs in the PostgreSQL pass (DATABASE_URL=postgres://...)") == (
        "PostgreSQL"
    )
    assert group_of("/usr/bin/chromium is missing (apt-get install chromium)") == "Chromium"
    assert group_of("pdftoppm (poppler-utils) is not installed") == "poppler"
    assert group_of("the test database is in memory: a worker process cannot share it") is None
