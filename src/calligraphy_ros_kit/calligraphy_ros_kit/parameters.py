"""ROS parameters declared from a configuration dataclass, read once at start.

Each field of the dataclass becomes a parameter `prefix + name` whose descriptor carries the
field's description, unit and range (calligraphy_model.settings). Every parameter declared this
way is read at start only: one callback per node refuses runtime changes with the same reason.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult
from rclpy.exceptions import ParameterUninitializedException
from rclpy.node import Node
from rclpy.parameter import Parameter

from calligraphy_model.settings import described, field_default

Config = TypeVar('Config')
_READ_AT_START = '_calligraphy_read_at_start'


def declare_config(node: Node, config_cls: type[Config], prefix: str = '', **fixed: Any) -> Config:
    """Declare a parameter for each field of `config_cls` (except those in `fixed`, which are
    passed as given) and build the config from the parameters' values. A tuple field whose
    default is empty is an optional DOUBLE_ARRAY: unset gives ()."""
    values = dict(fixed)
    for field in dataclasses.fields(config_cls):  # type: ignore[arg-type]
        if field.name in fixed or not field.init:
            continue
        name = prefix + field.name
        default = field_default(field)
        descriptor = ParameterDescriptor(description=described(field))
        if isinstance(default, tuple) and not default:
            node.declare_parameter(name, Parameter.Type.DOUBLE_ARRAY, descriptor)
            try:
                values[field.name] = tuple(node.get_parameter(name).value)
            except ParameterUninitializedException:
                values[field.name] = ()
        else:
            value = list(default) if isinstance(default, tuple) else default
            node.declare_parameter(name, value, descriptor)
            value = node.get_parameter(name).value
            values[field.name] = tuple(value) if isinstance(default, tuple) else value
        read_only_at_run_time(node, name)
    return config_cls(**values)


def read_only_at_run_time(node: Node, *names: str) -> None:
    """Refuse later changes of `names` (read at start) with one reason for every node."""
    own = getattr(node, _READ_AT_START, None)
    if own is None:
        own = set()
        setattr(node, _READ_AT_START, own)

        def refuse(parameters: list[Parameter]) -> SetParametersResult:
            changed = sorted(p.name for p in parameters if p.name in own)
            if changed:
                return SetParametersResult(
                    successful=False, reason=f'{changed} are read at start; restart the node'
                )
            return SetParametersResult(successful=True)

        node.add_on_set_parameters_callback(refuse)
    own.update(names)
