"""The office: the web application where each person does their own part (`grants serve`)."""

import warnings

import authlib.deprecate  # noqa: F401  (sets its own warnings to "always" when first imported)

# Authlib 1.9 asks for httpx2 when imported; it works with the httpx FastAPI and Prefect use.
warnings.filterwarnings("ignore", message="The httpx module is deprecated")
