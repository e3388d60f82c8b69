"""ASGI entry point for uvicorn workers: ``uvicorn lupuscell.web.asgi:app`` (settings from the
environment, see :mod:`lupuscell.web.settings`)."""

from lupuscell.web.app import create_app

app = create_app()
