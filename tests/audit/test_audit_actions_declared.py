"""Every audit action a writer passes is a declared constant of its app's `events.py`, and the
README's table of actions is the generated one."""

import ast
import re
from pathlib import Path

from apps.reports.audit_actions import audit_actions, audit_actions_markdown

ROOT = Path(__file__).resolve().parents[2]
WRITERS = {"audit_record", "_audit_admin_change", "_new_event"}


def _source_files():
    for path in sorted((ROOT / "apps").rglob("*.py")):
        if "migrations" in path.parts or "offline" in path.parts:
            continue
        yield path


def _action_values(tree):
    """Every expression given as an audit action: `action=` of a writer call, "action" of a dict."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if callee in WRITERS:
                yield from (keyword.value for keyword in node.keywords if keyword.arg == "action")
                if callee == "_audit_admin_change" and node.args:
                    yield node.args[0]
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "action":
                    yield value


def _constants_in(expression):
    for node in ast.walk(expression):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id.endswith("Events"):
            yield f"{node.value.id}.{node.attr}"


def test_no_writer_passes_an_action_as_a_literal():
    literals = [
        f"{path.relative_to(ROOT)}:{value.lineno} {ast.unparse(value)}"
        for path in _source_files()
        for value in _action_values(ast.parse(path.read_text()))
        if isinstance(value, ast.Constant | ast.JoinedStr)
    ]
    assert literals == [], "declare these in the app's events.py and use the constant"


def test_every_constant_a_writer_uses_is_declared():
    declared = {constant for _action, _app, constant in audit_actions()}
    used = {
        constant
        for path in _source_files()
        for value in _action_values(ast.parse(path.read_text()))
        for constant in _constants_in(value)
    }
    assert used, "the scan found no writer: it would pass whatever the code does"
    assert used - declared == set()


def test_each_action_is_declared_once_and_well_formed():
    actions = [action for action, _app, _constant in audit_actions()]
    assert len(actions) == len(set(actions))
    assert all(re.fullmatch(r"[a-z_]+\.[a-z_]+", action) for action in actions)
    assert {"proposal.submitted", "decision.recorded", "policy.changed", "audit.redacted"} <= set(actions)


def test_the_readme_lists_the_generated_table():
    readme = (ROOT / "README.md").read_text()
    section = re.search(r"<!-- audit-actions:start -->\n(.*)<!-- audit-actions:end -->", readme, re.S)
    assert section is not None
    assert section.group(1) == audit_actions_markdown(), "regenerate it with `manage.py audit_actions`"
