"""`python -m grants`: the same as the `grants` command."""

from grants.cli import app

app()
