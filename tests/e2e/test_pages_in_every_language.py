"""Every page as a reviewer and a compliance officer would meet it, in en, de and fr, on a
desktop (1440x900) and a phone (390x844): the decision context above the fold, charts that
draw in every language, no page wider than a phone, nothing fetched from another host, and
error pages inside the layout. Screenshots of each page land in /screenshots/ (git-ignored).
"""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client
from playwright.sync_api import expect

from apps.proposals.services import proposal_decide
from tests.e2e.conftest import PASSWORD
from tests.factories import decide

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
LANGUAGES = ["en", "de", "fr"]
LOCAL_HOSTS = {"localhost", "127.0.0.1"}


def forty_fields() -> dict:
    """A payout with 40 top-level fields, several nested two levels deep."""
    payload = {
        "amount": "12840.50",
        "currency": "EUR",
        "recipient": {"name": "Acme Supplies GmbH", "iban": "DE89370400440532013000", "address": {"city": "Köln"}},
        "lines": [{"invoice": f"INV-{n}", "amount": f"{n * 100}.00", "tags": ["q3", "net30"]} for n in range(1, 9)],
    }
    for n in range(len(payload), 40):
        payload[f"field_{n:02d}"] = {"note": f"value {n}", "flags": [n, n + 1]} if n % 5 == 0 else f"value {n}"
    return payload


@pytest.fixture
def stage(submit, reviewer, second_reviewer, compliance_officer, admin):
    """A working day: a big payout one reviewer approved, support changes decided and pending."""
    big = submit(
        action_type="payments.payout",
        payload=forty_fields(),
        summary="Pay out 8 supplier invoices to Acme Supplies",
        reasoning="All eight invoices are matched to goods receipts.",
        evidence=[{"type": "ledger", "url": "https://ledger.example.com/batch/7"}, "javascript:alert(1)"],
        confidence=0.72,
        irreversible=True,
        blast_radius=8,
        compliance_exposure="high",
        expected_impact="12,840.50 EUR leave the company account",
    )
    decide(big, second_reviewer, rationale="Matched to receipts.")
    changes = [
        submit(
            action_type="crm.update",
            payload={"customer": f"C-{n}", "email": f"c{n}@example.com"},
            summary=f"Update C-{n}",
        )
        for n in range(1, 7)
    ]
    for change, verdict in zip(changes[:4], ["approve", "approve", "approve", "reject"], strict=True):
        proposal_decide(
            proposal_id=change.pk, reviewer=reviewer, verdict=verdict, rationale="Checked.", password=PASSWORD
        )
    return {"big": big, "pending_change": changes[5]}


@pytest.fixture
def enter(page, live_server):
    """Signed in as the user, in the language, without the sign-in form (tested elsewhere)."""

    def sign_in(user, language):
        client = Client()
        client.force_login(user)
        page.context.clear_cookies()
        page.context.add_cookies(
            [
                {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
                {"name": "django_language", "value": language, "url": live_server.url},
            ]
        )

    return sign_in


@pytest.fixture
def outside_requests(page):
    """Every request the browser makes to another host."""
    seen = []

    def record(request):
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            seen.append(request.url)

    page.on("request", record)
    return seen


def visit(page, path, name, language, size):
    page.set_viewport_size(size)
    response = page.goto(path)
    page.wait_for_load_state("load")
    SCREENSHOTS.mkdir(exist_ok=True)
    label = "desktop" if size == DESKTOP else "phone"
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{language}-{label}.png"), full_page=True)
    return response


def widest(page) -> list[str]:
    """The innermost elements that stick out on the right (to say what makes a page too wide)."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('body *'))
            .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
            .filter(el => !Array.from(el.children).some(c => c.getBoundingClientRect().right > window.innerWidth + 0.5))
            .slice(0, 5).map(el => el.tagName + '.' + el.className + ': ' + (el.textContent || '').slice(0, 40))"""
    )


