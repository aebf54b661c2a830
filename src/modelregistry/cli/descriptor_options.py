"""The descriptive filters of ``models list`` and ``models find``: modalities, mode, tags.

Light on purpose, like :mod:`modelregistry.cli.listing`: no domain import at the top, so
``--help`` does not load pydantic. The values are checked by the registry's query
(``find_models``); only the shape of ``--tag KEY=VALUE`` is checked here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import typer

from modelregistry.cli.common import usage_error

if TYPE_CHECKING:
    from modelregistry.domain.models import ModelConfig

MODALITY_NAMES: Final = ("audio", "image", "pdf", "text", "video")
"""The modalities, for help texts (a test holds them to ``domain.descriptors.MODALITIES``)."""

InputModalityOption = typer.Option(
    None,
    "--input-modality",
    metavar="NAME",
    help=f"Must take this in (repeatable: all of them): {', '.join(MODALITY_NAMES)}.",
)
OutputModalityOption = typer.Option(
    None,
    "--output-modality",
    metavar="NAME",
    help=f"Must give this out (repeatable: all of them): {', '.join(MODALITY_NAMES)}.",
)
ModeOption = typer.Option(
    None,
    "--mode",
    metavar="MODE",
    help="Only this mode (repeatable: any of them): chat, completion, responses, embedding, "
    "rerank, moderation, image_generation, ... (see the README).",
)
TagOption = typer.Option(
    None,
    "--tag",
    metavar="KEY=VALUE",
    help="Must carry this tag, exactly (repeatable: all of them), e.g. residency=eu.",
)
OpenWeightsOption = typer.Option(
    None,
    "--open-weights/--closed-weights",
    help="Only models known to have open weights (or known not to); default: any.",
    show_default=False,
)


@dataclass(frozen=True, slots=True)
class Descriptors:
    """The descriptive filters given, as ``find_models`` keyword arguments."""

    input_modalities: tuple[str, ...] = ()
    output_modalities: tuple[str, ...] = ()
    mode: tuple[str, ...] | None = None
    open_weights: bool | None = None
    tags: dict[str, str] | None = None

    @property
    def given(self) -> bool:
        """Whether any filter was given."""
        return bool(
            self.input_modalities
            or self.output_modalities
            or self.mode is not None
            or self.open_weights is not None
            or self.tags
        )

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``find_models``."""
        return {
            "input_modalities": self.input_modalities,
            "output_modalities": self.output_modalities,
            "mode": self.mode,
            "open_weights": self.open_weights,
            "tags": self.tags,
        }

    def select(self, models: list[ModelConfig]) -> list[ModelConfig]:
        """The ``models`` passing these filters (the rules of ``find_models``' query).

        Raises:
            InvalidArgumentError: E4007, as ``find_models``.
        """
        if not self.given:
            return models
        from modelregistry.domain.query import build_query  # noqa: PLC0415 - see the docstring

        query = build_query(
            capabilities=(),
            any_capabilities=(),
            providers=None,
            statuses=None,
            min_context_window=None,
            min_max_output_tokens=None,
            max_cost_per_1m_input=None,
            max_cost_per_1m_output=None,
            min_quality=None,
            max_latency_p50_ms=None,
            order_by=None,
            limit=None,
            **self.arguments(),
        )
        return [model for model in models if query.matches(model)]


def descriptors(
    ctx: typer.Context,
    *,
    input_modalities: list[str] | None,
    output_modalities: list[str] | None,
    modes: list[str] | None,
    open_weights: bool | None,
    tags: list[str] | None,
) -> Descriptors:
    """The filters of the options; a ``--tag`` not ``KEY=VALUE`` is a usage error (exit 2)."""
    wanted: dict[str, str] = {}
    for item in tags or ():
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            usage_error(f"--tag {item!r} is not KEY=VALUE (e.g. residency=eu)", ctx)
        wanted[key.strip()] = value
    return Descriptors(
        input_modalities=tuple(input_modalities or ()),
        output_modalities=tuple(output_modalities or ()),
        mode=tuple(modes) if modes else None,
        open_weights=open_weights,
        tags=wanted or None,
    )
