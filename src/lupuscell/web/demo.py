"""Demo accounts for ``make run``: one admin and one user per role, created only when absent.

The password is the same for every demo account and printed at start-up; the demo serves
on 127.0.0.1 only. Never use these accounts on a registry with real patients.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from lupuscell.registry import accounts
from lupuscell.registry.account_models import ROLES
from lupuscell.web.security import hash_password

DEMO_PASSWORD = "lupuscell-demo"


def demo_sites(all_sites: list[str], role: str) -> list[str]:
    """Admin and statistician see every site; the others the first site only (to show isolation)."""
    return all_sites if role in ("admin", "statistician") else all_sites[:1]


def ensure_demo_users(engine: Engine) -> list[tuple[str, str, list[str]]]:
    """Create the missing demo users; return (username, role, sites) of every demo user."""
    sites = accounts.site_codes(engine)
    out = []
    digest: str | None = None
    for role in ROLES:
        found = accounts.get_by_username(engine, role)
        if found is None:
            digest = digest or hash_password(DEMO_PASSWORD)
            account = accounts.create_user(
                engine,
                username=role,
                full_name=f"Demo {role}",
                role=role,
                sites=demo_sites(sites, role),
                password_hash=digest,
                actor="lupuscell demo",
            )
        else:
            account = found[0]
        out.append((account.username, account.role, list(account.sites)))
    return out
