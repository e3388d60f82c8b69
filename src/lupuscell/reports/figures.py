"""Writing figures to files: the one place the pure packages' ``Figure`` objects are saved.

The plot functions of :mod:`lupuscell.evidence` and :mod:`lupuscell.analysis` return a
:class:`matplotlib.figure.Figure` and never write; the CLI and the report builders call
:func:`save_figure`, which picks the format from the file suffix.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from lupuscell.errors import ValidationError

#: File types a figure can be written as (by suffix).
FIGURE_FORMATS: tuple[str, ...] = (".png", ".svg", ".pdf")


def save_figure(fig: Figure, path: Path | str, *, dpi: int = 200, tight: bool = True) -> Path:
    """Write ``fig`` to ``path`` (.png, .svg or .pdf), creating the folder.

    Raises
    ------
    ValidationError
        For any other suffix, naming the path.
    """
    p = Path(path)
    if p.suffix.lower() not in FIGURE_FORMATS:
        raise ValidationError.single(
            str(p),
            "suffix",
            f"unsupported figure format {p.suffix!r}; use one of {', '.join(FIGURE_FORMATS)}",
        )
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, dpi=dpi, bbox_inches="tight" if tight else None)
    return p
