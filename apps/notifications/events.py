"""The audit actions the notifications app writes, declared once for the writer and every reader."""


class NotificationEvents:
    RESENT = "notification.resent"
    DEAD_LETTERED = "notification.dead_lettered"
