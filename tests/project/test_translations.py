"""The de and fr catalogues are complete, compiled, and used by the pages."""

from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale"


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
