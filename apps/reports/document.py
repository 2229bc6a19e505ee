"""The report as a PDF/A-3b: figures into HTML (templates/reports/), WeasyPrint into PDF, and the
evidence embedded as associated files (PDF/A-3 "AF") by a finisher that writes the already
compressed bytes, so neither WeasyPrint nor pydyf ever holds the uncompressed data."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pydyf
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from . import charts, selectors
from .attachments import EmbeddedFile, audit_jsonl_lines, decision_jsonl_lines, embedded_file_build
from .selectors import ReportScope
from .templatetags.report_format import when

DECISIONS_FILE = "decisions.jsonl"
AUDIT_FILE = "audit-events.jsonl"

# Monospace appendix columns (width in characters): a line of text per decision lays out ten
# times faster in WeasyPrint than a table row of cells.
_APPENDIX_COLUMNS = (16, 9, 18, 22, 24, 11, 26)


@dataclass
class ReportDocument:
    """What the report says about itself on its cover."""

    report_id: int | str
    scope: ReportScope
    language: str
    generated_by: str
    generated_at: datetime = field(default_factory=timezone.now)


def document_render(
    document: ReportDocument, *, target: Path, on_progress: Callable[[int], None] | None = None
) -> dict:
    """Write the unsigned PDF/A-3b to `target`; returns the figures that went into it."""
    progress = on_progress or (lambda _percent: None)
    scope = document.scope
    with translation.override(document.language):
        summary = selectors.report_summary(scope)
        progress(15)
        groups, group_count = selectors.report_groups(scope)
        signoffs = selectors.report_signoffs(scope)
        exceptions = selectors.report_exceptions(scope)
        daily = selectors.report_daily_outcomes(scope)
        bins = selectors.report_confidence_bins(scope)
        integrity = selectors.report_audit_integrity()
        audit_period = selectors.report_audit_period(scope)
        appendix = selectors.report_appendix(scope, limit=settings.REPORT_APPENDIX_MAX_ROWS)
        progress(30)
        embedded = [
            embedded_file_build(
                name=DECISIONS_FILE,
                description=_("Every decision of the period, one JSON object per line."),
                lines=decision_jsonl_lines(scope),
            ),
        ]
        progress(45)
        embedded.append(
            embedded_file_build(
                name=AUDIT_FILE,
                description=_("Every audit event of the period with its hashes, salt and canonical data."),
                lines=audit_jsonl_lines(scope),
            )
        )
        progress(60)
        html = render_to_string(
            "reports/report.html",
            {
                "document": document,
                "organisation": settings.ORGANISATION_NAME,
                "scope": scope,
                "summary": summary,
                "groups": groups,
                "group_count": group_count,
                "signoffs": signoffs,
                "exceptions": exceptions,
                "integrity": integrity,
                "audit_period": audit_period,
                "charts": {
                    "daily": charts.daily_outcomes_svg(daily, start=scope.period_start, days=scope.days),
                    "trend": charts.approval_trend_svg(daily, start=scope.period_start, days=scope.days),
                    "confidence": charts.confidence_svg(bins),
                },
                "appendix_lines": _appendix_lines(appendix),
                "appendix_header": _appendix_header(),
                "appendix_cap": settings.REPORT_APPENDIX_MAX_ROWS,
                "embedded": embedded,
                "site_url": settings.SITE_URL,
            },
        )
        progress(65)
        _write_pdf(html, target=target, embedded=embedded, document=document)
    progress(85)
    return {"summary": summary, "embedded": embedded}


def _write_pdf(html: str, *, target: Path, embedded: list[EmbeddedFile], document: ReportDocument) -> None:
    from weasyprint import HTML

    HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(
        target,
        pdf_variant="pdf/a-3b",
        uncompressed_pdf=False,
        custom_metadata=True,
        finisher=lambda _document, pdf: _embed_files(pdf, embedded, document.generated_at),
    )


def _embed_files(pdf: pydyf.PDF, embedded: list[EmbeddedFile], moment: datetime) -> None:
    """Add each file as an embedded file and a PDF/A-3 associated file of the document."""
    stamp = pydyf.String(moment.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ"))
    names = pydyf.Array()
    associated = pdf.catalog.get("AF") or pydyf.Array()
    for item in sorted(embedded, key=lambda item: item.name):
        stream = _PrecompressedStream(
            item.compressed,
            pydyf.Dictionary(
                {
                    "Type": "/EmbeddedFile",
                    "Subtype": "/" + item.mime_type.replace("/", "#2f"),
                    "Filter": "/FlateDecode",
                    "Params": pydyf.Dictionary(
                        {"Size": item.size, "CheckSum": f"<{item.md5}>", "CreationDate": stamp, "ModDate": stamp}
                    ),
                }
            ),
        )
        pdf.add_object(stream)
        filespec = pydyf.Dictionary(
            {
                "Type": "/Filespec",
                "F": pydyf.String(item.name),
                "UF": pydyf.String(item.name),
                "EF": pydyf.Dictionary({"F": stream.reference, "UF": stream.reference}),
                "Desc": pydyf.String(item.description),
                "AFRelationship": "/Data",
            }
        )
        pdf.add_object(filespec)
        names.extend([pydyf.String(item.name), filespec.reference])
        associated.append(filespec.reference)
    tree = pydyf.Dictionary({"Names": names})
    pdf.add_object(tree)
    if "Names" not in pdf.catalog:
        pdf.catalog["Names"] = pydyf.Dictionary()
    pdf.catalog["Names"]["EmbeddedFiles"] = tree.reference
    pdf.catalog["AF"] = associated
    # Show the attachments panel when the PDF opens: the evidence is the point.
    pdf.catalog["PageMode"] = "/UseAttachments"


class _PrecompressedStream(pydyf.Stream):
    """A stream whose bytes are already Flate-encoded: written with a single copy."""

    def __init__(self, encoded: bytes, extra: pydyf.Dictionary):
        super().__init__(stream=[], extra=extra, compress=False)
        self._encoded = encoded

    @property
    def data(self) -> bytes:
        extra = pydyf.Dictionary(self.extra.copy())
        extra["Length"] = len(self._encoded)
        return b"".join((extra.data, b"\nstream\n", self._encoded, b"\nendstream"))


def _appendix_header() -> str:
    titles = (_("Signed (UTC)"), _("Proposal"), _("Agent"), _("Action type"), _("Signed by"), _("Verdict"), _("Meaning"))
    return _line(titles)


def _appendix_lines(rows: list[tuple]) -> list[str]:
    from apps.proposals.models import Verdict

    verdicts = dict(Verdict.choices)
    return [
        _line((when(signed_at), f"#{proposal_id}", agent, action_type, signer, str(verdicts.get(verdict, verdict)), meaning))
        for signed_at, proposal_id, agent, action_type, signer, verdict, meaning in rows
    ]


def _line(values) -> str:
    cells = []
    for value, width in zip(values, _APPENDIX_COLUMNS, strict=True):
        text = str(value or "")
        cells.append(text[: width - 1] + "…" if len(text) > width else text.ljust(width))
    return " ".join(cells).rstrip()
