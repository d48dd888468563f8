"""Settings from the environment (GRANTS_*), and the configuration file they point to."""

import contextlib
import os
import re
import secrets
import socket
import tomllib
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from grants.config import ConfigError, GrantsConfig, read_config
from models.audit import use_chain_key
from models.delivery import RetryPolicy
from models.rules import Rules

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = PROJECT_ROOT / "templates"
SAMPLES = PROJECT_ROOT / "samples"
OFFICE_ADDRESS = "office-address"  # where `grants serve` on this home listens
DEFAULT_BASE_URL = "http://127.0.0.1:8000"  # where it listens by default


class Settings(BaseSettings):
    """Where things live and how mail goes out. Every field has a working default."""

    model_config = SettingsConfigDict(env_prefix="GRANTS_", env_file=None)

    home: Path = Path("grants-data")
    database_url: str | None = None  # unset: SQLite file grants.db in `home`
    config: Path = PROJECT_ROOT / "config" / "grants.toml"
    outbox: Path | None = None  # default: `home`/outbox
    smtp_host: str = ""  # empty: letters go to the outbox as .eml files
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_timeout: float = 30.0  # seconds; a claim twice as old was interrupted (resent)
    retry_delay: float = 300.0  # seconds before the first retry; doubles with each attempt
    give_up_after: float = 72.0  # hours a letter waits for the server: then its officer is told
    follow_up_seconds: float = Field(default=60.0, gt=0)  # `grants serve` sends what is due
    batch_size: int = 500  # applications per intake task and transaction
    render_workers: int = 0  # 0: one per core when there are many letters
    secret_key: str = ""  # signs cookies and applicants' links; default: a file in `home`
    chain_key: str = ""  # keys the audit trail's hash chain; default: a file in `home`
    oidc_client_secret: str = ""  # overrides [auth.oidc] client_secret in the file

    def model_post_init(self, _context: Any) -> None:
        """Whoever opens the database through these settings chains its audit events with
        their key (read on the first event written, so a refused setting makes no file)."""
        use_chain_key(self.db_url, lambda: self.audit_chain_key)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home.resolve() / 'grants.db'}"

    @property
    def outbox_dir(self) -> Path:
        return (self.outbox or self.home / "outbox").resolve()

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            stale_after=timedelta(seconds=2 * self.smtp_timeout),
            first_delay=timedelta(seconds=self.retry_delay),
            tell_after=timedelta(hours=self.give_up_after),
        )

    @cached_property
    def config_file(self) -> GrantsConfig:
        """The configuration file, read and checked once (grants.config): the authority,
        the registry, the call, the rules, the people, the office. `checked()` turns a
        wrong key or value into a SettingError."""
        return read_config(self.config)

    @cached_property
    def file(self) -> dict[str, Any]:
        """The configuration file as plain values, checked and with its defaults, for the
        domain's functions that take a mapping (`reference_data.sync`, `open_office`)."""
        return self.config_file.plain()

    @cached_property
    def rules(self) -> Rules:
        """The assessment and decision rules of the configuration, built once."""
        return Rules.from_config(self.file)

    @property
    def base_url(self) -> str:
        """Where people reach the office: e-mailed links point there. `[office] base_url`
        if the configuration sets it; else where `grants serve` on this home listens (its
        --host and --port, `announce_office`), read by every command on the home; else
        where it listens by default."""
        if self.config_file.office.base_url:
            return self.config_file.office.base_url
        announced = ""
        with contextlib.suppress(OSError):
            announced = (self.home / OFFICE_ADDRESS).read_text(encoding="utf-8").strip()
        return announced or DEFAULT_BASE_URL

    def announce_office(self, host: str, port: int) -> None:
        """Say in `home` where the office listens, for the links every process on this
        home makes (`base_url`): a whole file or none, the last office started wins."""
        self.home.mkdir(parents=True, exist_ok=True)
        partial = self.home / f".{OFFICE_ADDRESS}.{os.getpid()}"
        partial.write_text(listening_url(host, port), encoding="utf-8")
        partial.replace(self.home / OFFICE_ADDRESS)

    @cached_property
    def advisory_organisations(self) -> list[str]:
        """The organisations of the advisory group's members, each once, in the file's order:
        the data protection notice names them as readers of the application."""
        members = set(self.config_file.advisory_group.members)
        people = self.config_file.people
        return list(dict.fromkeys(p.organisation for p in people if p.email in members))

    @property
    def applicant_link_days(self) -> int:
        """How many days after its deadline an applicant's link still opens."""
        return self.config_file.office.applicant_link_days

    @cached_property
    def signing_key(self) -> str:
        """What signs the office's cookies and the applicants' links: GRANTS_SECRET_KEY, else a
        random key kept in `home` (made once, readable by us only), so links e-mailed by one
        process open in another on the same home."""
        return self.secret_key or _key_file(self.home / "secret_key")

    @cached_property
    def audit_chain_key(self) -> bytes:
        """What keys the audit trail's hash chain and the anchors (models.audit,
        grants.anchors): GRANTS_CHAIN_KEY, else a random key kept in `home` like the
        signing key, but apart from it. Kept outside the database and its backups: whoever
        can rewrite the database cannot rechain the trail without it."""
        return (self.chain_key or _key_file(self.home / "chain_key")).encode()


