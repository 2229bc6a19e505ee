"""The report as a PDF/A-3b: figures into HTML (templates/reports/), WeasyPrint into PDF, and the
evidence embedded as associated files (PDF/A-3 "AF") in the signed revision, streamed from the
compressed files on disk: no step holds the whole data in memory, whatever the volume."""

import dataclasses
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from pyhanko.pdf_utils import generic

from apps.proposals import figures

from . import charts, selectors
from .attachments import EmbeddedFile, audit_jsonl_lines, decision_jsonl_lines, embedded_file_build
from .controls import controls_evaluate, controls_summary
from .selectors import ReportScope
from .templatetags.report_format import when

DECISIONS_FILE = "decisions.jsonl"
AUDIT_FILE = "audit-events.jsonl"
CONTROLS_FILE = "controls.jsonl"

# Monospace appendix columns (width in characters): a line of text per decision lays out ten
# times faster in WeasyPrint than a table row of cells.
_APPENDIX_COLUMNS = (16, 9, 18, 22, 24, 11, 30)


@dataclass
class ReportDocument:
    """What the report says about itself on its cover."""

    report_id: int | str
    scope: ReportScope
    language: str
    generated_by: str
    generated_at: datetime = field(default_factory=timezone.now)


def document_render(
    document: ReportDocument, *, target: Path, folder: Path, on_progress: Callable[[int], None] | None = None
) -> dict:
    """Write the unsigned PDF/A-3b to `target` and the compressed attachments into `folder`;
    returns the figures and the attachments (to embed with `embed_files` when signing)."""
    progress = on_progress or (lambda _percent: None)
    scope = dataclasses.replace(document.scope, cutoff=document.generated_at)
    with translation.override(document.language):
        outcomes = selectors.report_outcomes(scope)
        daily = selectors.report_daily_outcomes(scope, outcomes=outcomes)
        summary = selectors.report_summary(scope, outcomes=outcomes)
        progress(15)
        groups, group_count = selectors.report_groups(scope, outcomes=outcomes)
        signoffs = selectors.report_signoffs(scope)
        exceptions = selectors.report_exceptions(scope, summary=summary)
        bins = selectors.report_confidence_bins(scope, outcomes=outcomes)
        chain = selectors.audit_chain_state()
        integrity = selectors.report_audit_integrity(chain)
        audit_period = selectors.report_audit_period(scope)
        appendix = selectors.report_appendix(scope, limit=settings.REPORT_APPENDIX_MAX_ROWS)
        controls = controls_evaluate(scope, chain=chain)
        progress(30)
        embedded = [
            embedded_file_build(
                name=DECISIONS_FILE,
                description=_("Every decision of the period, one JSON object per line."),
                lines=decision_jsonl_lines(scope),
                folder=folder,
            ),
        ]
        progress(45)
        embedded.append(
            embedded_file_build(
                name=AUDIT_FILE,
                description=_("Every audit event of the period with its hashes, salt and canonical data."),
                lines=audit_jsonl_lines(scope),
                folder=folder,
            )
        )
        embedded.append(
            embedded_file_build(
                name=CONTROLS_FILE,
                description=_("Every control with its status, figures and reason for the period, one per line."),
                lines=(_compact(result.as_dict()) + "\n" for result in controls),
                folder=folder,
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
                "definitions": {**figures.FIGURE_DEFINITIONS, "high_risk": figures.high_risk_definition()},
                "groups": groups,
                "group_count": group_count,
                "signoffs": signoffs,
                "exceptions": exceptions,
                "integrity": integrity,
                "audit_period": audit_period,
                "controls": controls,
                "controls_summary": controls_summary(controls),
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
        _write_pdf(html, target=target)
    progress(85)
    return {"summary": summary, "embedded": embedded, "controls": controls}


def _compact(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def embed_files(writer, embedded: list[EmbeddedFile], moment: datetime) -> None:
    """Add each file to a pyhanko writer as an embedded file and a PDF/A-3 associated file."""
    stamp = generic.pdf_date(moment.astimezone(UTC))
    names, associated = generic.ArrayObject(), generic.ArrayObject()
    for item in sorted(embedded, key=lambda item: item.name):
        stream = writer.add_object(
            _FileBackedStream(
                {
                    "/Type": generic.NameObject("/EmbeddedFile"),
                    "/Subtype": generic.NameObject("/" + item.mime_type.replace("/", "#2F")),
                    "/Filter": generic.NameObject("/FlateDecode"),
                    "/Params": generic.DictionaryObject(
                        {
                            "/Size": generic.NumberObject(item.size),
                            "/CreationDate": stamp,
                            "/ModDate": stamp,
                        }
                    ),
                },
                path=item.path,
            )
        )
        filespec = writer.add_object(
            generic.DictionaryObject(
                {
                    "/Type": generic.NameObject("/Filespec"),
                    "/F": generic.TextStringObject(item.name),
                    "/UF": generic.TextStringObject(item.name),
                    "/EF": generic.DictionaryObject({"/F": stream, "/UF": stream}),
                    "/Desc": generic.TextStringObject(item.description),
                    "/AFRelationship": generic.NameObject("/Data"),
                }
            )
        )
        names.extend([generic.TextStringObject(item.name), filespec])
        associated.append(filespec)
    root = writer.root
    existing = root.get("/Names")
    catalog_names = generic.DictionaryObject(dict(existing.get_object()) if existing is not None else {})
    catalog_names["/EmbeddedFiles"] = writer.add_object(generic.DictionaryObject({"/Names": names}))
    root["/Names"] = catalog_names
    root["/AF"] = associated
    # Show the attachments panel when the PDF opens: the evidence is the point.
    root["/PageMode"] = generic.NameObject("/UseAttachments")
    writer.update_root()


def _write_pdf(html: str, *, target: Path) -> None:
    from weasyprint import HTML

    HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(
        target, pdf_variant="pdf/a-3b", uncompressed_pdf=False, custom_metadata=True
    )


class _FileBackedStream(generic.StreamObject):
    """An already Flate-encoded stream, copied from its file while the PDF is written."""

    def __init__(self, dict_data, *, path: Path):
        super().__init__(dict_data, encoded_data=b"")
        self.path = path

    def write_to_stream(self, stream, handler=None, container_ref=None):
        self[generic.NameObject("/Length")] = generic.NumberObject(self.path.stat().st_size)
        generic.DictionaryObject.write_to_stream(self, stream, handler, container_ref)
        del self["/Length"]
        stream.write(b"\nstream\n")
        with self.path.open("rb") as encoded:
            shutil.copyfileobj(encoded, stream, 1 << 20)
        stream.write(b"\nendstream")


def _appendix_header() -> str:
    titles = (
        _("Signed (UTC)"),
        _("Proposal"),
        _("Agent"),
        _("Action type"),
        _("Signed by"),
        _("Verdict"),
        _("Meaning"),
    )
    return _line(titles)


def _appendix_lines(rows: list[tuple]) -> list[str]:
    from apps.proposals.models import Verdict

    verdicts = dict(Verdict.choices)
    return [
        _line(
            (
                when(signed_at),
                f"#{proposal_id}",
                agent,
                action_type,
                signer,
                str(verdicts.get(verdict, verdict)),
                meaning,
            )
        )
        for signed_at, proposal_id, agent, action_type, signer, verdict, meaning in rows
    ]


def _line(values) -> str:
    cells = []
    for value, width in zip(values, _APPENDIX_COLUMNS, strict=True):
        text = str(value or "")
        cells.append(text[: width - 1] + "…" if len(text) > width else text.ljust(width))
    return " ".join(cells).rstrip()
