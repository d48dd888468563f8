"""Payment file benchmark: 10,000 attested payment orders into one validated pain.001.

    .venv/bin/python bench/payments.py                # 10 000 orders
    .venv/bin/python bench/payments.py --count 1000 --keep

A throwaway GRANTS_HOME gets the sample call's eight applications (`grants intake`), and
then `--count` cases made from them row by row (a case for each order, the eight
organisations in turn), each with its conditions accepted, an account of each kind in turn
and its first instalment attested: what the preparing and attesting steps leave.

Measured, in a process of its own (so its peak memory is the export's, not the set-up's):
(a) the finance department's step `export_payments`, as `grants payments export` takes it:
the orders read and locked, the pain.001 built, validated against the ISO schema, kept in
the database and the orders marked exported; the file kept is validated again and its count
and control sum checked against the orders. With `--payment-order`, (b) the files written to
GRANTS_HOME/payments after it: the pain.001 and its payment order as CSV and PDF
(WeasyPrint: 43 pages for 500 payments in 22 s on the shared 2-core machine, so minutes
for 10 000).

The last line: `payment file: N payments in X s, peak Y MB`.
"""

import argparse
import atexit
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_orders(count: int) -> None:
    """`count` cases with attested orders in the home GRANTS_HOME points at."""
    from sqlmodel import col, select

    from grants.settings import load
    from models import clock
    from models.db import transaction
    from models.tables import (
        Acceptance,
        AccountKind,
        Case,
        PayeeAccount,
        PaymentOrder,
        PaymentStatus,
    )
    from tests.bank_orders import ACCOUNTS, finance_person
    from tests.helpers import DECISION_MAKER, OFFICER, grants

    grants("intake", str(ROOT / "samples" / "applications.json"), "--as", OFFICER, "--no-letters")
    finance_person()
    kinds = list(AccountKind)
    with transaction(load().db_url) as session:
        samples = list(session.exec(select(Case).order_by(col(Case.id))))
        columns = samples[0].model_dump(exclude={"id", "case_reference", "intake_key"})
        for number in range(1, count + 1):
            sample = samples[number % len(samples)]
            case = Case(
                **(columns | {"organisation_id": sample.organisation_id}),
                case_reference=f"26BENCH{number}",
                intake_key=f"bench-{number}",
            )
            session.add(case)
            session.flush()
            kind = kinds[number % len(kinds)]
            clearing, account_number = ACCOUNTS[kind]
            account = PayeeAccount(
                case_id=case.id,
                kind=kind,
                clearing=clearing,
                number=account_number,
                given_by="applicant",
            )
            session.add(account)
            session.add(
                Acceptance(case_id=case.id, signatory_name="Eva Ek", signatory_role="ordförande")
            )
            session.flush()
            session.add(
                PaymentOrder(
                    case_id=case.id,
                    instalment=1,
                    amount=20_000 + number,
                    status=PaymentStatus.attested,
                    account_id=account.id,
                    end_to_end_id=f"26BENCH{number}-1",
                    prepared_by=OFFICER,
                    attested_by=DECISION_MAKER,
                    attested_at=clock.now(),
                )
            )


def export(payment_order: bool) -> dict[str, float | int | str]:
    """Stage (its own process): the export step, then (`payment_order`) the files; figures
    as JSON."""
    from grants.payment_files import read_pain001, schema_problems
    from grants.settings import load
    from grants.steps import take
    from grants.steps.bank import write_payment_files
    from tests.bank_orders import FINANCE

    settings = load()
    started = time.perf_counter()
    made = take(settings, "export_payments", FINANCE).result
    step = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    problems = schema_problems(made.content)
    read = read_pain001(made.content)
    if problems or read.count != made.payment_count or read.control_sum != Decimal(made.total):
        raise SystemExit(f"the payment file is not right: {problems[:3]} {read.count}")
    figures = {"payments": made.payment_count, "seconds": step, "peak_mb": peak}
    figures["megabytes"] = len(made.content) / 1e6
    if payment_order:
        started = time.perf_counter()
        (written,) = write_payment_files(settings)
        figures["files_seconds"] = time.perf_counter() - started
        figures["files_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        figures["pdf_pages"] = _pages(written.paths[1])
    return figures


def _pages(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the home, and say where")
    parser.add_argument(
        "--payment-order", action="store_true", help="write the files too, the PDF with them"
    )
    parser.add_argument("--stage", choices=["export"], help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.stage:
        print(json.dumps(export(arguments.payment_order)))
        return
    home = Path(tempfile.mkdtemp(prefix="grants-bench-payments-"))
    os.environ["GRANTS_HOME"] = str(home)
    if arguments.keep:
        print(f"home: {home}")
    else:  # after the intake's Prefect server has stopped and logged it there (atexit: LIFO)
        atexit.register(shutil.rmtree, home, ignore_errors=True)
    started = time.perf_counter()
    make_orders(arguments.count)
    print(f"set-up: {arguments.count} attested orders in {time.perf_counter() - started:.1f} s")
    stage = subprocess.run(
        [sys.executable, __file__, "--stage", "export"]
        + (["--payment-order"] if arguments.payment_order else []),
        check=True,
        capture_output=True,
        text=True,
        env=os.environ | {"GRANTS_HOME": str(home)},
    )
    figures = json.loads(stage.stdout.strip().splitlines()[-1])
    if arguments.payment_order:
        print(
            f"files: the pain.001 and its payment order as CSV and PDF "
            f"({figures['pdf_pages']} pages) in {figures['files_seconds']:.1f} s, "
            f"peak {figures['files_peak_mb']:.0f} MB"
        )
    print(f"pain.001: {figures['megabytes']:.1f} MB, valid against the ISO schema")
    print(
        f"payment file: {figures['payments']} payments in {figures['seconds']:.1f} s, "
        f"peak {figures['peak_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
