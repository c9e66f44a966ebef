"""Alembic environment of the rating service (shared body in libs.platform.migrations)."""

from sqlmodel import SQLModel

import rating.models  # noqa: F401  (registers the service's tables on the metadata)
from libs.platform.migrations import run_env

run_env(SQLModel.metadata)
