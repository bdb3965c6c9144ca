"""Metadata for the fields of a configuration dataclass: description, unit, range and choices.

A node declares its ROS parameters from this metadata (calligraphy_ros_kit.parameters), so the
description a user reads in `ros2 param describe` is written once, beside the default.
"""

from __future__ import annotations

import dataclasses
from typing import Any

_MISSING = dataclasses.MISSING


def setting(
    default: Any = _MISSING,
    description: str = '',
    *,
    unit: str = '',
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] = (),
    default_factory: Any = _MISSING,
) -> Any:
    """A dataclass field with its parameter metadata; `low`/`high` bound numbers (inclusive)."""
    metadata = {'description': description, 'unit': unit, 'low': low, 'high': high}
    metadata['choices'] = tuple(choices)
    if default_factory is not _MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def described(field: dataclasses.Field) -> str:
    """The field's description with its unit, range and choices, for a parameter descriptor."""
    meta = field.metadata
    text = meta.get('description', '') or field.name.replace('_', ' ')
    extras = []
    if meta.get('unit'):
        extras.append(meta['unit'])
    if meta.get('low') is not None or meta.get('high') is not None:
        low = '-inf' if meta.get('low') is None else f'{meta["low"]:g}'
        high = 'inf' if meta.get('high') is None else f'{meta["high"]:g}'
        extras.append(f'[{low}, {high}]')
    if meta.get('choices'):
        extras.append('one of ' + ', '.join(meta['choices']))
    return f'{text} ({"; ".join(extras)})' if extras else text


def field_default(field: dataclasses.Field) -> Any:
    if field.default_factory is not _MISSING:  # type: ignore[misc]
        return field.default_factory()  # type: ignore[misc]
    return field.default


def check(config: Any) -> None:
    """ValueError naming the first field of `config` outside its range or choices."""
    for field in dataclasses.fields(config):
        value, meta = getattr(config, field.name), field.metadata
        low, high, choices = meta.get('low'), meta.get('high'), meta.get('choices')
        if choices and value not in choices:
            raise ValueError(f'{field.name} is {value!r}; expected one of {", ".join(choices)}')
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if (low is not None and not value >= low) or (high is not None and not value <= high):
            low_text = '-inf' if low is None else f'{low:g}'
            high_text = 'inf' if high is None else f'{high:g}'
            raise ValueError(f'{field.name} is {value!r}; expected [{low_text}, {high_text}]')
