"""Page routers (server-rendered HTML), one module per area of the application."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    """Every page router, in the order they are mounted."""
    from lupuscell.web.routes import (
        admin,
        audit,
        auth,
        dashboard,
        data_management,
        evidence,
        patients,
        pro,
        public,
        records,
        reports,
    )

    return [
        auth.router,
        dashboard.router,
        patients.router,
        records.router,
        data_management.router,
        pro.router,
        audit.router,
        reports.router,
        evidence.router,
        admin.router,
        public.router,
    ]
