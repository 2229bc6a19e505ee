"""The audit actions the accounts app writes, declared once for the writer and every reader."""


class AccountEvents:
    LOGIN = "auth.login"
    LOGOUT = "auth.logout"
    LOGIN_FAILED = "auth.login_failed"
    LOCKED_OUT = "auth.locked_out"
    PASSWORD_CHANGED = "auth.password_changed"
    USER_CREATED = "user.created"
    ROLE_GRANTED = "role.granted"
    ROLE_REVOKED = "role.revoked"
    PERMISSION_GRANTED = "permission.granted"
    PERMISSION_REVOKED = "permission.revoked"
    QUEUE_CREATED = "queue.created"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    SIGNATURE_FAILED = "auth.signature_failed"
    SIGNING_LOCKED = "auth.signing_locked"
