"""Small forms generated from an instrument's input model (its JSON Schema), so a helper panel
(BSA and dose per kg on the course form; ASTCT CRS / ICANS and MAGIC grades on the adverse-event
form) asks exactly what the instrument needs and is scored by the instrument itself.

Only scalar fields (numbers, integers, booleans, code lists) are offered; nested objects keep
their defaults. Empty fields are left out, so the instrument's own defaults and "not assessed"
rules apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lupuscell.instruments.base import validate_input
from lupuscell.instruments.catalog import CATALOG

HELPERS: dict[str, tuple[str, ...]] = {
    "course": ("body_size",),
    "adverse_event": ("astct_crs", "astct_icans", "magic_agvhd", "ctcae_v5"),
}


def _scalar(node: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if "$ref" in node:
        node = defs.get(str(node["$ref"]).rsplit("/", 1)[-1], {})
    if "anyOf" in node:
        branches = [b for b in node["anyOf"] if b.get("type") != "null"]
        if len(branches) != 1:
            return None
        node = {**branches[0], **{k: v for k, v in node.items() if k != "anyOf"}}
        if "$ref" in node:
            node = {
                **defs.get(str(node["$ref"]).rsplit("/", 1)[-1], {}),
                "description": node.get("description"),
            }
    if "enum" in node or node.get("type") in ("number", "integer", "boolean"):
        return node
    return None


def helper_fields(instrument: str) -> list[dict[str, Any]]:
    """The scalar fields of an instrument's input, ready for a form."""
    schema = CATALOG[instrument].input_model.model_json_schema()
    defs = schema.get("$defs", {})
    fields = []
    for name, raw in schema.get("properties", {}).items():
        node = _scalar(raw, defs)
        if node is None:
            continue
        kind = "select" if "enum" in node else "bool" if node.get("type") == "boolean" else "number"
        fields.append(
            {
                "name": name,
                "label": name.replace("_", " "),
                "kind": kind,
                "choices": [str(v) for v in node.get("enum", [])],
                "min": node.get("minimum", node.get("exclusiveMinimum")),
                "max": node.get("maximum", node.get("exclusiveMaximum")),
                "step": "1" if node.get("type") == "integer" else "any",
                "help": node.get("description") or "",
                "required": name in schema.get("required", []),
            }
        )
    return fields


def parse_helper(instrument: str, form: Mapping[str, Any]) -> dict[str, Any]:
    """Form text -> instrument input (empty fields left out)."""
    data: dict[str, Any] = {}
    for field in helper_fields(instrument):
        raw = str(form.get(f"{instrument}.{field['name']}", "")).strip()
        if raw == "":
            continue
        if field["kind"] == "bool":
            data[field["name"]] = raw == "yes"
        elif field["kind"] == "number":
            try:
                data[field["name"]] = (
                    int(raw) if field["step"] == "1" and raw.lstrip("-").isdigit() else float(raw)
                )
            except ValueError:
                data[field["name"]] = raw  # the instrument's validation names the field
        else:
            data[field["name"]] = raw
    return data


DOSE_FIELDS: dict[str, str] = {"dose.total_cells": "cells_per_kg", "dose.total_cd34": "cd34_per_kg"}
"""Totals the course helper divides by body weight (cells and CD34+ cells infused)."""


def score_helper(instrument: str, form: Mapping[str, Any]) -> dict[str, Any]:
    """The instrument's result (``to_dict``) for the helper's fields; for ``body_size`` also the
    cell and CD34+ doses per kg when totals are given (:func:`dose_per_kg`)."""
    spec = CATALOG[instrument]
    model = validate_input(spec.input_model, parse_helper(instrument, form), record=spec.name)
    result = spec.scorer(model).to_dict()
    if instrument == "body_size":
        result.update(dose_per_kg(form, float(model.weight_kg)))  # type: ignore[attr-defined]
    return result


def dose_per_kg(form: Mapping[str, Any], weight_kg: float) -> dict[str, float]:
    """Cells/kg and CD34+/kg of *actual* body weight, the basis of the EBMT and CIBMTR
    cellular-therapy forms (total cells infused / recipient weight in kg)."""
    from lupuscell.errors import Problem, ValidationError

    out: dict[str, float] = {}
    for field, name in DOSE_FIELDS.items():
        raw = str(form.get(field, "")).strip()
        if not raw:
            continue
        try:
            total = float(raw)
        except ValueError:
            total = -1.0
        if not total > 0 or total == float("inf"):
            raise ValidationError(
                Problem("dose", field.split(".")[1], f"must be a positive number, got {raw!r}")
            )
        out[name] = total / weight_kg
    return out
