"""The audit actions the agents app writes, declared once for the writer and every reader."""


class AgentEvents:
    CREATED = "agent.created"
    KEY_ISSUED = "agent.key_issued"
    KEYS_REVOKED = "agent.keys_revoked"
    SUSPENDED = "agent.suspended"
    RESUMED = "agent.resumed"
