"""The catalogue of audit actions: every app's `events.py`, gathered for auditors and the README."""

import importlib

from django.apps import apps as django_apps

# The event classes' docstring-free constants are the catalogue; each app owns the actions it writes.
EVENT_MODULE = "events"


def audit_actions() -> list[tuple[str, str, str]]:
    """(action, app label, constant) for every declared audit action, sorted by action."""
    found = []
    for config in django_apps.get_app_configs():
        if not config.name.startswith("apps."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.{EVENT_MODULE}")
        except ModuleNotFoundError:
            continue
        for class_name, events in vars(module).items():
            if not (isinstance(events, type) and class_name.endswith("Events")):
                continue
            for constant, action in vars(events).items():
                if constant.isupper() and isinstance(action, str):
                    found.append((action, config.label, f"{class_name}.{constant}"))
    return sorted(found)


def audit_actions_markdown() -> str:
    lines = ["| action | written by | constant |", "|---|---|---|"]
    lines += [f"| `{action}` | {app} | `{constant}` |" for action, app, constant in audit_actions()]
    return "\n".join(lines) + "\n"
