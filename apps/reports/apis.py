"""Reports and exports API (DESIGN.md): compliance officers only."""

from collections.abc import Iterable, Iterator

from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from hitlplatform.api.permissions import IsComplianceOfficer

from .attachments import audit_jsonl_lines, decision_csv_lines, decision_jsonl_lines
from .controls import ControlStatus, controls_document, controls_evaluate
from .models import Report
from .selectors import report_get, report_scope_build, reports_recent
from .services import export_record, report_download, report_request

STREAM_CHUNK_CHARS = 64 * 1024


# The days a report, an export or the control matrix covers (a comment, not a docstring: the
# schema would print it as the description of every serializer built on it).
class PeriodSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    period_end = serializers.DateField()


# A period narrowed to one agent and one action type (blank: all of them).
class ScopeSerializer(PeriodSerializer):
    agent = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    action_type = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class ReportOutputSerializer(serializers.ModelSerializer):
    agent = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "status",
            "progress",
            "sha256",
            "size",
            "period_start",
            "period_end",
            "agent",
            "action_type",
            "language",
            "created_at",
            "started_at",
            "finished_at",
            "error",
            "url",
            "download_url",
        ]

    def get_url(self, report) -> str:
        return reverse("report-detail", args=[report.pk], request=self.context.get("request"))

    def get_download_url(self, report) -> str | None:
        if not report.is_ready:
            return None
        return reverse("report-download", args=[report.pk], request=self.context.get("request"))


class ReportCreateApi(APIView):
    permission_classes = [IsComplianceOfficer]

    class InputSerializer(ScopeSerializer):
        language = serializers.CharField(required=False, allow_blank=True, max_length=8, default="en")

    @extend_schema(responses=ReportOutputSerializer(many=True))
    def get(self, request):
        """The latest reports, newest first."""
        return Response(ReportOutputSerializer(reports_recent(limit=50), many=True, context={"request": request}).data)

    @extend_schema(request=InputSerializer, responses={202: ReportOutputSerializer})
    def post(self, request):
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = report_request(requested_by=request.user, **body.validated_data)
        output = ReportOutputSerializer(report, context={"request": request}).data
        return Response(output, status=status.HTTP_202_ACCEPTED, headers={"Location": output["url"]})


class ReportDetailApi(APIView):
    permission_classes = [IsComplianceOfficer]

    @extend_schema(responses=ReportOutputSerializer)
    def get(self, request, pk):
        return Response(ReportOutputSerializer(report_get(report_id=pk), context={"request": request}).data)


class ReportDownloadApi(APIView):
    permission_classes = [IsComplianceOfficer]

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request, pk):
        report = report_download(report_id=pk, user=request.user)
        return report_file_response(report)


def report_file_response(report: Report) -> FileResponse:
    response = FileResponse(
        report.file.open("rb"),
        as_attachment=True,
        filename=report.file.name.rsplit("/", 1)[-1],
        content_type="application/pdf",
    )
    response["X-Content-SHA256"] = report.sha256
    return response


class ControlLinkSerializer(serializers.Serializer):
    label = serializers.CharField()
    url = serializers.CharField()


class ControlOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    regulation = serializers.CharField()
    clause = serializers.CharField()
    requirement = serializers.CharField()
    implementation = serializers.CharField()
    status = serializers.ChoiceField(choices=ControlStatus.values)
    reason = serializers.CharField()
    figures = serializers.DictField()
    links = ControlLinkSerializer(many=True)
    tests = serializers.ListField(child=serializers.CharField())


class ControlsApi(APIView):
    """The control matrix of a period with its live evidence (GET writes nothing)."""

    permission_classes = [IsComplianceOfficer]

    class FilterSerializer(PeriodSerializer):
        """The period whose evidence the matrix shows."""

    class OutputSerializer(PeriodSerializer):
        summary = serializers.DictField(child=serializers.IntegerField())
        controls = ControlOutputSerializer(many=True)

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer)
    def get(self, request):
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        scope = report_scope_build(**query.validated_data)
        return Response(controls_document(scope, controls_evaluate(scope)))


class _ExportApi(APIView):
    """A period's rows streamed from a server-side cursor: memory stays flat at any volume."""

    permission_classes = [IsComplianceOfficer]
    kind = ""
    content_type = ""
    lines = None

    class FilterSerializer(ScopeSerializer):
        """The period and scope of the exported rows."""

    def get(self, request):
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        scope = report_scope_build(**query.validated_data)
        export_record(user=request.user, kind=self.kind, scope=scope)
        response = StreamingHttpResponse(_chunked(type(self).lines(scope)), content_type=self.content_type)
        stem, extension = self.kind.rsplit(".", 1)
        filename = f"{stem}-{scope.period_start:%Y%m%d}-{scope.period_end:%Y%m%d}.{extension}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def _export_schema(view):
    """The OpenAPI description of an export: the scope's query parameters, a text body of its type."""
    media_type = view.content_type.split(";")[0]
    schema = extend_schema(parameters=[_ExportApi.FilterSerializer], responses={(200, media_type): OpenApiTypes.STR})
    return extend_schema_view(get=schema)(view)


@_export_schema
class DecisionCsvExportApi(_ExportApi):
    kind = "decisions.csv"
    content_type = "text/csv; charset=utf-8"
    lines = decision_csv_lines


@_export_schema
class DecisionJsonlExportApi(_ExportApi):
    kind = "decisions.jsonl"
    content_type = "application/x-ndjson; charset=utf-8"
    lines = decision_jsonl_lines


@_export_schema
class AuditJsonlExportApi(_ExportApi):
    kind = "audit.jsonl"
    content_type = "application/x-ndjson; charset=utf-8"
    lines = audit_jsonl_lines


def _chunked(lines: Iterable[str]) -> Iterator[bytes]:
    """Group lines into ~64 KB chunks: one write per line would dominate the cost."""
    pending: list[str] = []
    size = 0
    for line in lines:
        pending.append(line)
        size += len(line)
        if size >= STREAM_CHUNK_CHARS:
            yield "".join(pending).encode()
            pending, size = [], 0
    if pending:
        yield "".join(pending).encode()
