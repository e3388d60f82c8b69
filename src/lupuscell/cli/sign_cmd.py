"""CLI commands ``sign``, ``unlock`` and ``signatures``: electronic signatures and record locks.

``lupuscell sign visit 12 --user dr.lind`` prints the meaning of the signature (21 CFR Part 11
§11.50) and asks for the signer's password (hidden prompt), or reads it from
``$LUPUSCELL_SIGN_PASSWORD`` for scripted use - never from the command line, where it would
stay in the shell history and the process list. ``lupuscell unlock visit 12 --reason ...
--actor ADMIN`` ends the lock (admins only). See :mod:`lupuscell.registry.locking`.
"""

from __future__ import annotations

import os

import typer

from lupuscell.cli.common import registry_errors
from lupuscell.cli.registry_options import (
    ACTOR_OPTION,
    DB_OPTION,
    actor_of,
    emit,
    engine_of,
    err,
    print_table,
)

ENV_PASSWORD = "LUPUSCELL_SIGN_PASSWORD"
RECORD_TYPE_ARG = typer.Argument(..., help="patient or visit.")
RECORD_ID_ARG = typer.Argument(..., help="Record id (a patient also by code).")


def sign(
    record_type: str = RECORD_TYPE_ARG,
    record_id: str = RECORD_ID_ARG,
    user: str = typer.Option(..., "--user", help="The signer's user name (an investigator)."),
    db: str | None = DB_OPTION,
) -> None:
    """Sign (and lock) a patient's record or a visit; the password is asked for again."""
    from lupuscell.registry import locking
    from lupuscell.registry.session import transaction

    meaning = locking.MEANINGS.get(record_type)
    if meaning is not None:
        err.print(
            f"Signing {record_type} {record_id} as {user}. Meaning: {meaning}", markup=False, highlight=False
        )
    password = os.environ.get(ENV_PASSWORD) or typer.prompt(
        "Password", hide_input=True, default="", show_default=False
    )
    with registry_errors():
        engine = engine_of(db)
        try:
            with transaction(engine) as session:
                signature = locking.sign(session, record_type, record_id, username=user, password=password)
        finally:
            engine.dispose()
    err.print(f"signed and locked {record_type} {record_id}", markup=False, highlight=False)
    emit(signature)


def unlock(
    record_type: str = RECORD_TYPE_ARG,
    record_id: str = RECORD_ID_ARG,
    reason: str = typer.Option(
        ..., "--reason", help="Why the signed record is unlocked (audit log; required)."
    ),
    db: str | None = DB_OPTION,
    actor: str | None = ACTOR_OPTION,
) -> None:
    """Unlock a signed record (an admin, with a reason); its signatures are kept as history."""
    from lupuscell.registry import locking
    from lupuscell.registry.session import transaction

    with registry_errors():
        engine = engine_of(db)
        try:
            with transaction(engine) as session:
                ended = locking.unlock(session, record_type, record_id, actor=actor_of(actor), reason=reason)
        finally:
            engine.dispose()
    err.print(f"unlocked {record_type} {record_id}", markup=False, highlight=False)
    emit({"record_type": record_type, "record_id": record_id, "signatures_ended": ended})


def signatures(
    record_type: str = RECORD_TYPE_ARG,
    record_id: str = RECORD_ID_ARG,
    as_json: bool = typer.Option(False, "--json", help="JSON to stdout instead of a table."),
    db: str | None = DB_OPTION,
) -> None:
    """The signatures of a record (active and ended), with their meaning."""
    from sqlalchemy.orm import Session

    from lupuscell.registry import locking
    from lupuscell.registry.dm_records import locate

    with registry_errors():
        engine = engine_of(db)
        try:
            with Session(engine) as session:
                rows = locking.signatures(
                    session, record_type, locate(session, record_type, record_id).record_id
                )
        finally:
            engine.dispose()
    if as_json:
        emit({"signatures": rows})
        return
    columns = (
        "id",
        "printed_name",
        "signer",
        "signed_at",
        "meaning",
        "active",
        "unlocked_by",
        "unlock_reason",
    )
    print_table(
        f"signatures of {record_type} {record_id}", columns, [tuple(r[c] for c in columns) for r in rows]
    )


def register(app: typer.Typer) -> None:
    app.command("sign")(sign)
    app.command("unlock")(unlock)
    app.command("signatures")(signatures)
