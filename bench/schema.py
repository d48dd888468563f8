"""What the schema check costs a command that starts on a database already at head.

    .venv/bin/python bench/schema.py                       # a SQLite file
    .venv/bin/python bench/schema.py --database-url postgresql+psycopg://…/grants_bench

Every `grants` process brings its database to the newest revision on first use
(models.schema.upgrade). Goal: next to nothing when there is nothing to do. Each round is a
fresh process, as a command is: it times the check alone (`upgrade` on a database at head)
and `engine_for` as a whole (engines, first connection, check), and says whether Alembic was
imported (it should not be: its import alone is timed last, for comparison).
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # run as a script: bench/ is on the path, not the project
    sys.path.insert(0, str(PROJECT_ROOT))

ROUND = """
import json, sys, time
from models.db import engine_for, new_engine
from models.schema import upgrade
url = sys.argv[1]
engine = new_engine(url, migrating=True)
start = time.perf_counter()
upgrade(engine)
check = time.perf_counter() - start
engine.dispose()
engine_for.cache_clear()
start = time.perf_counter()
engine_for(url)
whole = time.perf_counter() - start
loaded = "alembic" in sys.modules
start = time.perf_counter()
import alembic.command
print(json.dumps([check, whole, loaded, time.perf_counter() - start]))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a new SQLite file")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'grants.db'}"
        from models.db import engine_for

        engine_for(url).dispose()  # upgraded to head once
        rounds = [one_round(url) for _ in range(args.rounds)]
    check, whole, alembic, alembic_import = (list(column) for column in zip(*rounds, strict=True))
    print(f"{args.rounds} fresh processes on {url.split(':')[0]}, the database at head:")
    print(f"  alembic imported by the check: {'yes' if any(alembic) else 'no'}")
    print(f"  engine_for (engines, first connection, check): p50 {ms(whole)}")
    print(f"  importing Alembic, which the check avoids: p50 {ms(alembic_import)}")
    print(f"schema check at start: p50 {ms(check)}, max {max(check) * 1000:.1f} ms")


def one_round(url: str) -> list:
    """A fresh process, as a command is: [check s, engine_for s, Alembic loaded, its import s]."""
    result = subprocess.run(
        [sys.executable, "-c", ROUND, url], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(result.stderr)
    return json.loads(result.stdout)


def ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:.1f} ms"


if __name__ == "__main__":
    main()
