"""Template context: which areas of the web app the signed-in user's roles open."""

from .models import Role
from .selectors import user_has_role


def roles(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"oversees": False}
    return {"oversees": user_has_role(user, Role.COMPLIANCE_OFFICER, Role.ADMIN)}
