"""Settings from the environment (GRANTS_*), and the configuration file they point to."""

import contextlib
import os
import secrets
import tomllib
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from grants.config import ConfigError, GrantsConfig, read_config
from models.audit import use_chain_key
from models.delivery import RetryPolicy
from models.rules import Rules

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = PROJECT_ROOT / "templates"
SAMPLES = PROJECT_ROOT / "samples"


class Settings(BaseSettings):
    """Where things live and how mail goes out. Every field has a working default."""

    model_config = SettingsConfigDict(env_prefix="GRANTS_", env_file=None)

    home: Path = Path("grants-data")
    database_url: str = ""  # default: SQLite file grants.db in `home`
    config: Path = PROJECT_ROOT / "config" / "grants.toml"
    outbox: Path | None = None  # default: `home`/outbox
    smtp_host: str = ""  # empty: letters go to the outbox as .eml files
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_timeout: float = 30.0  # seconds; a claim twice as old was interrupted (resent)
    retry_delay: float = 300.0  # seconds before the first retry; doubles with each attempt
    give_up_after: float = 72.0  # hours of temporary failures before a letter is `failed`
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
            give_up_after=timedelta(hours=self.give_up_after),
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
        """Where people reach the office (`[office] base_url`): e-mailed links point there."""
        return self.config_file.office.base_url

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


def _check_database(settings: Settings) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    from models.db import engine_for

    try:
        url = make_url(settings.db_url)
    except ArgumentError:
        raise SettingError("GRANTS_DATABASE_URL: not a database URL") from None
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        if not path.exists():  # made on first write: a refused command leaves no file behind
            if not path.parent.is_dir():
                raise SettingError(f"GRANTS_DATABASE_URL {shown}: no folder {str(path.parent)!r}")
            return
    try:
        engine_for(settings.db_url)
    except NoSuchModuleError as error:
        raise SettingError(f"GRANTS_DATABASE_URL {shown}: {_one_line(str(error))}") from None
    except (SQLAlchemyError, OSError, ValueError) as error:
        reason = _one_line(str(getattr(error, "orig", None) or error))
        raise SettingError(f"GRANTS_DATABASE_URL {shown}: cannot open it: {reason}") from None


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
