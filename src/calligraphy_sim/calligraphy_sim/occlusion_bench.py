"""How much of what was written the cell's camera cannot see while the writer observes it.

    python -m calligraphy_sim.occlusion_bench [--chars 永東風...] [--json out.json]

For each character, written in the sheet's first cells (the writer's `rows` layout, 60 mm, 15 mm
margin, 8 mm gaps), and each of its strokes: the brush stands where the writer observes the sheet
after that stroke (10 mm above the stroke's end, the writer's hop height, tool pointing down),
the arm is posed there by the cell's IK, rendered from the camera of urdf/cell.yaml (ArmView), and
the centreline points written so far are projected into the frame. Printed and saved:

- hidden: the fraction of those points the arm or brush hides (ink the camera cannot see);
- shadowed: the fraction in the arm's shadow (light below 90 %);
- the same for the brush moved out of the character's way first (the writer's `clear_view` pose:
  60 mm below the character box, towards the robot, 45 mm up, at the box's middle), the
  alternative to rejecting hidden observations.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from calligraphy_model.cell_description import HOME_POSITIONS_RAD, default_urdf_path
from calligraphy_model.kinematics import ArmKinematics
from calligraphy_sim.arm_view import ArmView
from calligraphy_sim.camera import SimCameraConfig, camera_pose_from_cell

HOP_M = 0.010
# The writer's clear-view pose (calligraphy_writer.config: clear_view_below_box_m, _height_m).
CLEAR_BELOW_BOX_M = 0.06
CLEAR_HEIGHT_M = 0.045


def _boxes(count: int, size: float = 0.06, margin: float = 0.015, gap: float = 0.008):
    """Lower-left corners of the first `count` cells in rows from the sheet's top-left."""
    per_row = int((0.297 - 2 * margin + gap) // (size + gap))
    top = 0.21 - margin - size
    return [
        (margin + (i % per_row) * (size + gap), top - (i // per_row) * (size + gap))
        for i in range(count)
    ]


def _pose(kinematics: ArmKinematics, seed: np.ndarray, tip_in_paper: np.ndarray) -> np.ndarray:
    paper = kinematics.paper_in_base
    target = kinematics.forward(np.asarray(HOME_POSITIONS_RAD, float)).copy()
    target[:3, 3] = paper[:3, :3] @ tip_in_paper + paper[:3, 3]
    solution = kinematics.inverse(target, seed)
    if not solution.success:
        raise RuntimeError(f'no IK for the tip at {tip_in_paper}')
    return solution.positions


def measure(characters: str) -> dict:
    from stroke_planner.planner import plan_character

    camera = SimCameraConfig(**camera_pose_from_cell())
    view = ArmView(
        default_urdf_path(), np.asarray(camera.position_m), camera.rotation_paper_from_camera(),
        camera.camera_matrix(), camera.width_px, camera.height_px,
    )  # fmt: skip
    kinematics = ArmKinematics()
    rows = []
    seed = np.asarray(HOME_POSITIONS_RAD, float)
    started = time.perf_counter()
    renders = 0
    try:
        for character, (x, y) in zip(characters, _boxes(len(characters)), strict=True):
            plan = plan_character(character, box_x_m=x, box_y_m=y, size_m=0.06)
            written: list[np.ndarray] = []
            for stroke in plan.strokes:
                written.append(stroke.centreline)
                points = np.concatenate(written)
                pixels = np.rint(camera.project(points)).astype(int)
                # IK seeded as the executor seeds it: from the arm's pose, which follows the
                # writing (the clear-view pose is reached from the hovering one).
                seed = _pose(kinematics, seed, np.array([*stroke.centreline[-1], HOP_M]))
                clear_tip = np.array([x + 0.03, y - CLEAR_BELOW_BOX_M, CLEAR_HEIGHT_M])
                clear = _pose(kinematics, seed, clear_tip)
                for where, positions in (('hover', seed), ('clear_view', clear)):
                    overlay = view.render(positions)
                    renders += 1
                    u, v = pixels[:, 0], pixels[:, 1]
                    inside = (u >= 0) & (v >= 0) & (u < camera.width_px) & (v < camera.height_px)
                    hidden = np.ones(len(points), bool)
                    hidden[inside] = overlay.mask[v[inside], u[inside]]
                    shade = np.zeros(len(points))
                    shade[inside] = overlay.shade[v[inside], u[inside]]
                    rows.append(
                        {
                            'character': character,
                            'where': where,
                            'hidden': float(np.mean(hidden)),
                            'shadowed': float(np.mean(~hidden & (shade < 0.9))),
                        }
                    )
    finally:
        view.close()
    summary = {}
    for where in ('hover', 'clear_view'):
        picked = [r for r in rows if r['where'] == where]
        summary[where] = {
            'observations': len(picked),
            'mean_hidden': float(np.mean([r['hidden'] for r in picked])),
            'observations_over_10pct_hidden': float(np.mean([r['hidden'] > 0.1 for r in picked])),
            'mean_shadowed': float(np.mean([r['shadowed'] for r in picked])),
        }
    summary['render_ms'] = 1e3 * (time.perf_counter() - started) / max(renders, 1)
    return {'summary': summary, 'rows': rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='python -m calligraphy_sim.occlusion_bench')
    parser.add_argument('--chars', default='永東風水火山木十')
    parser.add_argument('--json', default='')
    args = parser.parse_args(argv)
    result = measure(args.chars)
    for where in ('hover', 'clear_view'):
        s = result['summary'][where]
        over = 100 * s['observations_over_10pct_hidden']
        print(
            f'{where:<10} {s["observations"]:3d} observations: {100 * s["mean_hidden"]:5.1f} % of '
            f'the written centreline hidden on average, {over:5.1f} % of observations with more '
            f'than 10 % hidden; {100 * s["mean_shadowed"]:5.1f} % in shadow'
        )
    print(f'{result["summary"]["render_ms"]:.0f} ms per pose (IK + render)')
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
