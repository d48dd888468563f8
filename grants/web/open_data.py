"""The grants of a period as open data (360Giving), downloaded from the delegation report's
page: the form takes the declared step `publish_open_data` by name, as `grants open-data`
does, and answers with the JSON package or its CSV as a file."""

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from grants.steps import take
from grants.steps.open_data import OpenDataFiles
from grants.web.deps import CurrentPerson, OfficeDep
from grants.web.form_values import UnreadableForm, day
from grants.web.i18n import _
from grants.web.office_steps import PostedDep
from grants.web.pages import render
from grants.web.refusals import worded
from models.errors import Refused

router = APIRouter()
FORMATS = {"json": "application/json", "csv": "text/csv; charset=utf-8"}


@router.post("/open-data")
def open_data_download(
    request: Request, office: OfficeDep, person: CurrentPerson, form: PostedDep
) -> Response:
    """The package (`format=json`) or its CSV (`format=csv`) of the grants decided from
    `first` to `last`; refused, the reason on a page that leads back to the report."""
    first, last = form.text("first"), form.text("last")
    back = "/delegation-report?" + urlencode({"first": first, "last": last})
    chosen = form.text("format") if form.text("format") in FORMATS else "json"
    try:
        period = (day(first, "first"), day(last, "last"))
    except UnreadableForm as error:
        field = _("First day") if error.field == "first" else _("Last day")
        return _not_made(request, back, f"{field}: {error}", 422)
    try:
        taken = take(
            office.settings, "publish_open_data", person.email, first=period[0], last=period[1]
        )
    except Refused as refusal:
        return _not_made(request, back, worded(refusal), 409)
    files: OpenDataFiles = taken.result
    name, content = (
        (files.json_name, files.json) if chosen == "json" else (files.csv_name, files.csv)
    )
    return Response(
        content,
        media_type=FORMATS[chosen],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _not_made(request: Request, back: str, message: str, status: int) -> Response:
    """Why no file was made, with the way back to the report's page."""
    context = {"message": message, "heading": _("No open data made"), "back": back}
    return render(request, "error.html", context, status)
