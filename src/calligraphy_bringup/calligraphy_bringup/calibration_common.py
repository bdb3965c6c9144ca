"""What `calligraphy calibrate` and calibration_node share (no rclpy): the files a calibration
writes, the node's settings, the CalibrateCell action's error codes and its progress stages.

A calibration writes `DIR/cell.yaml` (the cell description with the sheet where it was found),
`DIR/brush.yaml` (the brush file `calligraphy write --brush-file` reads) and
`DIR/calibration.json`; with write_cell also the active cell description (the cell.yaml it
started from and the URDF's `world_to_paper` joint). Every text is made before the first file is
written, so a cell description that cannot be updated writes nothing.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

import numpy as np

from calligraphy_model.settings import check, setting
from camera_feedback import sheet_calibration


class CalibrationErrorCode(IntEnum):
    """The one mirror of CalibrateCell.action's result codes (1-4 are the calibration's own,
    camera_feedback.sheet_calibration's)."""

    SUCCESS = 0
    MARKERS_NOT_SEEN = sheet_calibration.MARKERS_NOT_SEEN
    NO_CONTACT = sheet_calibration.NO_CONTACT
    CONTACT_AT_FIRST_TOUCH = sheet_calibration.CONTACT_AT_FIRST_TOUCH
    PATTERN_NOT_MEASURABLE = sheet_calibration.PATTERN_NOT_MEASURABLE
    CELL_NOT_RESPONDING = 5
    INVALID_ARGUMENT = 6
    BUSY = 7
    WRITE_FAILED = 8
    CANCELED = 20
    INTERNAL_ERROR = 99


# CalibrateCell's feedback: the stage and the fraction of the calibration done when it starts
# (camera_feedback.calibration_run reports sheet, contact and width; the caller saves).
STAGES = {'sheet': 0.0, 'contact': 0.1, 'width': 0.6, 'save': 0.95}


def stage_progress(stage: str, step: int = 0, steps: int = 1) -> float:
    """The fraction done at `step` of `steps` inside `stage` (0..1, never past the next
    stage's start); ValueError for an unknown stage."""
    if stage not in STAGES:
        raise ValueError(f'unknown calibration stage {stage!r}; one of {", ".join(STAGES)}')
    starts = sorted(STAGES.values())
    start = STAGES[stage]
    end = next((s for s in starts if s > start), 1.0)
    fraction = min(max(step / steps, 0.0), 1.0) if steps > 0 else 0.0
    return start + (end - start) * fraction


@dataclass(frozen=True)
class CalibrationNodeConfig:
    """calibration_node's parameters (read once at start)."""

    cell_yaml: str = setting(
        '', 'the nominal cell description to calibrate (and, with write_cell, to update); '
        "'' = the active one (urdf/cell.yaml or CALLIGRAPHY_CELL_YAML)",
    )  # fmt: skip
    output_dir: str = setting('out/calibrate', "where a goal's files go when its output_dir is ''")
    image_topic: str = setting('camera/color/image_raw', "the overhead camera's colour image")
    camera_info_topic: str = setting(
        'camera/color/camera_info', "the camera's calibration (K and D)"
    )
    step_timeout_s: float = setting(
        60.0, 'wait for each answer of the cell (a server, a frame, a goal accepted)',
        unit='s', low=0.1,
    )  # fmt: skip

    def __post_init__(self) -> None:
        check(self)


def output_dir_problem(out: Path) -> str | None:
    """Why `out` cannot take the calibration's files, or None; creates nothing (the nearest
    existing folder must be writable)."""
    if not str(out).strip():
        return 'no output directory given'
    existing = Path(os.path.abspath(out))
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f'{out}: {existing} is not a directory'
    if not os.access(existing, os.W_OK | os.X_OK):
        return f'{out}: {existing} is not writable'
    return None


