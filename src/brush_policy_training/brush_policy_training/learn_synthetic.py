"""Sessions made offline, for tests and measurements of `calligraphy learn` without a cell.

`simulate_session` writes characters with the learned policy (told the nominal brush, as a cell
that does not know its brush) in the offline brush simulator (calligraphy_sim.brush_render, the
virtual paper's physics), measures every stroke after it is written the way the camera does
(calligraphy_model.stroke_width.measure_strokes on the box so far, crossings excluded; an ideal
camera: no perspective, lighting or sensor noise; its darkness is the ink's density times the
cell camera's contrast, `EstimatorConfig.full_ink_darkness`), and records what a cell would: one
BrushPath per stroke on /writer/brush_path, one PaperObservation per stroke on /paper_observation
and, for each dip (the brush reloaded full when it falls below RELOAD_BELOW), the dipping action's
status going from executing to succeeded on /dip_ink/_action/status, in a rosbag2 bag (MCAP)
`OUT/session/`, with a report.json naming the simulated brush.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from brush_policy_training.learn_session import (
    DIP_STATUS_TOPIC,
    OBSERVATION_TOPIC,
    PATH_TOPIC,
    typestore,
)
from calligraphy_model.brush import BrushParams
from calligraphy_model.brush_state import EstimatorConfig

PATH_TYPE = 'calligraphy_interfaces/msg/BrushPath'
OBSERVATION_TYPE = 'calligraphy_interfaces/msg/PaperObservation'
METRICS_TYPE = 'calligraphy_interfaces/msg/StrokeMetrics'
STATUS_TYPE = 'action_msgs/msg/GoalStatusArray'
RELOAD_BELOW = 0.3


def default_message(store, msgtype: str):
    """An instance of `msgtype` with every field zero, empty or default (recursively)."""
    from rosbags.interfaces import Nodetype

    _, fields = store.fielddefs[msgtype]
    values = {}
    for name, (kind, detail) in fields:
        if kind == Nodetype.BASE:
            base = detail[0]
            values[name] = '' if base == 'string' else False if base == 'bool' else 0
        elif kind == Nodetype.NAME:
            values[name] = default_message(store, detail)
        elif kind == Nodetype.SEQUENCE and detail[0][0] == Nodetype.BASE:
            dtype = np.uint8 if detail[0][1][0] in ('uint8', 'byte', 'char') else np.float64
            values[name] = np.zeros(0, dtype=dtype)
        else:
            values[name] = []
    return store.types[msgtype](**values)


class SessionBag:
    """Writes BrushPath and PaperObservation messages to OUT/session (MCAP) with rosbags."""

    def __init__(self, out: Path) -> None:
        from rosbags.rosbag2 import StoragePlugin, Writer

        self.store = typestore()
        self.writer = Writer(
            Path(out) / 'session', version=Writer.VERSION_LATEST, storage_plugin=StoragePlugin.MCAP
        )
        self.writer.open()
        self.paths = self.writer.add_connection(PATH_TOPIC, PATH_TYPE, typestore=self.store)
        self.observations = self.writer.add_connection(
            OBSERVATION_TOPIC, OBSERVATION_TYPE, typestore=self.store
        )
        self.dip_status = self.writer.add_connection(
            DIP_STATUS_TOPIC, STATUS_TYPE, typestore=self.store
        )
        self.stamp = 1_780_000_000 * 10**9
        self.dips = 0

    def dip(self) -> None:
        """A dip goal as its action server reports it: executing, then succeeded."""
        self.dips += 1
        for code in (2, 4):  # action_msgs/GoalStatus EXECUTING, SUCCEEDED
            array = default_message(self.store, STATUS_TYPE)
            status = default_message(self.store, 'action_msgs/msg/GoalStatus')
            status.status = code
            status.goal_info.goal_id.uuid = np.full(16, self.dips, dtype=np.uint8)
            array.status_list.append(status)
            self._write(self.dip_status, array, STATUS_TYPE)

    def path(self, index: int, x, y, depth, t, controller: str = 'learned') -> None:
        msg = default_message(self.store, PATH_TYPE)
        msg.stroke_index, msg.controller = int(index), controller
        msg.x_m, msg.y_m = (
            np.ascontiguousarray(x, dtype=float),
            np.ascontiguousarray(y, dtype=float),
        )
        msg.pressing_depth_m, msg.time_from_start_s = (
            np.ascontiguousarray(depth, dtype=float),
            np.ascontiguousarray(t, dtype=float),
        )
        self._write(self.paths, msg, PATH_TYPE)

    def observation(self, measurements) -> None:
        """`measurements`: StrokeMeasurement-like objects (stroke_index, planned/measured
        widths, coverage, darkness)."""
        msg = default_message(self.store, OBSERVATION_TYPE)
        for m in measurements:
            metrics = default_message(self.store, METRICS_TYPE)
            metrics.stroke_index = int(m.stroke_index)
            metrics.planned_width_m = np.ascontiguousarray(m.planned_width_m, dtype=float)
            metrics.measured_width_m = np.ascontiguousarray(m.measured_width_m, dtype=float)
            metrics.coverage = float(m.coverage)
            metrics.darkness = float(m.darkness) * EstimatorConfig().full_ink_darkness
            msg.strokes.append(metrics)
        self._write(self.observations, msg, OBSERVATION_TYPE)

    def _write(self, connection, msg, msgtype: str) -> None:
        self.stamp += 10**9
        self.writer.write(connection, self.stamp, self.store.serialize_cdr(msg, msgtype))

    def close(self) -> None:
        self.writer.close()


def simulate_session(
    out: str | Path, chars: str, brush: BrushParams, seed: int = 0, model: str | Path = ''
) -> Path:
    """Write `chars` with `brush` (unknown to the policy) offline and record it as a session."""
    from brush_policy_node.config import ControllerConfig
    from brush_policy_node.runtime import build_controllers
    from brush_policy_node.types import BrushState
    from brush_policy_training.characters import plan_strokes
    from brush_policy_training.evaluation import (
        BOX_SIZE_M,
        BOX_X_M,
        BOX_Y_M,
        INK_THRESHOLD,
        METRES_PER_PIXEL,
    )
    from calligraphy_model.raster import PixelGrid, Region
    from calligraphy_model.stroke_width import measure_strokes
    from calligraphy_model.types import StrokeSpec as CameraStroke
    from calligraphy_sim.brush_render import render_batch

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    controller = build_controllers(ControllerConfig(), 'learned', model).get('learned')
    rows = cols = int(round(BOX_SIZE_M / METRES_PER_PIXEL))
    region = PixelGrid(BOX_X_M, BOX_Y_M, rows, cols, METRES_PER_PIXEL)
    box = Region(BOX_X_M, BOX_Y_M, BOX_SIZE_M, BOX_SIZE_M)
    bag = SessionBag(out)
    load = 1.0
    try:
        for c, ch in enumerate(chars):
            _, strokes = plan_strokes(ch, BOX_X_M, BOX_Y_M, BOX_SIZE_M)
            camera = [CameraStroke(s.centreline_m, s.width_m, k) for k, s in enumerate(strokes)]
            canvas = np.zeros((rows, cols), np.float32)
            for k, stroke in enumerate(strokes):
                if load < RELOAD_BELOW:
                    load = 1.0
                    bag.dip()
                path = controller.compute(stroke, BrushState(ink_load=load, width_gain=1.0))
                bag.path(k, path.x_m, path.y_m, path.pressing_depth_m, path.time_from_start_s)
                (render,) = render_batch(
                    path.x_m[None], path.y_m[None], path.pressing_depth_m[None],
                    path.time_from_start_s[None], [brush], ink_load=np.array([load]),
                    region=region, seeds=[seed * 100003 + c * 64 + k],
                )  # fmt: skip
                load = render.ink_load_end
                canvas = 1.0 - (1.0 - canvas) * (1.0 - render.ink)
                seen = measure_strokes(
                    canvas, canvas >= INK_THRESHOLD, box, METRES_PER_PIXEL, camera[: k + 1],
                    INK_THRESHOLD,
                )  # fmt: skip
                bag.observation(seen)
    finally:
        bag.close()
    report = {
        'characters': [{'char': ch} for ch in chars],
        'simulated_brush': {'offline': 'learn_synthetic.simulate_session', **vars(brush)},
    }
    (out / 'report.json').write_text(json.dumps(report, ensure_ascii=False, indent=2) + '\n')
    return out
