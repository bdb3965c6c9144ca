"""The cell configurations agree where one node's move ends and another's begins."""

from __future__ import annotations

import pytest

from calligraphy_bringup.graph import config_path, load_parameters
from ink_dipping.config import DipRoutineConfig
from motion_executor.config import ExecutorConfig


@pytest.mark.parametrize('config', ['sim', 'real_cell', 'gazebo'])
def test_the_dip_starts_and_ends_at_the_executors_safe_height(config):
    """The executor brings the brush to the well at its safe height and lifts it there after the
    dip's path: a dip at any other height costs two short stop-and-go moves of the arm."""
    parameters = load_parameters(config_path(config))
    executor = parameters['motion_executor_node'].get(
        'safe_height_m', ExecutorConfig().safe_height_m
    )
    dip = parameters['ink_dipping_node'].get('dip.safe_height_m', DipRoutineConfig().safe_height_m)
    assert dip == pytest.approx(executor)
