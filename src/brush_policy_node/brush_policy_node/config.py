"""Frozen, self-validating configuration of the controllers and the policy node."""

from __future__ import annotations

from dataclasses import dataclass, field

from calligraphy_model.settings import check, setting

CONTROLLERS = ('constant', 'analytic', 'learned')
# Deepest pressing the cell executes: motion_executor_node's max_pressing_depth_m. The node's
# max_depth_m defaults to it and the cell's configs set both keys to one value (a test checks),
# so the policy never plans a depth the executor refuses (TOO_DEEP). Offline training and
# evaluation keep ControllerConfig's own, deeper range.
CELL_MAX_PRESSING_DEPTH_M = 0.008
# The learned policy conditioned on the camera's running brush-state estimate (evaluation only:
# in the cell the writer closes this loop through /observe_paper).
FEEDBACK = 'learned+feedback'
EVAL_CONTROLLERS = (*CONTROLLERS, FEEDBACK)


@dataclass(frozen=True)
class ControllerConfig:
    """Limits and defaults shared by every controller.

    Attributes:
        speed_nominal_mps: writing speed of `constant` and `analytic`, m/s.
        speed_min_mps, speed_max_mps: the learned policy's speed stays within these, m/s.
        constant_depth_m: pressing depth of `constant`; 0 = the nominal depth of the stroke's
            mean planned width (one depth per stroke, like a pen plotter).
        max_depth_m: no controller presses deeper than this, metres.
        smoothing_points: moving-average half-window applied to the policy's corrections.
    """

    # A calligrapher's regular-script stroke runs at several centimetres a second. The simulated
    # brush writes as well at 60 mm/s as at 20 (held-out IoU of learned+feedback 0.904 vs 0.906 in
    # one run of `calligraphy eval` of the 20 mm/s policy at both speeds); the policy slows down
    # where only bleed can reach a planned width.
    speed_nominal_mps: float = 0.06
    speed_min_mps: float = 0.02
    speed_max_mps: float = 0.1
    constant_depth_m: float = 0.0
    max_depth_m: float = 0.012
    smoothing_points: int = 2

    def __post_init__(self) -> None:
        if not 0.0 < self.speed_min_mps <= self.speed_nominal_mps <= self.speed_max_mps:
            raise ValueError(
                'speed limits must satisfy 0 < speed_min_mps <= speed_nominal_mps <= '
                f'speed_max_mps, got {self.speed_min_mps}, {self.speed_nominal_mps}, '
                f'{self.speed_max_mps}'
            )
        if self.constant_depth_m < 0.0:
            raise ValueError(f'constant_depth_m must be >= 0, got {self.constant_depth_m}')
        if self.max_depth_m <= 0.0:
            raise ValueError(f'max_depth_m must be > 0, got {self.max_depth_m}')
        if self.smoothing_points < 0:
            raise ValueError(f'smoothing_points must be >= 0, got {self.smoothing_points}')


@dataclass(frozen=True)
class SpeedSettings:
    """The node's `speed.*` parameters."""

    nominal_mps: float = setting(
        ControllerConfig.speed_nominal_mps, 'writing speed of constant and analytic', unit='m/s',
        low=0.0,
    )  # fmt: skip
    min_mps: float = setting(
        ControllerConfig.speed_min_mps, 'lowest speed of the learned policy', unit='m/s', low=0.0
    )
    max_mps: float = setting(
        ControllerConfig.speed_max_mps, 'highest speed of the learned policy', unit='m/s', low=0.0
    )


@dataclass(frozen=True)
class ConstantSettings:
    """The node's `constant.*` parameters."""

    pressing_depth_m: float = setting(
        ControllerConfig.constant_depth_m,
        "constant's depth (0 = the nominal depth of the stroke's mean planned width)",
        unit='m',
        low=0.0,
    )


@dataclass(frozen=True)
class NodeConfig:
    """Parameters of brush_policy_node, read once at start (see BrushPolicyNode's docstring);
    `controllers` is the ControllerConfig they make."""

    controller: str = setting('learned', 'default controller', choices=CONTROLLERS)
    model_path: str = setting(
        '', "ONNX policy with its <stem>.card.json beside it ('' = the shipped model)"
    )
    max_depth_m: float = setting(
        CELL_MAX_PRESSING_DEPTH_M,
        "deepest commanded pressing depth (the motion executor's max_pressing_depth_m; deeper "
        'depths are clipped, with a warning)',
        unit='m',
        low=0.0,
    )
    smoothing_points: int = setting(
        ControllerConfig.smoothing_points,
        'half-window of the moving average on the policy corrections',
        unit='points',
        low=0,
    )
    speed: SpeedSettings = setting(default_factory=SpeedSettings)
    constant: ConstantSettings = setting(default_factory=ConstantSettings)
    controllers: ControllerConfig = field(init=False)

    def __post_init__(self) -> None:
        if self.controller not in CONTROLLERS:
            raise ValueError(
                f'controller must be one of {", ".join(CONTROLLERS)}, got {self.controller!r}'
            )
        for settings in (self.speed, self.constant):
            check(settings)
        controllers = ControllerConfig(
            speed_nominal_mps=self.speed.nominal_mps,
            speed_min_mps=self.speed.min_mps,
            speed_max_mps=self.speed.max_mps,
            constant_depth_m=self.constant.pressing_depth_m,
            max_depth_m=self.max_depth_m,
            smoothing_points=self.smoothing_points,
        )
        object.__setattr__(self, 'controllers', controllers)
        check(self)
