"""Admin of policies: versions are read-only; a change is a new draft that another admin activates.

Four eyes on configuration (SOC 2 CC8.1): `policy_version_activate` refuses the drafter.
Drafting and activation are audited by the policies services.
"""

import yaml
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from apps.audit.admin_mixins import ReadOnlyInline
from hitlplatform.errors import DomainError

from .models import PolicyRule, PolicyVersion
from .services import policy_load_yaml, policy_version_activate, rule_definition
from .wording import condition_words, duration_words


class PolicyDraftForm(forms.Form):
    source = forms.CharField(
        label=gettext_lazy("Rules (YAML)"),
        widget=forms.Textarea(attrs={"rows": 28, "cols": 100, "class": "vLargeTextField", "spellcheck": "false"}),
    )
    comment = forms.CharField(label=gettext_lazy("What changes and why"), max_length=500)


class PolicyRuleInline(ReadOnlyInline):
    """The rules in words, one narrow row each (raw JSON columns made the table 1,600 px wide)."""

    model = PolicyRule
    fields = ["priority", "name", "applies_to", "mode_words", "decision_words", "escalation_words"]
    show_change_link = False

    @admin.display(description=gettext_lazy("applies to"))
    def applies_to(self, rule):
        agent = _("any agent") if rule.agent == "*" else rule.agent
        conditions = [condition_words(key, value) for key, value in (rule.when or {}).items()]
        return format_html_join(
            "", "<div>{}</div>", [(f"{rule.action_type} · {agent}",), *[(condition,) for condition in conditions]]
        )

    @admin.display(description=gettext_lazy("mode"))
    def mode_words(self, rule):
        words = [rule.get_mode_display()]
        if rule.min_confidence is not None and rule.mode != "pre_approval":
            words.append(_("needs confidence ≥ %(value)s") % {"value": formats.number_format(rule.min_confidence, 2)})
        if rule.mode == "post_review":
            words.append(_("samples %(rate)s %%") % {"rate": formats.number_format(rule.sample_rate * 100, 1)})
        return format_html_join("", "<div>{}</div>", ((word,) for word in words))

    @admin.display(description=gettext_lazy("who decides, by when"))
    def decision_words(self, rule):
        if rule.mode != "pre_approval":
            return "—"
        words = [
            ngettext("%(count)s approval in %(queue)s", "%(count)s approvals in %(queue)s", rule.approvals_required)
            % {"count": rule.approvals_required, "queue": rule.queue}
        ]
        if rule.sla:
            words.append(_("within %(sla)s") % {"sla": duration_words(rule.sla)})
        if rule.required_authorization_level:
            words.append(_("level %(level)s or higher") % {"level": rule.required_authorization_level})
        return format_html_join("", "<div>{}</div>", ((word,) for word in words))

    @admin.display(description=gettext_lazy("escalation"))
    def escalation_words(self, rule):
        tiers = list(rule.escalation or [])
        expiry = rule.get_on_expiry_display()
        if not tiers:
            return _("on expiry: %(outcome)s") % {"outcome": expiry}
        return _("%(tiers)s, then on expiry: %(outcome)s") % {"tiers": " → ".join(tiers), "outcome": expiry}


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = ["number", "status", "comment", "created_by", "created_at", "activated_by", "activated_at"]
    list_filter = ["status"]
    fields = readonly_fields = [
        "number",
        "status",
        "comment",
        "source_yaml",
        "created_by",
        "created_at",
        "activated_by",
        "activated_at",
    ]
    inlines = [PolicyRuleInline]
    actions = ["activate", "activate_unstaffed"]
    change_form_template = "admin/policies/policyversion/change_form.html"

    def has_change_permission(self, request, obj=None):
        return False  # a version never changes; "Draft a change" makes a new one

    @admin.display(description=gettext_lazy("source (YAML)"))
    def source_yaml(self, version):
        # In a <pre>: the admin's read-only text collapses the indentation that carries YAML's meaning.
        return format_html('<pre class="policy-yaml">{}</pre>', version.source) if version.source else "—"

    def has_delete_permission(self, request, obj=None):
        return False

    def has_draft_permission(self, request) -> bool:
        return request.user.has_perm("policies.add_policyversion")

    def get_urls(self):
        return [
            path("draft/", self.admin_site.admin_view(self.draft_view), name="policies_policyversion_draft"),
            path(
                "<int:version_id>/draft/",
                self.admin_site.admin_view(self.draft_view),
                name="policies_policyversion_draft_from",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect(reverse("admin:policies_policyversion_draft"))

    def draft_view(self, request, version_id: int | None = None):
        """Edit the rules of a version (or the active one) and save them as a new draft."""
        if not self.has_draft_permission(request):
            raise PermissionDenied
        base = get_object_or_404(PolicyVersion, pk=version_id) if version_id else _active_version()
        form = PolicyDraftForm(request.POST or None, initial={"source": _source_of(base)})
        if request.method == "POST" and form.is_valid():
            try:
                draft = policy_load_yaml(
                    text=form.cleaned_data["source"],
                    comment=form.cleaned_data["comment"],
                    actor=request.user,
                    activate=False,
                )
            except DomainError as error:
                form.add_error("source", str(error.message))
                for field_errors in error.fields.values():
                    for message in field_errors if isinstance(field_errors, list) else [field_errors]:
                        form.add_error("source", str(message))
            else:
                self.message_user(
                    request,
                    _("Draft version %(number)s saved. A different administrator must activate it.")
                    % {"number": draft.number},
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:policies_policyversion_change", args=[draft.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Draft a policy change"),
            "form": form,
            "base": base,
        }
        return TemplateResponse(request, "admin/policies/policyversion/draft.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "may_draft": self.has_draft_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=gettext_lazy("Activate the selected draft (four eyes)"), permissions=["view"])
    def activate(self, request, queryset):
        self._activate(request, queryset, allow_unstaffed=False)

    @admin.action(
        description=gettext_lazy("Activate the selected draft although a queue is unstaffed (audited warning)"),
        permissions=["view"],
    )
    def activate_unstaffed(self, request, queryset):
        self._activate(request, queryset, allow_unstaffed=True)

    def _activate(self, request, queryset, *, allow_unstaffed: bool):
        if not request.user.has_perm("policies.change_policyversion"):
            raise PermissionDenied
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one draft to activate."), messages.ERROR)
            return
        try:
            version = policy_version_activate(
                version=queryset.get(), actor=request.user, allow_unstaffed=allow_unstaffed
            )
        except DomainError as error:
            self.message_user(request, str(error.message), messages.ERROR)
        else:
            self.message_user(
                request, _("Policy version %(number)s is active.") % {"number": version.number}, messages.SUCCESS
            )


def _source_of(version) -> str:
    """The YAML a draft starts from: the version's own source, or its rules written out."""
    if version is None:
        return ""
    if version.source:
        return version.source
    rules = [
        {key: value for key, value in rule_definition(rule).items() if value not in (None, "", [], {})}
        for rule in version.rules.order_by("priority")
    ]
    return yaml.safe_dump({"rules": rules}, sort_keys=False, allow_unicode=True)


def _active_version():
    return PolicyVersion.objects.filter(status=PolicyVersion.Status.ACTIVE).first()
