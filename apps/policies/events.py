"""The audit actions the policies app writes, declared once for the writer and every reader."""


class PolicyEvents:
    CHANGED = "policy.changed"
    DRAFTED = "policy.drafted"
