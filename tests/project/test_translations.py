"""The de and fr catalogues are complete, compiled, and used by the pages."""

from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale"


@pytest.fixture(autouse=True)
def _back_to_the_default_language(settings):
    # LocaleMiddleware activates the request's language in this thread and leaves it there:
    # without this, the tests after this module would run in French.
    yield
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.mark.parametrize("language", ["de", "fr"])
def test_every_message_is_translated_and_compiled(language):
    catalogue = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    missing = [entry.msgid for entry in catalogue if not entry.translated() or "fuzzy" in entry.flags]
    assert missing == []
    compiled = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / "django.mo"))
    assert {entry.msgid for entry in compiled} >= {entry.msgid for entry in catalogue if not entry.msgid_plural}


@pytest.mark.django_db
@pytest.mark.parametrize("language, phrase", [("de", "Warteschlange"), ("fr", "File d")])
def test_the_review_queue_speaks_the_chosen_language(client, reviewer, language, phrase):
    client.force_login(reviewer)
    client.cookies["django_language"] = language
    page = client.get("/review/").content.decode()
    assert phrase in page


PLURAL_FORMS = {"de": "nplurals=2; plural=(n != 1);", "fr": "nplurals=2; plural=(n > 1);"}


@pytest.mark.parametrize("language", ["de", "fr"])
def test_plural_entries_have_every_form_with_the_same_placeholders(language):
    import re

    catalogue = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    assert catalogue.metadata["Plural-Forms"].replace(" ", "") == PLURAL_FORMS[language].replace(" ", "")
    placeholder = re.compile(r"%\((\w+)\)s")
    broken = []
    for entry in catalogue:
        if not entry.msgid_plural:
            continue
        forms = [entry.msgstr_plural.get(index, "") for index in range(2)]
        expected = set(placeholder.findall(entry.msgid_plural)) | set(placeholder.findall(entry.msgid))
        if not all(forms) or any(not set(placeholder.findall(form)) <= expected for form in forms):
            broken.append(entry.msgid)
    assert broken == []


@pytest.mark.parametrize(
    "language, one, two",
    [
        ("de", "1 wurde autonom ausgeführt.", "2 wurden autonom ausgeführt."),
        ("fr", "1 s’est exécutée de façon autonome.", "2 se sont exécutées de façon autonome."),
    ],
)
def test_counted_sentences_agree_in_number(language, one, two):
    from django.template import Context, Template
    from django.utils import translation

    template = Template(
        "{% load i18n %}{% blocktranslate count autonomous=n %}{{ autonomous }} ran autonomously."
        "{% plural %}{{ autonomous }} ran autonomously.{% endblocktranslate %}"
    )
    with translation.override(language):
        assert template.render(Context({"n": 1})) == one
        assert template.render(Context({"n": 2})) == two
        assert translation.ngettext("%(count)s approval", "%(count)s approvals", 2) % {"count": 2} != ("2 approvals")
