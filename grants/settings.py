"""Settings from the environment (GRANTS_*), and the configuration file they point to."""

import contextlib
import dataclasses
import os
import re
import secrets
import socket
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from grants.config import ConfigError, GrantsConfig, read_config
from grants.seal import GENERATED, Pkcs11, Seal, generated_seal
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
    previous_secret_keys: str = ""  # earlier secret keys, for links signed before a rotation
    chain_key: str = ""  # keys the audit trail's hash chain; default: a file in `home`
    oidc_client_secret: str = ""  # overrides [auth.oidc] client_secret in the file
    seal_passphrase: str = ""  # overrides [seal] passphrase in the file
    metrics_token: str = ""  # the bearer token of the office's /metrics; empty: no /metrics

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The secrets given as files (`SecretFiles`), then the environment."""
        return init_settings, SecretFiles(settings_cls), env_settings

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

    @property
    def verifying_keys(self) -> list[str]:
        """The keys a signed link may carry, the current one last (as itsdangerous signs
        with the last): after a rotation, links e-mailed under an earlier key
        (GRANTS_PREVIOUS_SECRET_KEYS) still open until they expire."""
        return [*self.previous_secret_keys.replace(",", " ").split(), self.signing_key]

    @cached_property
    def audit_chain_key(self) -> bytes:
        """What keys the audit trail's hash chain and the anchors (models.audit,
        grants.anchors): GRANTS_CHAIN_KEY, else a random key kept in `home` like the
        signing key, but apart from it. Kept outside the database and its backups: whoever
        can rewrite the database cannot rechain the trail without it."""
        return (self.chain_key or _key_file(self.home / "chain_key")).encode()

    @cached_property
    def seal(self) -> Seal | None:
        """The authority's e-seal from `[seal]`, or None if there is none (`checked()`
        refuses to start without one); a generated one is made in `home` on first use. The
        passphrase: GRANTS_SEAL_PASSPHRASE (or its file, SecretFiles), else the
        configuration's."""
        section = self.config_file.seal
        if section is None:
            return None
        if section.generated:
            made = generated_seal(self.home.resolve() / GENERATED, self.config_file.authority.name)
            return dataclasses.replace(made, timestamp_url=section.timestamp_url)
        passphrase = self.seal_passphrase or section.passphrase
        module = section.pkcs11
        return Seal(
            Path(section.trust_anchor or ""),
            pkcs12=Path(section.pkcs12) if section.pkcs12 else None,
            pkcs11=Pkcs11(module.module, module.token_label, module.key_label) if module else None,
            passphrase=passphrase,
            timestamp_url=section.timestamp_url,
        )


SECRETS = (
    "secret_key",
    "previous_secret_keys",
    "chain_key",
    "smtp_password",
    "oidc_client_secret",
    "database_url",
    "seal_passphrase",
)


class SecretFiles(PydanticBaseSettingsSource):
    """Secrets kept out of the environment file: each setting of SECRETS may be given as
    GRANTS_NAME_FILE, a file holding the value (one line; its line end is not part of it),
    or as a systemd credential named like the setting (`LoadCredential=secret_key:…`, read
    from $CREDENTIALS_DIRECTORY/secret_key). A file named but unreadable is a SettingError
    naming the variable and the path: a key silently missing would make a new one."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # every value comes from __call__

    def __call__(self) -> dict[str, Any]:
        return {
            name: value
            for name in SECRETS
            if (value := secret_from_file(name, os.environ)) is not None
        }


def secret_from_file(name: str, environ: Mapping[str, str]) -> str | None:
    """The secret setting `name` from its GRANTS_NAME_FILE or its systemd credential;
    None when neither is given."""
    variable = f"GRANTS_{name.upper()}"
    path = environ.get(f"{variable}_FILE")
    where = f"{variable}_FILE"
    if path is None:
        credentials = environ.get("CREDENTIALS_DIRECTORY")
        if not credentials or not os.path.lexists(os.path.join(credentials, name)):
            return None
        path, where = os.path.join(credentials, name), f"{variable} (systemd credential)"
    if environ.get(variable):  # an empty GRANTS_NAME= (as in the example env file) is unset
        raise SettingError(f"{where} {path!r}: {variable} is set too; give the value once")
    try:
        value = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as error:
        raise SettingError(f"{where} {path!r}: cannot read it: {error.strerror}") from None
    except UnicodeDecodeError:
        raise SettingError(f"{where} {path!r}: not UTF-8 text") from None
    if not value.strip():
        raise SettingError(f"{where} {path!r}: the file is empty")
    return value


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


def checked(*, config: bool = True, open_database: bool = True) -> Settings:
    """The settings, each one tried before any work starts: the environment's values, the
    home folder, the configuration file and the case database. Raises SettingError.
    A restore (grants.backups) brings the configuration and the database itself: it checks
    neither the file nor opens the database (which would make grants' tables in it)."""
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
    if config:
        _check_config(settings)
        _check_seal(settings)
        _check_links(settings)
    _check_database(settings, open_database)
    return settings


def _check_seal(settings: Settings) -> None:
    """A public authority's decision must be sealed: no start without `[seal]`, nor with a
    PKCS#12 file its passphrase does not open (a hardware token is tried when it seals)."""
    where = f"GRANTS_CONFIG {str(settings.config)!r}"
    if settings.config_file.seal is None:
        raise SettingError(
            f"{where}: no [seal]: signed decisions must carry the authority's e-seal; "
            "set [seal] pkcs12 or [seal.pkcs11] and trust_anchor (see README, The seal)"
        )
    if settings.config_file.seal.generated:
        return  # made when it first seals
    seal = settings.seal
    if seal is not None and seal.pkcs12 is not None:
        from cryptography.hazmat.primitives.serialization import pkcs12

        try:
            pkcs12.load_key_and_certificates(seal.pkcs12.read_bytes(), seal.passphrase.encode())
        except (OSError, ValueError, TypeError):
            raise SettingError(
                f"{where}: [seal] pkcs12 {str(seal.pkcs12)!r}: cannot be opened with its "
                "passphrase ([seal] passphrase, GRANTS_SEAL_PASSPHRASE or _FILE)"
            ) from None


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


def _check_database(settings: Settings, open_database: bool = True) -> None:
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
    if not open_database:
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
