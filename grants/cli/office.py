"""`grants serve`: the office, one long-running process; and sign-in links from the shell."""

import threading
from typing import Annotated

import typer

from grants.cli.common import (
    fail,
    out,
    settings_checked,
)
from grants.embedded import keep_warm, server_mode, watch_server
from grants.settings import Settings
from grants.web.office import Office, freeze_after_start, something_due
from models.db import transaction
from models.people import find_person, people
from models.reference_data import sync
from models.sign_in import LINK_REQUESTS_PER_WINDOW, asking_again_at, request_link
from models.tables import local_time

app = typer.Typer()


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the office: the web application where each person does their own part.

    E-mailed links point where it listens (HOST and PORT), unless `[office] base_url` in
    the configuration says where people reach it.

    Without an SMTP server (the embedded default) it also prints a sign-in link for each
    registered person, valid for a short while; more come by e-mail to the outbox.
    """
    import uvicorn

    from grants.web.app import create_app

    settings = settings_checked()
    settings.announce_office(host, port)  # before the office and its links are made
    application = create_app(settings)
    office = application.state.office
    if not settings.smtp_host:
        for email, link in _links(settings, office).items():
            out.print(f"  {email}: {link}", highlight=False)
    out.print(f"The office: {office.base_url}/ (listening on {host}:{port})", highlight=False)
    threading.Thread(target=_warm_up, args=(settings, office), name="warm-up", daemon=True).start()
    uvicorn.run(application, host=host, port=port, log_level="warning", proxy_headers=True)


def _warm_up(settings: Settings, office: Office) -> None:
    """In the background, so the pages answer while Prefect's temporary server starts: warm
    the flows, take other commands' pokes, send anything left queued, then again every
    GRANTS_FOLLOW_UP_SECONDS (in server mode the workers' schedule does, and the office
    says in its log when it loses and regains the Prefect server), and put what
    start-up made out of the garbage collector's way."""
    keep_warm(settings, office.follow_up.poke)
    office.follow_up.poke()
    if server_mode():
        watch_server("the office")
    else:
        office.follow_up.every(settings.follow_up_seconds, lambda: something_due(settings))
    freeze_after_start(office.follow_up)


@app.command("sign-in-link")
def sign_in_link_command(
    email: Annotated[str, typer.Argument(help="E-mail of a registered, active person.")],
) -> None:
    """Print a one-time sign-in link to the office for EMAIL (for whoever runs the server)."""
    settings = settings_checked()
    office = Office.from_settings(settings)
    links = _links(settings, office, email)
    if not links:
        raise fail(_why_no_link(settings, office, email))
    out.print(links[email.strip().lower()], highlight=False)


def _why_no_link(settings: Settings, office: Office, email: str) -> str:
    """Why no link was made for `email`: said as it is to whoever runs the server (the
    office's own page answers alike in every case, not to tell who has an account)."""
    address = email.strip().lower()
    with transaction(settings.db_url) as session:
        person = find_person(session, address)
        if person is None or not person.active:
            return f"{email!r} is not a registered, active person"
        again = asking_again_at(session, address, office.sign_in_link_lifetime)
    minutes = office.link_minutes
    when = f"at {local_time(again):%H:%M} (Swedish time)" if again else "in a while"
    return (
        f"{email!r} has asked for {LINK_REQUESTS_PER_WINDOW} sign-in links within {minutes} "
        f"minutes, the most allowed: no link was made; ask again {when}"
    )


def _links(settings: Settings, office: Office, only: str | None = None) -> dict[str, str]:
    """A fresh one-time sign-in link per active person (or only `only`)."""
    links = {}
    with transaction(settings.db_url) as session:
        sync(session, settings.file)
        for person in people(session):
            if not person.active or (only is not None and person.email != only.strip().lower()):
                continue
            made = request_link(session, person.email, office.sign_in_link_lifetime, "command line")
            if made is not None:
                links[person.email] = f"{office.base_url}/login/link?token={made[1]}"
    return links
