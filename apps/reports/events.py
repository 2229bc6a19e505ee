"""The audit actions the reports app writes, declared once for the writer and every reader."""


class ReportEvents:
    REQUESTED = "report.requested"
    GENERATED = "report.generated"
    FAILED = "report.failed"
    EXPORTED = "report.exported"
    DOWNLOADED = "report.downloaded"