def page_width(page) -> tuple[int, int]:
    return page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_fits_a_phone_and_stays_on_this_host(
    page, enter, stage, reviewer, compliance_officer, admin, outside_requests, language
):
    reviewer_pages = {
        "queue": "/review/",
        "detail": f"/review/{stage['big'].pk}/",
        "history": "/review/history/",
    }
    overseer_pages = {
        "compliance": "/compliance/",
        "audit-events": "/compliance/audit/",
        "insights": "/insights/?window=30&live=1",
        "verify": "/compliance/verify/",
        "reports": "/compliance/reports/",
    }
    too_wide = {}
    for user, pages in ((reviewer, reviewer_pages), (compliance_officer, overseer_pages)):
        enter(user, language)
        for name, path in pages.items():
            for size in (DESKTOP, PHONE):
                response = visit(page, path, name, language, size)
                assert response.status == 200, (name, response.status)
                scroll_width, inner_width = page_width(page)
                if size == PHONE and scroll_width > inner_width:
                    too_wide[name] = (scroll_width, widest(page))
    enter(admin, language)
    admin_pages = {
        "admin": "/admin/",
        "admin-policies": "/admin/policies/policyversion/",
        "admin-policy": f"/admin/policies/policyversion/{stage['big'].policy_version_id}/change/",
        "api-docs": "/api/v1/docs/",
        "api-redoc": "/api/v1/redoc/",
    }
    for name, path in admin_pages.items():
        for size in (DESKTOP, PHONE):
            visit(page, path, name, language, size)
            page.wait_for_timeout(300)  # the docs render after their script ran

    assert too_wide == {}
    assert outside_requests == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_insights_bar_with_a_value_is_drawn(page, enter, stage, compliance_officer, language):
    enter(compliance_officer, language)
    visit(page, "/insights/?window=30&live=1", "insights-bars", language, DESKTOP)

    bars = page.eval_on_selector_all(
        "svg.chart rect.bar",
        "rects => rects.map(r => [r.width.baseVal.value, r.getBoundingClientRect().width, r.querySelector('title').textContent])",
    )
    assert len(bars) >= 6  # approval rate, review rate and durations of at least two groups
    for declared, drawn, title in bars:
        value = title.rsplit(":", 1)[1].strip()
        if value.startswith(("0%", "0,0", "0.0", "–")):
            continue
        assert declared > 0 and drawn > 0, (title, declared, drawn)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_decision_context_is_above_the_fold(page, enter, stage, reviewer, language):
    enter(reviewer, language)
    visit(page, f"/review/{stage['big'].pk}/", "detail-fold", language, DESKTOP)

    submit = page.locator("#sign-submit").bounding_box()
    why = page.locator("#why-summary").bounding_box()
    decisions = page.locator("#h-decisions").bounding_box()
    record = page.locator("#h-record").bounding_box()
    assert submit["y"] + submit["height"] <= DESKTOP["height"]
    assert why["y"] + why["height"] <= DESKTOP["height"]
    assert decisions["y"] < DESKTOP["height"] and record["y"] < DESKTOP["height"]
    # in words, in the page's language, with the escalation path
    summary = page.locator("#why-summary").inner_text()
    assert "payments.*" in summary and "finance-senior" in summary
    assert {"en": "2 approvals", "de": "2 Genehmigungen", "fr": "2 approbations"}[language] in summary
    # the long payload is folded: the important fields first, the rest behind "more fields"
    first_keys = page.locator("dl.payload dt").all_inner_texts()[:3]
    assert first_keys[:2] == ["amount", "currency"]
    expect(page.locator("details.payload-more")).not_to_have_attribute("open", "")


def test_four_eyes_state_is_shown_before_anything_is_typed(page, enter, stage, second_reviewer, reviewer):
    enter(second_reviewer, "en")
    visit(page, f"/review/{stage['big'].pk}/", "four-eyes-approved", "en", DESKTOP)

    state = page.locator("#four-eyes")
    expect(state).to_contain_text("1 of 2 approvals")
    expect(state).to_contain_text("You approved this version")
    expect(page.locator("#decision-form")).to_have_count(0)

    enter(reviewer, "en")
    visit(page, f"/review/{stage['big'].pk}/", "four-eyes-second", "en", DESKTOP)
    expect(page.locator("#four-eyes")).to_contain_text("1 more approval")
    expect(page.locator("#decision-form")).to_be_visible()


@pytest.mark.parametrize("language", LANGUAGES)
def test_403_and_404_pages_are_in_the_layout_with_a_way_back(page, enter, stage, reviewer, language):
    enter(reviewer, language)
    for status, path, name in ((404, "/review/999999/", "404"), (403, "/compliance/", "403")):
        for size in (DESKTOP, PHONE):
            response = visit(page, path, name, language, size)
            assert response.status == status
            expect(page.locator("header.site-header nav")).to_be_visible()
            expect(page.locator(".error-page .reason")).not_to_be_empty()
            expect(page.locator(".error-page a[href='/']")).to_be_visible()


def test_the_evidence_links_only_web_addresses(page, enter, stage, reviewer):
    enter(reviewer, "en")
    visit(page, f"/review/{stage['big'].pk}/", "evidence", "en", DESKTOP)

    links = page.locator("ul.evidence a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert links == ["https://ledger.example.com/batch/7"]
    expect(page.locator("ul.evidence")).to_contain_text("javascript:alert(1)")


def test_the_batch_form_appears_beside_the_selection_with_ids_and_summaries(page, enter, stage, reviewer):
    enter(reviewer, "en")
    visit(page, "/review/", "batch-empty", "en", DESKTOP)
    page.locator("html[data-js-ready]").wait_for(state="attached")
    expect(page.locator("#batch-form")).to_be_hidden()

    boxes = page.locator("input[data-batch-kind^='crm.update']")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.locator("#batch-form input[value=approve]").check()
    visit_shot = SCREENSHOTS / "batch-selected-en-desktop.png"
    page.screenshot(path=str(visit_shot))

    form = page.locator("#batch-form")
    expect(form).to_be_visible()
    expect(form.locator("[data-batch-list] li")).to_have_count(2)
    expect(form.locator("[data-batch-list]")).to_contain_text("Update C-")
    expect(form.locator("[data-meaning]")).to_have_text("approved")
    expect(form.locator("#batch-preset")).to_be_visible()
    box = form.bounding_box()
    assert box["y"] < DESKTOP["height"]  # in the first screen, next to the rows just ticked
