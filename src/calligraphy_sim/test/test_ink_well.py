"""The simulated ink well: its pose (cell.yaml = MuJoCo scene) and what dipping does (the
well's geometry from the cell description is tested in calligraphy_model)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from calligraphy_model.cell_description import (
    InkWellGeometry,
    default_cell_yaml_path,
    ink_well_in_paper,
)
from calligraphy_sim.brush import VirtualPaper
from calligraphy_sim.ink_well import InkWell, ink_tip_samples

MM = 1e-3


@pytest.fixture(scope='module')
def cell() -> dict:
    return yaml.safe_load(default_cell_yaml_path().read_text())


@pytest.fixture(scope='module')
def well(cell) -> InkWellGeometry:
    return ink_well_in_paper(cell, ink_depth_m=0.015)


def test_well_from_cell_yaml_sits_where_mujoco_shows_it(well):
    from calligraphy_sim.arm import ArmSimulation

    sim = ArmSimulation()
    position, rotation = sim.body_pose_in_paper('ink_well')
    assert well.x_m == pytest.approx(position[0], abs=1e-9)
    assert well.y_m == pytest.approx(position[1], abs=1e-9)
    assert well.rim_height_m == pytest.approx(position[2], abs=1e-9)
    assert rotation[2, 2] == pytest.approx(1.0), 'the well opens upward, out of the paper'
    # The well is drawn in the scene: a body with visible geometry at least as wide as its opening.
    body = sim.model.body('ink_well')
    geoms = range(body.geomadr[0], body.geomadr[0] + body.geomnum[0])
    visible = [g for g in geoms if sim.model.geom_rgba[g][3] > 0.0]
    assert visible
    assert max(sim.model.geom_size[g][0] for g in visible) >= well.radius_m


def _dip_stream(well: InkWellGeometry, step_s: float = 0.01, wipe_heading: float = math.pi):
    """Tip positions (x, y, z) of a dip: above, into the ink, dwell, out, one wipe, lift away."""
    centre = np.array([well.x_m, well.y_m])
    direction = np.array([math.cos(wipe_heading), math.sin(wipe_heading)])
    waypoints = [
        (*centre, 0.04),
        (*centre, well.ink_surface_height_m - 0.008),
        (*centre, well.ink_surface_height_m - 0.008),
        (*centre, well.rim_height_m + 0.005),
        (*(centre + 0.4 * well.radius_m * direction), well.rim_height_m - 0.003),
        (*(centre + 1.3 * well.radius_m * direction), well.rim_height_m - 0.003),
        (*(centre + 1.3 * well.radius_m * direction), 0.04),
    ]
    points = []
    for start, end in zip(waypoints[:-1], waypoints[1:], strict=True):
        count = max(2, int(np.linalg.norm(np.subtract(end, start)) / 0.0008))
        points += list(np.linspace(start, end, count)[1:])
    return [(*p, 1.0 + i * step_s) for i, p in enumerate(points)]


def test_dipping_in_the_well_refills_a_dry_brush_and_a_wipe_leaves_the_wipe_load(well):
    paper = VirtualPaper(ink_load=0.1)
    model = InkWell(well, wipe_load=0.85)
    loads = []
    for x, y, z, t in _dip_stream(well):
        paper.add_pose(x, y, -z, t)
        event = model.update(x, y, z, paper.ink_load)
        if event is not None:
            paper.reload(event.ink_load)
        loads.append(paper.ink_load)
    assert (model.soaks, model.wipes) == (1, 1)
    assert max(loads) == 1.0
    assert paper.ink_load == pytest.approx(0.85)
    assert not paper.ink.any(), 'nothing touched the sheet'


def _write_dip_write_stream(well) -> np.ndarray:
    """A stroke on the sheet, a dip and wipe, a second stroke, then a restarted clock (a stamp
    earlier than the one before) and a third stroke: (N, 4) rows of (x, y, depth, t)."""

    def stroke(y_m: float, t0: float) -> list:
        x = np.linspace(0.05, 0.11, 120)
        depth = np.concatenate([np.linspace(-0.002, 0.003, 20), np.full(80, 0.003),
                                np.linspace(0.003, -0.004, 20)])  # fmt: skip
        t = t0 + 0.01 * np.arange(len(x))
        return list(zip(x, np.full(len(x), y_m), depth, t, strict=True))

    first = stroke(0.10, 0.0)
    dip = [(x, y, -z, 2.0 + t) for x, y, z, t in _dip_stream(well)]
    second = stroke(0.14, dip[-1][3] + 1.0)
    third = stroke(0.06, 0.5)
    return np.array(first + dip + second + third)


def test_tip_samples_inked_in_batches_match_one_pose_at_a_time(well):
    stream = _write_dip_write_stream(well)
    one_by_one, single_well = VirtualPaper(ink_load=0.6), InkWell(well, wipe_load=0.85)
    single_events = []
    for x, y, depth, t in stream:
        one_by_one.add_pose(x, y, depth, t)
        event = single_well.update(x, y, -depth, one_by_one.ink_load)
        if event is not None:
            one_by_one.reload(event.ink_load)
            single_events.append(event)
    batched, batch_well = VirtualPaper(ink_load=0.6), InkWell(well, wipe_load=0.85)
    batch_events = []
    for chunk in np.array_split(stream, 37):  # batches of ~25 poses, cut anywhere
        batch_events += ink_tip_samples(batched, batch_well, chunk)
    assert [e.kind for e in batch_events] == [e.kind for e in single_events] == ['soak', 'wipe']
    assert batched.ink_load == pytest.approx(one_by_one.ink_load, abs=0.005)
    inked, reference = batched.ink > 0.2, one_by_one.ink > 0.2
    assert reference.sum() > 3000, 'three strokes were written'
    assert (inked & reference).sum() / (inked | reference).sum() > 0.97
    assert abs(batched.ink.sum() - one_by_one.ink.sum()) < 0.03 * one_by_one.ink.sum()


def test_a_sparse_stream_still_wipes_when_it_jumps_over_the_rim(well):
    model = InkWell(well, wipe_load=0.9)
    stream = _dip_stream(well)[::15]  # a pose every 12 mm or so
    load = 0.2
    for x, y, z, _ in stream:
        event = model.update(x, y, z, load)
        load = event.ink_load if event else load
    assert load == pytest.approx(0.9)


def test_no_reload_above_the_ink_and_no_wipe_above_the_rim(well):
    model = InkWell(well, wipe_load=0.9)
    centre = (well.x_m, well.y_m)
    above_ink = well.ink_surface_height_m + 0.002
    assert model.update(*centre, above_ink, 0.3) is None
    # Leaving the well 5 mm above the rim touches nothing.
    model.update(centre[0], centre[1], well.rim_height_m + 0.005, 1.0)
    assert (
        model.update(centre[0] - 1.5 * well.radius_m, centre[1], well.rim_height_m + 0.005, 1.0)
        is None
    )
    # Coming back in below the rim's top is not a wipe either (the bristles are not squeezed out).
    assert model.update(centre[0], centre[1], well.rim_height_m - 0.003, 1.0) is None
    assert (model.soaks, model.wipes) == (0, 0)


def test_a_wipe_never_adds_ink_to_a_brush_below_the_wipe_load(well):
    model = InkWell(well, wipe_load=0.9)
    model.update(well.x_m, well.y_m, well.rim_height_m - 0.003, 0.5)
    assert (
        model.update(well.x_m - 2 * well.radius_m, well.y_m, well.rim_height_m - 0.003, 0.5)
        is None
    )


def test_invalid_wipe_load_is_refused(well):
    with pytest.raises(ValueError, match='wipe_load'):
        InkWell(well, wipe_load=1.5)
