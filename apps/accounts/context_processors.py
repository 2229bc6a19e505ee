"""Template context: which areas of the web app the signed-in user's roles open."""

from .models import Role
from .selectors import user_has_role, user_may_decide


def roles(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"oversees": False, "decides": False}
    # Roles are read once per request (cached on the user), so both answers cost one query at most.
    return {"oversees": user_has_role(user, Role.COMPLIANCE_OFFICER, Role.ADMIN), "decides": user_may_decide(user)}
