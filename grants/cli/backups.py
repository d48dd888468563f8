"""`grants backup` and `grants restore`: the home and its case database in one archive, and
back into an empty home (grants.backups)."""

from pathlib import Path
from typing import Annotated

import typer

from grants.backups import BackupRefused, Keep, backup_folder, make_backup, restore
from grants.cli.common import fail, out, settings_checked, shown
from grants.settings import SettingError, checked

app = typer.Typer()


@app.command("backup")
def backup_command(
    to: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the archive; default: [backup] folder, else GRANTS_HOME/backups."
        ),
    ] = None,
) -> None:
    """Back up the case database (taken while it is in use), the files under GRANTS_HOME,
    the secret key and the configuration into one dated archive with a SHA-256 manifest
    inside and its checksum beside it; encrypted for `[backup] recipient` if set. Then
    delete our older archives there that the retention rule ([backup] keep_daily,
    keep_weekly, keep_monthly) does not keep.

    The audit chain's key is not in it: keep it apart. Exits 0 when made, 2 when not.
    """
    settings = settings_checked()
    section = settings.config_file.backup
    keep = Keep(section.keep_daily, section.keep_weekly, section.keep_monthly)
    try:
        made = make_backup(settings, to or backup_folder(settings), section.recipient, keep)
    except (BackupRefused, OSError) as error:
        raise fail(str(error)) from None
    contents = made.contents
    encrypted = f", encrypted for {section.recipient}" if section.recipient else ""
    out.print(
        f"Backed up to {shown(made.archive)} ({_size(made.size)}{encrypted}): the case "
        f"database ({contents.database}), {contents.home_files} file(s) of GRANTS_HOME, the "
        f"secret key and the configuration ({shown(contents.config)}).",
        highlight=False,
        soft_wrap=True,
    )
    out.print(f"Its SHA-256 is in {shown(made.archive.name)}.sha256 beside it.", highlight=False)
    out.print(
        "Not in it: the audit chain's key (GRANTS_CHAIN_KEY, or chain_key in GRANTS_HOME); "
        "keep a copy of it apart from the archives.",
        highlight=False,
        soft_wrap=True,
    )
    out.print(
        f"Kept: the newest of each of the last {keep.daily} day(s), {keep.weekly} week(s) and "
        f"{keep.monthly} month(s); {len(made.deleted)} older archive(s) deleted.",
        highlight=False,
        soft_wrap=True,
    )


@app.command("restore")
def restore_command(
    archive: Annotated[Path, typer.Argument(help="An archive `grants backup` made.")],
    identity: Annotated[
        Path | None,
        typer.Option(help="The age identity (private key) file, for an encrypted archive."),
    ] = None,
) -> None:
    """Restore an archive of `grants backup` into an empty case database
    (GRANTS_DATABASE_URL) and an empty GRANTS_HOME (the audit chain's key may be there
    already: put it back first). Its checksum and every file of its manifest are checked
    before anything is written; a damaged archive or a target that is not empty is refused,
    and nothing is changed.

    Then run `grants verify`. Exits 0 when restored, 2 when refused.
    """
    try:
        settings = checked(config=False, open_database=False)
        restored = restore(settings, archive, identity)
    except (SettingError, BackupRefused) as error:
        raise fail(str(error)) from None
    contents = restored.contents
    out.print(
        f"Restored {shown(archive.name)}: the case database ({contents.database}), "
        f"{contents.home_files} file(s) into GRANTS_HOME {shown(settings.home)}, the secret "
        "key.",
        highlight=False,
        soft_wrap=True,
    )
    if restored.config_differs:
        out.print(
            f"The archive's configuration differs from GRANTS_CONFIG: it is in "
            f"{shown(restored.config_written)}, to compare.",
            highlight=False,
            soft_wrap=True,
        )
    elif restored.config_written:
        out.print(f"Configuration written to {shown(restored.config_written)}.", highlight=False)
    out.print("Now check it: grants verify --as OFFICER", highlight=False)


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB"
