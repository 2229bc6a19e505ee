"""The README's "Five minutes as an integrator", run as written against a fresh `make run`.

The `sh` blocks of that section run in one bash (with `set -euo pipefail`, so a failing command,
e.g. `verify_audit` exiting 1, fails the test), pointed at the test's port. Each `# -> ` comment
documents what the command before it answers: an optional HTTP status, then either a JSON object
(`..` stands for any value, `{...}` for any object, a trailing `...` for further keys, a string
ending in `..` for any continuation) or a line of text (`..` for any run of characters). The test
checks each against the real answer, and that every request was answered with a 2xx.
"""

import json
import re
import shutil
import subprocess

import pytest

from .makerun import ROOT, MakeRun

pytestmark = pytest.mark.slow

SECTION = "## Five minutes as an integrator"
OUTCOME = re.compile(r"^(?P<command>.*?)\s*# -> (?P<outcome>.+)$")
MARK = "@@OUTCOME {}@@"
HTTP = re.compile(r"^@@HTTP (\d{3})@@$", re.MULTILINE)
ANY = "@@any@@"
# Every curl of the walkthrough, with its status on stderr (outside any `$(...)` that captures its body).
PRELUDE = """\
set -euo pipefail
exec 2>&1
curl() {
  local body status
  body=$(mktemp)
  status=$(command curl "$@" -o "$body" -w '%{http_code}') || { rm -f "$body"; return 1; }
  cat "$body"; rm -f "$body"
  printf '\\n@@HTTP %s@@\\n' "$status" >&2
}
outcome() { printf '\\n@@OUTCOME %s@@\\n' "$1"; }
"""


def walkthrough() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", len(SECTION))]
    blocks = re.findall(r"^```sh\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)
    assert blocks, "no sh block in the README's integrator walkthrough"
    return "\n".join(blocks)


def instrument(script: str) -> tuple[str, list[str]]:
    """Each `# -> ` comment becomes a marker printed after the command it documents."""
    lines, outcomes = [], []
    for line in script.splitlines():
        found = OUTCOME.match(line)
        if found is None:
            lines.append(line)
            continue
        outcomes.append(found["outcome"].strip())
        command = found["command"].rstrip()
        lines.append(f"{command}; outcome {len(outcomes)}" if command else f"outcome {len(outcomes)}")
    return "\n".join(lines) + "\n", outcomes


def expected_json(documented: str):
    """The README's shorthand as JSON, with ANY where anything goes."""
    text = re.sub(r"\{\.\.\.\}|\[\.\.\.\]", f'"{ANY}"', documented)
    text = re.sub(r",\s*\.\.\.\s*(?=[}\]])", "", text)
    text = re.sub(r"(?<=[:\[,]\s)\.\.(?=\s*[,}\]])", f'"{ANY}"', text)
    return json.loads(text)


def matches(expected, actual) -> bool:
    if expected == ANY:
        return True
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and matches(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(matches(one, other) for one, other in zip(expected, actual, strict=True))
        )
    if isinstance(expected, str) and expected.endswith(".."):
        return isinstance(actual, str) and actual.startswith(expected[:-2])
    return expected == actual


def last_json_object(output: str):
    for line in reversed(output.splitlines()):
        if line.strip().startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def check(documented: str, output: str) -> None:
    status, _space, rest = documented.partition(" ")
    if not (len(status) == 3 and status.isdigit()):
        status, rest = None, documented
    if status is not None:
        answered = HTTP.findall(output)
        assert answered and answered[-1] == status, f"expected HTTP {status}, got {answered}:\n{output[-3000:]}"
    if rest.startswith("{"):
        actual = last_json_object(output)
        assert matches(expected_json(rest), actual), f"documented: {rest}\nanswered: {actual}"
    else:
        pattern = ".+?".join(re.escape(part) for part in rest.split(".."))
        assert re.search(pattern, output), f"documented: {rest}\nprinted:\n{output[-3000:]}"


@pytest.fixture
def make_run(tmp_path):
    running = MakeRun(tmp=tmp_path)
    yield running.start()
    running.kill()


def test_the_shorthand_of_documented_answers():
    # (the checker itself: what the README's `# ->` lines mean)
    documented = '{"id": .., "status": "pending", "routing": {...}, "key": "hitl_ak_..", "x": {"a": 1, ...}, ...}'
    expected = expected_json(documented)
    answer = {
        "id": 8,
        "status": "pending",
        "routing": {"rule": "r"},
        "key": "hitl_ak_12",
        "x": {"a": 1, "b": 2},
        "y": 0,
    }
    assert matches(expected, answer)
    assert not matches(expected, answer | {"status": "approved"})
    assert not matches(expected, answer | {"key": "hitl_ut_12"})
    assert not matches(expected, {key: value for key, value in answer.items() if key != "id"})
    script, outcomes = instrument("A=$(x)\ncurl -s a  # -> 200 {}\necho b\n# -> b\n")
    assert outcomes == ["200 {}", "b"]
    assert script == "A=$(x)\ncurl -s a; outcome 1\necho b\noutcome 2\n"


@pytest.mark.skipif(not shutil.which("curl"), reason="curl is not installed")
def test_the_integrator_walkthrough_runs_as_written_on_a_fresh_make_run(make_run):
    # given a fresh `make run` (migrated, demo data) and the walkthrough as the README prints it
    script, outcomes = instrument(walkthrough().replace("http://127.0.0.1:8000", make_run.url))
    assert len(outcomes) >= 8, "the walkthrough documents what each step answers"

    # when a newcomer pastes it into a shell in the checkout
    result = subprocess.run(
        ["bash", "-c", PRELUDE + script],
        cwd=ROOT,
        env=make_run.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )

    # then every command succeeds (verify_audit included), every request gets a 2xx ...
    output = result.stdout
    assert result.returncode == 0, output[-6000:]
    assert all(status.startswith("2") for status in HTTP.findall(output)), HTTP.findall(output)
    # ... and each step answers what the README says it does
    segments = re.split(r"\n@@OUTCOME \d+@@\n", output)
    assert len(segments) == len(outcomes) + 1, output[-6000:]
    for documented, segment in zip(outcomes, segments, strict=False):
        check(documented, segment)
