"""Signing in, the start page of each role, the password and the profile."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Role
from apps.accounts.selectors import user_has_role, user_roles
from apps.accounts.services import user_password_change

from .. import selectors
from .common import SIGNING_SESSION_KEY


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return start_page_of(self.request.user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(idle_minutes=settings.SESSION_IDLE_TIMEOUT // 60, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        self.request.session.pop(SIGNING_SESSION_KEY, None)
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("review:profile")

    def form_valid(self, form):
        user_password_change(
            user=self.request.user, password=form.cleaned_data["new_password1"], actor=self.request.user
        )
        # Keep this session signed in; every other session of the user ends with the old hash.
        auth_views.update_session_auth_hash(self.request, self.request.user)
        messages.success(self.request, _("Your password was changed."))
        return redirect(self.get_success_url())


def home(request):
    return redirect(start_page_of(request.user) if request.user.is_authenticated else reverse("review:queue"))


def start_page_of(user, queues=None) -> str:
    """Where a user's work is: the queue for a reviewer, the compliance area, or the admin."""
    if queues is None:
        queues = selectors.review_queues_of(user)
    if queues:
        return reverse("review:queue")
    if user_has_role(user, Role.COMPLIANCE_OFFICER):
        return reverse("compliance:dashboard")
    if user_has_role(user, Role.ADMIN):
        return reverse("admin:index") if user.is_staff else reverse("compliance:dashboard")
    return reverse("review:queue")


@login_required
def profile(request):
    profile = getattr(request.user, "reviewer_profile", None)
    context = {
        "profile": profile,
        "licence_valid": profile is None or profile.licence_valid_on(timezone.localdate()),
        "roles": sorted(str(Role(role).label) for role in user_roles(request.user) if role in Role.values),
        "queues": selectors.review_queues_of(request.user),
    }
    return render(request, "review/profile.html", context)
