"""Alembic environment: the metadata of every kefu package, on one connection."""

from __future__ import annotations

import importlib

from alembic import context

from kefu.db import MIGRATION_PACKAGES, Base, make_engine

for _pkg in MIGRATION_PACKAGES:
    try:
        importlib.import_module(f"{_pkg}.models")
    except ModuleNotFoundError as exc:  # a package without tables yet
        if exc.name not in (_pkg, f"{_pkg}.models"):
            raise

target_metadata = Base.metadata
config = context.config


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
