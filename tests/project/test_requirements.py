"""tests/requirements.py: what a test misses skips it with the reason, or fails it where
HITL_REQUIRE_SERVICES=1 (CI and `make test-all`)."""

import socket

import pytest

from tests.requirements import require_module, require_program, require_url

MISSING = [
    (lambda: require_module("hitl_no_such_module"), "hitl_no_such_module is not installed"),
    (lambda: require_program("hitl-no-such-program", "apt-get install it"), "hitl-no-such-program is missing"),
    (lambda: require_url("HITL_TEST_NO_SUCH_URL", "redis broker"), "HITL_TEST_NO_SUCH_URL is not set: no redis broker"),
]


@pytest.mark.parametrize(("needs", "reason"), MISSING)
def test_what_is_missing_skips_the_test_with_the_reason(monkeypatch, needs, reason):
    # given
    monkeypatch.delenv("HITL_REQUIRE_SERVICES", raising=False)
    # when / then
    with pytest.raises(pytest.skip.Exception, match=reason):
        needs()


@pytest.mark.parametrize(("needs", "reason"), MISSING)
def test_what_is_missing_fails_the_test_where_services_are_required(monkeypatch, needs, reason):
    # given
    monkeypatch.setenv("HITL_REQUIRE_SERVICES", "1")
    # when / then
    with pytest.raises(pytest.fail.Exception, match=rf"{reason}.*\(HITL_REQUIRE_SERVICES=1\)"):
        needs()


def test_a_service_that_does_not_answer_is_missing(monkeypatch):
    # given: a port where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HITL_TEST_CLOSED_URL", f"redis://127.0.0.1:{port}/0")
    monkeypatch.setenv("HITL_REQUIRE_SERVICES", "1")
    # when / then
    with pytest.raises(pytest.fail.Exception, match=f"the redis broker at redis://127.0.0.1:{port}/0 does not answer"):
        require_url("HITL_TEST_CLOSED_URL", "redis broker")


def test_what_is_there_is_returned(monkeypatch):
    # given: a listening socket
    with socket.create_server(("127.0.0.1", 0)) as server:
        url = f"redis://127.0.0.1:{server.getsockname()[1]}/0"
        monkeypatch.setenv("HITL_TEST_OPEN_URL", url)
        monkeypatch.setenv("HITL_REQUIRE_SERVICES", "1")
        # when / then
        assert require_url("HITL_TEST_OPEN_URL", "redis broker") == url
    assert require_module("json").__name__ == "json"
    assert require_program("sh", "apt-get install dash").endswith("/sh")
