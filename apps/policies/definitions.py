"""Parsing and validation of policy definitions (the YAML shape of DESIGN.md)."""

import re
from datetime import timedelta

import yaml
from django.utils.translation import gettext as _

from hitlplatform.errors import InvalidInput

from .models import Mode, OnExpiry
from .routing import CONDITION_KEYS, EXPOSURE_LEVELS

_DURATION = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
# The keys of a rule in the YAML shape, in the order the YAML and the admin show them.
RULE_FIELDS = (
    "name",
    "action_type",
    "agent",
    "when",
    "mode",
    "min_confidence",
    "approvals_required",
    "queue",
    "sla",
    "escalation",
    "on_expiry",
    "sample_rate",
    "min_samples_per_day",
    "required_authorization_level",
)
RULE_KEYS = frozenset(RULE_FIELDS)


def parse_duration(text) -> timedelta:
    match = _DURATION.match(str(text).strip())
    if not match:
        raise ValueError(_("%(value)s is not a duration like 90s, 30m, 4h or 2d.") % {"value": text})
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def format_duration(duration: timedelta | None) -> str | None:
    if duration is None:
        return None
    seconds = int(duration.total_seconds())
    for suffix, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{suffix}"
    return f"{seconds}s"


def policy_rules_from_yaml(text: str) -> list[dict]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInput(_("The policy is not valid YAML: %(error)s") % {"error": error}) from error
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list) or not document["rules"]:
        raise InvalidInput(
            _("A policy is a mapping with a non-empty list of rules."), fields={"rules": [_("Required.")]}
        )
    return policy_rules_validate(document["rules"])


def policy_rules_validate(rules: list) -> list[dict]:
    """Clean rule dicts ready for PolicyRule(**rule); raises InvalidInput naming rule and field."""
    errors: dict[str, list[str]] = {}
    cleaned, names = [], set()
    for index, rule in enumerate(rules):
        label = f"rules[{index}]"
        if not isinstance(rule, dict):
            errors[label] = [_("A rule is a mapping.")]
            continue
        problems: list[str] = []
        result = _rule_clean(rule, problems)
        if result.get("name") in names:
            problems.append(_("Duplicate rule name %(name)s.") % {"name": result["name"]})
        names.add(result.get("name"))
        if problems:
            errors[f"{label} ({rule.get('name', '?')})"] = problems
        else:
            cleaned.append(result | {"priority": (index + 1) * 10})
    if errors:
        raise InvalidInput(_("The policy has invalid rules."), fields=errors)
    return cleaned


def _rule_clean(rule: dict, problems: list[str]) -> dict:
    unknown = set(rule) - RULE_KEYS
    if unknown:
        problems.append(_("Unknown keys: %(keys)s.") % {"keys": ", ".join(sorted(unknown))})
    result: dict = {}
    for key in ("name", "action_type"):
        value = rule.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(_("%(key)s is required.") % {"key": key})
        else:
            result[key] = value.strip()
    result["agent"] = str(rule.get("agent", "*"))
    mode = rule.get("mode")
    if mode not in Mode.values:
        problems.append(_("mode must be one of %(modes)s.") % {"modes": ", ".join(Mode.values)})
    result["mode"] = mode
    result["when"] = _when_clean(rule.get("when") or {}, problems)
    result["min_confidence"] = _number(rule, "min_confidence", None, 0.0, 1.0, problems)
    result["sample_rate"] = _number(rule, "sample_rate", 0.0, 0.0, 1.0, problems)
    result["approvals_required"] = _integer(rule, "approvals_required", 1, 1, 10, problems)
    result["min_samples_per_day"] = _integer(rule, "min_samples_per_day", 0, 0, 10_000, problems)
    result["required_authorization_level"] = _integer(rule, "required_authorization_level", 0, 0, 100, problems)
    result["queue"] = str(rule.get("queue", "default"))
    result["on_expiry"] = rule.get("on_expiry", OnExpiry.REJECT)
    if result["on_expiry"] not in OnExpiry.values:
        problems.append(_("on_expiry must be one of %(values)s.") % {"values": ", ".join(OnExpiry.values)})
    escalation = rule.get("escalation", [])
    if not isinstance(escalation, list) or not all(isinstance(queue, str) for queue in escalation):
        problems.append(_("escalation must be a list of queue names."))
    result["escalation"] = list(escalation) if isinstance(escalation, list) else []
    result["sla"] = None
    if rule.get("sla") is not None:
        try:
            result["sla"] = parse_duration(rule["sla"])
        except ValueError as error:
            problems.append(str(error))
    return result


def _when_clean(when, problems: list[str]) -> dict:
    if not isinstance(when, dict):
        problems.append(_("when must be a mapping."))
        return {}
    unknown = set(when) - set(CONDITION_KEYS)
    if unknown:
        problems.append(_("Unknown conditions: %(keys)s.") % {"keys": ", ".join(sorted(unknown))})
    cleaned = {}
    if "irreversible" in when:
        if not isinstance(when["irreversible"], bool):
            problems.append(_("when.irreversible must be true or false."))
        cleaned["irreversible"] = when["irreversible"]
    for key in ("max_blast_radius", "min_blast_radius"):
        if key in when:
            if not isinstance(when[key], int) or isinstance(when[key], bool) or when[key] < 0:
                problems.append(_("when.%(key)s must be a whole number, 0 or more.") % {"key": key})
            cleaned[key] = when[key]
    if "compliance_exposure" in when:
        levels = when["compliance_exposure"]
        levels = [levels] if isinstance(levels, str) else levels
        if not isinstance(levels, list) or not set(levels) <= set(EXPOSURE_LEVELS):
            problems.append(_("when.compliance_exposure must list levels of none, low, high."))
        cleaned["compliance_exposure"] = levels
    return cleaned


def _number(rule, key, default, low, high, problems):
    value = rule.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        problems.append(
            _("%(key)s must be a number from %(low)s to %(high)s.") % {"key": key, "low": low, "high": high}
        )
        return default
    return float(value)


def _integer(rule, key, default, low, high, problems):
    value = rule.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append(
            _("%(key)s must be a whole number from %(low)s to %(high)s.") % {"key": key, "low": low, "high": high}
        )
        return default
    return value
