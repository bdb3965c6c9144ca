"""What `calligraphy calibrate` and calibration_node share, without ROS: the progress stages, the
output folder check, the node's settings and the files a calibration writes (or does not)."""

from __future__ import annotations

import shutil

import pytest
import yaml

from calligraphy_bringup.calibration_common import (
    STAGES,
    CalibrationNodeConfig,
    output_dir_problem,
    save_calibration,
    stage_progress,
)
from calligraphy_model.cell_description import (
    URDF_NAME,
    default_cell_yaml_path,
    default_urdf_path,
)
from camera_feedback.brush_calibration import WidthCurve
from camera_feedback.calibration_run import CalibrationResult
from camera_feedback.sheet_calibration import SheetPose


def _result() -> CalibrationResult:
    return CalibrationResult(
        sheet=SheetPose(0.302, 0.1461, 0.0021, -1.55, fit_rms_m=0.0001),
        contact_offset_m=0.0011,
        curve=WidthCurve(0.0012, 0.006, 1.1),
        width_rms_m=0.00005,
        widths=[(0.001, 0.002), (0.003, 0.004)],
        details={'contact_bracket_m': [0.001, 0.0012]},
    )


def _cell(tmp_path):
    shutil.copy(default_cell_yaml_path(), tmp_path / 'cell.yaml')
    shutil.copy(default_urdf_path(), tmp_path / URDF_NAME)
    return tmp_path / 'cell.yaml', tmp_path / URDF_NAME


def test_progress_rises_through_the_stages_and_stays_inside_each():
    order = ['sheet', 'contact', 'width', 'save']
    assert sorted(STAGES, key=STAGES.get) == order
    samples = [stage_progress(stage, step, 4) for stage in order for step in range(5)]
    assert samples == sorted(samples)
    assert samples[0] == 0.0 and samples[-1] == 1.0
    assert stage_progress('contact', 4, 4) == stage_progress('width')  # up to the next stage
    assert stage_progress('contact', 9, 4) == stage_progress('contact', 4, 4)  # clamped
    with pytest.raises(ValueError, match='unknown calibration stage'):
        stage_progress('painting')


def test_the_output_folder_check_creates_nothing(tmp_path):
    assert output_dir_problem(tmp_path / 'a' / 'b') is None
    assert not (tmp_path / 'a').exists()
    (tmp_path / 'file').write_text('')
    assert 'is not a directory' in output_dir_problem(tmp_path / 'file' / 'out')
    assert output_dir_problem(tmp_path / 'file' / 'out') is not None
    assert 'no output directory' in output_dir_problem('')


def test_the_node_settings_refuse_a_timeout_out_of_range():
    assert CalibrationNodeConfig().step_timeout_s > 0
    with pytest.raises(ValueError, match='step_timeout_s'):
        CalibrationNodeConfig(step_timeout_s=0.0)


def test_a_calibration_writes_its_files_and_with_write_cell_the_active_description(tmp_path):
    cell, urdf = _cell(tmp_path)
    report: dict = {}
    written = save_calibration(tmp_path / 'out', cell, True, _result(), True, report)
    assert written == [tmp_path / 'out' / 'cell.yaml', tmp_path / 'out' / 'brush.yaml', cell, urdf]
    assert yaml.safe_load(cell.read_text())['paper']['xyz_m'] == [0.302, 0.1461, 0.0021]
    assert (tmp_path / 'out' / 'cell.yaml').read_text() == cell.read_text()
    assert 'xyz="0.302 0.1461 0.0021"' in urdf.read_text()
    assert report['status'] == 'calibrated' and report['written'] == [str(cell), str(urdf)]
    assert report['contact_offset_mm'] == pytest.approx(1.1)


def test_without_write_cell_or_with_a_description_it_cannot_update_nothing_active_changes(
    tmp_path,
):
    cell, urdf = _cell(tmp_path)
    before = cell.read_text(), urdf.read_text()
    written = save_calibration(tmp_path / 'out', cell, True, _result(), False, {})
    assert len(written) == 2 and (cell.read_text(), urdf.read_text()) == before
    urdf.write_text('<robot name="no_sheet"/>')
    with pytest.raises(ValueError, match='world_to_paper'):
        save_calibration(tmp_path / 'out2', cell, True, _result(), True, {})
    assert not (tmp_path / 'out2').exists() and cell.read_text() == before[0]
