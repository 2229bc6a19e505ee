from tests.reports.conftest import pdf_text, pdf_attachments
def test_smoke(generated_report):
    report = generated_report()
    print(report.status, report.error, report.sha256, report.size)
    content = open(report.file.path, "rb").read()
    open("/tmp/smoke.pdf", "wb").write(content)
    print(pdf_text(content)[:6000])
    print({k: len(v) for k, v in pdf_attachments(content).items()})
