"""Sequencing one character: plan → for each stroke: ink check → brush path → execute → observe.

The sequencer speaks to the rest of the cell through `WriterPort`, so this module knows neither ROS
nor message types; the writer node implements the port with service and action clients, tests
with an in-memory fake. Plans, paths and brush states pass through it as opaque objects.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from calligraphy_model.errors import CalligraphyError
from calligraphy_model.ink_budget import InkBudget

# Error codes: the same numbers as WriteCharacter.Result / WriteText.Result (the writer's one
# mirror of the interface constants; a test checks that they are equal).
SUCCESS = 0
EMPTY_CHARACTER = 1
CHARACTER_NOT_IN_FONT = 2
FONT_UNREADABLE = 3
SIZE_OUT_OF_RANGE = 4
BOX_OUTSIDE_SHEET = 5
TEXT_DOES_NOT_FIT = 5  # WriteText's code 5 (WriteCharacter's is BOX_OUTSIDE_SHEET)
BUSY = 6
ARM_BUSY = 7
PLANNING_FAILED = 10
CONTROLLER_FAILED = 11
DIP_FAILED = 12
EXECUTION_FAILED = 13
OBSERVATION_FAILED = 14
SERVICE_UNAVAILABLE = 15
CANCELED = 20
INTERNAL_ERROR = 99


class WriteError(CalligraphyError):
    """A failure with the error code the caller receives (`code`, `message`)."""


@dataclass(frozen=True)
class PlannedCharacter:
    """What the sequencer needs of a plan: its strokes' inked areas (m²) and the plan itself."""

    character: str
    stroke_areas_m2: tuple[float, ...]
    plan: Any

    @property
    def stroke_count(self) -> int:
        return len(self.stroke_areas_m2)


@dataclass(frozen=True)
class Observation:
    """What the camera (or virtual paper) reported after a stroke."""

    scores: dict[str, float]
    brush_state: Any = None
    last_stroke_darkness: float | None = None
    ink_load: float | None = None
    image_path: str = ''


class WriterPort(Protocol):
    """The cell as the sequencer sees it. Each call raises WriteError on failure."""

    # Whether `observe` first moves the brush out of the camera's way (and leaves it at the safe
    # height): then a character's last stroke needs to lift it only to the hop height.
    moves_away_to_observe: bool

    def compute_path(
        self, plan: Any, stroke_index: int, brush_state: Any, controller: str
    ) -> Any: ...

    def dip(self) -> float: ...

    def execute(self, path: Any, hop_after: bool) -> None:
        """Write one path, arriving at the hop height (or from higher, where the brush is higher:
        after a dip, at the start). `hop_after`: another stroke follows, retreat only to the hop
        height, else to the safe height. A port whose `chains_strokes` is true also takes
        `then_paths` (written after `path` in the same motion, hopping between them without a
        stop) and `on_stroke(k)`, called on this thread once k of the paths are written."""

    def observe(self, plan: Any, strokes_written: int, save: bool) -> Observation: ...

    def lift(self) -> None:
        """Bring the brush to the safe height (after a failure or a cancel)."""

    def set_writing(self, writing: bool) -> None: ...


@dataclass
class Progress:
    phase: str
    stroke_index: int
    stroke_count: int
    running_iou: float
    ink_load: float


@dataclass
class CharacterOutcome:
    character: str
    strokes_written: int = 0
    stroke_count: int = 0
    dips: int = 0
    scores: dict[str, float] = field(default_factory=dict)
    image_path: str = ''
    error_code: int = SUCCESS
    error_msg: str = ''
    duration_s: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return self.error_code == SUCCESS


def nan_scores() -> dict[str, float]:
    keys = ('iou', 'chamfer_m', 'coverage', 'spill', 'stroke_order', 'width_error_m')
    return dict.fromkeys(keys, math.nan)