def listening_url(host: str, port: int) -> str:
    """The address of an office listening on `host` and `port`: on every interface
    (0.0.0.0, ::), this machine's name; an IPv6 address in brackets."""
    if host in ("", "0.0.0.0", "::"):
        host = socket.getfqdn()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _key_file(path: Path) -> str:
    """The random key in `path`, made once, readable by us only."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.touch(mode=0o600)
        partial.write_text(secrets.token_urlsafe(48))
        with contextlib.suppress(FileExistsError):  # two first starts: the first key wins
            os.link(partial, path)
        partial.unlink()
    return path.read_text().strip()


class SettingError(ValueError):
    """A setting that cannot be used; the message names it and says why, on one line."""


def load() -> Settings:
    settings = Settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    return settings


def checked() -> Settings:
    """The settings, each one tried before any work starts: the environment's values, the
    home folder, the configuration file and the case database. Raises SettingError."""
    try:
        settings = Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = "GRANTS_" + str(first["loc"][0]).upper() if first["loc"] else "GRANTS_*"
        raise SettingError(f"{name}: {_one_line(first['msg'])}") from None
    if settings.home.exists() and not settings.home.is_dir():
        raise SettingError(f"GRANTS_HOME {str(settings.home)!r}: is a file, not a folder")
    try:
        settings.home.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SettingError(f"GRANTS_HOME {str(settings.home)!r}: {error.strerror}") from None
    _check_config(settings)
    _check_links(settings)
    _check_database(settings)
    return settings


def _check_config(settings: Settings) -> GrantsConfig:
    where = f"GRANTS_CONFIG {str(settings.config)!r}"
    try:
        return settings.config_file
    except OSError as error:
        raise SettingError(f"{where}: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SettingError(f"{where}: not valid TOML: {_one_line(str(error))}") from None
    except ConfigError as error:
        raise SettingError(f"{where}: {_one_line(str(error))}") from None


def _check_links(settings: Settings) -> None:
    """An applicant's personal link opens their case to whoever holds it: every process that
    may send one (each command, the office, a worker) refuses a plain http `base_url`,
    unless the configuration is the demo's or the tests' (`[office] allow_http_links`)."""
    office = settings.config_file.office
    if office.allow_http_links or settings.base_url.startswith("https://"):
        return
    unset = "" if office.base_url else " (unset: where the office listens)"
    raise SettingError(
        f"GRANTS_CONFIG {str(settings.config)!r}: [office] base_url {settings.base_url!r}"
        f"{unset}: applicants' personal links need an https address; set base_url to the "
        "https address people reach the office at"
    )


SUPPORTED_DATABASES = ("sqlite", "postgresql")
EXAMPLE_URLS = "sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/NAME"


def _check_database(settings: Settings) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    from models.db import engine_for

    if settings.database_url is not None and not settings.database_url.strip():
        raise SettingError(
            f"GRANTS_DATABASE_URL {settings.database_url!r}: empty; unset it for the SQLite "
            f"file in GRANTS_HOME, or give {EXAMPLE_URLS}"
        )
    where = f"GRANTS_DATABASE_URL {masked(settings.db_url)!r}"
    try:
        url = make_url(settings.db_url)
    except (ArgumentError, ValueError):
        raise SettingError(f"{where}: not a database URL{_why_not(settings.db_url)}") from None
    backend = url.get_backend_name()
    if backend not in SUPPORTED_DATABASES:
        raise SettingError(f"{where}: {backend} is not supported; give {EXAMPLE_URLS}")
    if backend == "sqlite" and url.database in (None, "", ":memory:"):
        raise SettingError(f"{where}: an in-memory database keeps nothing; give sqlite:///PATH")
    if backend == "sqlite":
        path = Path(url.database)
        if not path.exists():  # made on first write: a refused command leaves no file behind
            if not path.parent.is_dir():
                raise SettingError(f"{where}: no folder {str(path.parent)!r}")
            return
    try:
        engine_for(settings.db_url)
    except NoSuchModuleError as error:
        raise SettingError(f"{where}: {_one_line(str(error))}") from None
    except ImportError as error:
        raise SettingError(f"{where}: its driver is not installed ({error.msg})") from None
    except (SQLAlchemyError, OSError, ValueError) as error:
        reason = _one_line(str(getattr(error, "orig", None) or error))
        raise SettingError(f"{where}: cannot open it: {reason}") from None


PASSWORD = re.compile(r"^([^:/@]*:)[^?]*@")
PASSWORD_IN_QUERY = re.compile(r"(password=)[^&]*", re.IGNORECASE)


def masked(url: str) -> str:
    """A database URL as it may be shown: the password, if any, as *** (in the user part up
    to the last @ before the query, so that one with an unescaped @ is hidden whole, and as
    a `password=` parameter)."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme, rest = "", url
    rest = PASSWORD_IN_QUERY.sub(r"\1***", PASSWORD.sub(r"\1***@", rest, count=1))
    return scheme + separator + rest


def _why_not(url: str) -> str:
    """What makes `url` no URL, where the standard parser can tell: a port that is not a
    number, an IPv6 host without its closing bracket."""
    try:
        parts = urlsplit(url)
    except ValueError:  # the one thing urlsplit refuses: "Invalid IPv6 URL"
        return ": the '[' of its IPv6 host is not closed"
    _, colon, port = parts.netloc.rpartition("@")[2].rpartition(":")
    if colon and not port.isdigit() and "]" not in port:
        return f": its port {port!r} is not a number"
    return f"; give {EXAMPLE_URLS}"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
