"""Settings from the environment (GRANTS_*), and the configuration file they point to."""

import tomllib
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict

from models.delivery import RetryPolicy

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
    def file(self) -> dict[str, Any]:
        """The parsed configuration file: authority, registry, call and people."""
        with self.config.open("rb") as handle:
            return tomllib.load(handle)


def load() -> Settings:
    settings = Settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    return settings
