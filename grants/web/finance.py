"""The finance department's page: the attested payment orders waiting for a payment file
(and those held by a changed account), the payment files made with their downloads, and
the upload of the bank's reports with what each changed.

Both forms take a declared step by name (`export_payments`, `import_bank_report`), as the
command line does. The payment files are written to GRANTS_HOME/payments from the database
whenever this page or a download is opened and the disk lacks one (after a crash between
the export's commit and the disk), so what is downloaded is always what the database keeps.
"""

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlmodel import col, select

from grants.steps import FINANCE, reading, take
from grants.steps.bank import SUFFIXES, payments_dir, write_payment_files
from grants.web.deps import CurrentPerson, OfficeDep
from grants.web.i18n import _
from grants.web.office import Office
from grants.web.office_steps import PostedDep
from grants.web.pages import notice, render
from grants.web.payments import names
from grants.web.refusals import worded
from models.bank_files import Registered, held_orders, payment_lines, ready_to_export
from models.errors import Refused
from models.tables import BankReport, PaymentFile, Person

router = APIRouter(prefix="/payments")
MEDIA_TYPES = {".xml": "application/xml", ".pdf": "application/pdf", ".csv": "text/csv"}
FILES_SHOWN = 50  # the newest payment files and reports; older ones stay in GRANTS_HOME


def _page(
    request: Request,
    office: Office,
    person: Person,
    error: str | None = None,
    result: Registered | None = None,
    status: int = 200,
) -> Response:
    if person.role in FINANCE:  # any file the disk lacks, written from the database
        write_payment_files(office.settings)
    with reading(office.settings, person.email, FINANCE) as (session, reader):
        ready = payment_lines(session, ready_to_export(session))
        held = payment_lines(session, held_orders(session))
        files = session.exec(
            select(PaymentFile).order_by(col(PaymentFile.id).desc()).limit(FILES_SHOWN)
        ).all()
        reports = session.exec(
            select(BankReport).order_by(col(BankReport.id).desc()).limit(FILES_SHOWN)
        ).all()
        context = {
            "person": reader,
            "ready": ready,
            "ready_total": sum(line.amount for line in ready),
            "held": held,
            "files": files,
            "reports": reports,
            "names": names(session),  # who made a file or registered a report, by name
            "result": result,
            "error": error,
        }
        return render(request, "payments.html", context, status)


@router.get("")
def payments_page(request: Request, office: OfficeDep, person: CurrentPerson) -> Response:
    """What waits for a payment file, the files made, and the bank's reports."""
    return _page(request, office, person)


@router.post("/export")
def payments_exported(
    request: Request, office: OfficeDep, person: CurrentPerson, form: PostedDep
) -> Response:
    try:
        taken = take(office.settings, "export_payments", person.email)
    except Refused as refusal:
        return _page(request, office, person, error=worded(refusal), status=409)
    made: PaymentFile = taken.result
    write_payment_files(office.settings)
    notice(
        request,
        _("Payment file %(message_id)s is made: %(count)s payment(s). Download it below.")
        % {"message_id": made.message_id, "count": made.payment_count},
    )
    return RedirectResponse("/payments", 303)


@router.post("/reports")
def report_imported(
    request: Request, office: OfficeDep, person: CurrentPerson, form: PostedDep
) -> Response:
    given, content = form.file("report")
    try:
        taken = take(office.settings, "import_bank_report", person.email, content=content)
    except Refused as refusal:
        error = _("%(file)s: %(why)s") % {"file": given, "why": worded(refusal)}
        return _page(request, office, person, error=error, status=409)
    return _page(request, office, person, result=taken.result)


@router.get("/files/{name}")
def payment_file_download(office: OfficeDep, person: CurrentPerson, name: str) -> Response:
    """A payment file (.xml) or its payment order (.pdf, .csv), as kept."""
    message_id, suffix = Path(name).stem, Path(name).suffix
    with reading(office.settings, person.email, FINANCE) as (session, _reader):
        known = session.exec(select(PaymentFile).where(PaymentFile.message_id == message_id))
        if known.first() is None or suffix not in SUFFIXES:
            raise HTTPException(404)
    write_payment_files(office.settings)
    path = payments_dir(office.settings) / f"{message_id}{suffix}"
    return FileResponse(path, media_type=MEDIA_TYPES[suffix], filename=path.name)