def update_cell_text(text: str, fields: dict[str, list[float]], entry: str = 'paper') -> str:
    """cell.yaml's text with `entry`'s keys (xyz_m, rpy_rad, quaternion_xyzw) set to `fields`,
    comments and everything else kept; ValueError when a key is not found in the entry."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == f'{entry}:'), None)
    if start is None:
        raise ValueError(f'the cell description has no top-level {entry!r} entry')
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i][:1] not in (' ', '\n', '#', '')),
        len(lines),
    )
    for key, values in fields.items():
        pattern = re.compile(rf'^(\s+){key}:\s*\[[^\]]*\]')
        hits = [i for i in range(start + 1, end) if pattern.match(lines[i])]
        if len(hits) != 1:
            raise ValueError(f'{entry}.{key} is not a one-line list in the cell description')
        indent = pattern.match(lines[hits[0]]).group(1)
        lines[hits[0]] = f'{indent}{key}: [{", ".join(repr(float(v)) for v in values)}]\n'
    return ''.join(lines)


def update_urdf_text(text: str, xyz: list[float], rpy: list[float]) -> str:
    """The URDF's text with the `world_to_paper` joint's origin set; ValueError without one."""
    joint = re.compile(
        r'(<joint\s+name="world_to_paper"[^>]*>.*?<origin\s+)xyz="[^"]*"\s+rpy="[^"]*"', re.S
    )
    origin = 'xyz="{} {} {}" rpy="{} {} {}"'.format(*(repr(float(v)) for v in (*xyz, *rpy)))
    new, count = joint.subn(lambda m: m.group(1) + origin, text, count=1)
    if count != 1:
        raise ValueError('the URDF has no world_to_paper joint with an origin xyz/rpy')
    return new


def active_urdf_path(cell_path: Path, cell_given: bool) -> Path:
    """The URDF that mirrors the cell description (cell_description's rule: the one beside a
    given cell.yaml, else the active one)."""
    from calligraphy_model.cell_description import URDF_NAME, default_urdf_path

    return cell_path.parent / URDF_NAME if cell_given else default_urdf_path()


def save_calibration(
    out: Path, cell_path: Path, cell_given: bool, result, write_cell: bool, report: dict
) -> list[Path]:
    """Write DIR/cell.yaml and DIR/brush.yaml from `result` (a CalibrationResult) and, with
    `write_cell`, the active description; fill `report` (status, sheet, contact_offset_mm,
    width_curve, details, written). The paths written; ValueError (a description that cannot be
    updated: nothing written) or OSError."""
    from camera_feedback.brush_calibration import write_brush_file

    fields = result.sheet.cell_yaml_fields()
    cell_text = update_cell_text(cell_path.read_text(), fields)
    active = [(cell_path, cell_text)] if write_cell else []
    urdf = active_urdf_path(cell_path, cell_given)
    if write_cell and urdf.is_file():
        active.append(
            (urdf, update_urdf_text(urdf.read_text(), fields['xyz_m'], fields['rpy_rad']))
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / 'cell.yaml').write_text(cell_text)
    write_brush_file(out / 'brush.yaml', result.curve, result.contact_offset_m, result.width_rms_m)
    for path, text in active:
        path.write_text(text)
    report.update(
        status='calibrated',
        sheet={**fields, 'fit_rms_mm': 1e3 * result.sheet.fit_rms_m},
        contact_offset_mm=1e3 * result.contact_offset_m,
        width_curve={
            'touch_width_m': result.curve.touch_width_m,
            'belly_diameter_m': result.curve.belly_diameter_m,
            'width_slope': result.curve.width_slope,
            'fit_rms_mm': 1e3 * result.width_rms_m,
            'points_mm': [[1e3 * d, 1e3 * w] for d, w in result.widths],
        },
        details=jsonable(result.details),
    )
    if write_cell:
        report['written'] = [str(path) for path, _ in active]
    return [out / 'cell.yaml', out / 'brush.yaml', *(path for path, _ in active)]


def write_report(out: Path, report: dict) -> Path:
    path = out / 'calibration.json'
    path.write_text(json.dumps(jsonable(report), indent=2) + '\n')
    return path


def jsonable(value):
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value
