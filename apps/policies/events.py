"""The audit actions the policies app writes, declared once for the writer and every reader."""


class PolicyEvents:
    UNSTAFFED_ACCEPTED = "policy.unstaffed_accepted"
    CHANGED = "policy.changed"
    DRAFTED = "policy.drafted"
