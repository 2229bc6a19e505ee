"""The web server the tests and benchmarks start (tests.processes.WebServer) is the Procfile's."""

import shlex

from tests.processes import ROOT, web_server_command


def test_the_web_server_command_is_the_procfiles_web_line():
    procfile = (ROOT / "Procfile").read_text()
    web = next(line.removeprefix("web: ") for line in procfile.splitlines() if line.startswith("web: "))
    deployed = shlex.split(web.replace("${PORT:-8000}", "8000").replace("${WEB_CONCURRENCY:-2}", "2"))

    command = web_server_command(port=8000, workers=2)

    assert deployed[:2] == ["exec", ".venv/bin/gunicorn"]
    assert command[1:3] == ["-m", "gunicorn"]
    assert command[3:] == deployed[2:]