class CharacterSequencer:
    """Writes planned characters stroke by stroke through a WriterPort.

    Ink is checked only between strokes. With feedback on, the paper is observed after every
    stroke and the estimated brush state conditions the next stroke's path; without, it is
    observed once, after the last stroke, for the score (with feedback and
    `feedback_every_stroke` off, that observation's estimate conditions the next character).
    The first observation that fails marks the camera lost for the rest of the goal (until
    `start_goal`): the rest is written open loop without waiting on the camera again, and the
    character's outcome says so once in its warnings.
    """

    def __init__(self, port: WriterPort, budget: InkBudget, initial_brush_state: Any = None):
        self.port = port
        self.budget = budget
        self.brush_state = initial_brush_state
        self.camera_lost = False
        # With feedback: observe after every stroke (True), or after each character's last
        # stroke only, whose estimate then conditions the next character (False).
        self.feedback_every_stroke = True

    def start_goal(self) -> None:
        """A new goal: try the camera again."""
        self.camera_lost = False

    def write(
        self,
        planned: PlannedCharacter,
        controller: str,
        use_feedback: bool,
        on_progress: Callable[[Progress], None] = lambda progress: None,
        cancel_requested: Callable[[], bool] = lambda: False,
        save_image: bool = True,
        more_follow: bool = False,
    ) -> CharacterOutcome:
        """Write one character. The brush hops low between strokes, and on to the next character
        when `more_follow` (a text) or to the camera's clear view; it leaves the character at the
        safe height."""
        started = time.monotonic()
        outcome = CharacterOutcome(
            planned.character, stroke_count=planned.stroke_count, scores=nan_scores()
        )
        running_iou = math.nan
        last_darkness: float | None = None

        def report(phase: str, index: int, ink_load: float | None = None) -> None:
            load = self.budget.load if ink_load is None else ink_load
            on_progress(Progress(phase, index, planned.stroke_count, running_iou, load))

        areas = planned.stroke_areas_m2
        # Strokes between two observations (none with feedback after every stroke) and two dips
        # go to the arm as one motion when the port can chain them.
        chain = getattr(self.port, 'chains_strokes', False) and not (
            use_feedback and self.feedback_every_stroke
        )
        try:
            index = 0
            while index < planned.stroke_count:
                if cancel_requested():
                    raise WriteError(CANCELED, f'canceled after {index} strokes')
                if self.budget.dip_decision(areas[index], last_darkness).dip:
                    report('dipping', index)
                    self.budget.reloaded(self.port.dip())
                    outcome.dips += 1
                report('controlling', index)
                path = self.port.compute_path(planned.plan, index, self.brush_state, controller)
                then_paths: list[Any] = []
                loads = [self.budget.load]  # before each stroke of the goal
                if chain:
                    # The ink of each stroke is booked before the next one's dip decision and
                    # path, as when they are written one by one; none is observed in between.
                    self.budget.consume(areas[index])
                    following = index + 1
                    while following < planned.stroke_count and not (
                        self.budget.dip_decision(areas[following], last_darkness).dip
                    ):
                        report('controlling', following)
                        then_paths.append(
                            self.port.compute_path(
                                planned.plan, following, self.brush_state, controller
                            )
                        )
                        loads.append(self.budget.load)
                        self.budget.consume(areas[following])
                        following += 1
                end = index + 1 + len(then_paths)
                report('executing', index, loads[0])
                last = end == planned.stroke_count
                # After the last stroke the brush goes on low to the next character, or to
                # where the camera is observed from, which lifts it to the safe height.
                observes_next = last and self.port.moves_away_to_observe and not self.camera_lost
                hop_after = more_follow or not last or observes_next
                self.port.set_writing(True)
                try:
                    if chain:
                        on_stroke = functools.partial(_written, outcome, report, index, loads)
                        self.port.execute(
                            path, hop_after=hop_after, then_paths=then_paths, on_stroke=on_stroke
                        )
                    else:
                        self.port.execute(path, hop_after=hop_after)
                finally:
                    self.port.set_writing(False)
                if not chain:
                    self.budget.consume(areas[index])
                outcome.strokes_written = index = end
                observe = last or (use_feedback and self.feedback_every_stroke)
                if observe and not self.camera_lost:
                    report('observing', end - 1)
                    try:
                        observation = self.port.observe(
                            planned.plan, end, save=last and save_image
                        )
                    except WriteError as error:
                        if error.code != OBSERVATION_FAILED:
                            raise
                        # No camera: keep writing open loop, and say so in the result. A score
                        # of the strokes before the last is not the character's: none is known.
                        self.camera_lost = True
                        outcome.warnings.append(
                            f'camera lost at stroke {end} of {planned.character} '
                            f'({error.message}): the rest was written open loop'
                        )
                        outcome.scores, outcome.image_path = nan_scores(), ''
                        continue
                    running_iou = observation.scores.get('iou', math.nan)
                    outcome.scores = dict(observation.scores)
                    outcome.image_path = observation.image_path
                    last_darkness = observation.last_stroke_darkness
                    if observation.ink_load is not None:
                        self.budget.observe(observation.ink_load)
                    if use_feedback and observation.brush_state is not None:
                        self.brush_state = observation.brush_state
        except WriteError as error:
            outcome.error_code, outcome.error_msg = error.code, error.message
        except Exception as error:  # noqa: BLE001 — the caller gets a result, never a crash
            outcome.error_code = INTERNAL_ERROR
            outcome.error_msg = f'{type(error).__name__}: {error}'
        if not outcome.success:
            self._lift_safely(outcome)
        outcome.duration_s = time.monotonic() - started
        return outcome

    def _lift_safely(self, outcome: CharacterOutcome) -> None:
        try:
            self.port.lift()
        except Exception as error:  # noqa: BLE001
            outcome.error_msg += f' (and lifting the brush failed: {error})'


def _written(outcome: CharacterOutcome, report, first: int, loads: list, written: int) -> None:
    """`written` strokes of a chained goal (strokes first.., the brush's predicted load before
    each in `loads`) are on the sheet: the next one is being written."""
    outcome.strokes_written = first + written
    if written < len(loads):
        report('executing', first + written, loads[written])
