"""The tree's structure, checked from its own sources so that no list in a test can fall behind:
cores free of rclpy, no import cycle between packages, no runtime package importing the simulator,
no source module over 400 lines (docs/ARCHITECTURE.md says why each rule exists)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SRC = REPO_ROOT / 'src'

# Packages that exist to talk to ROS: every module of theirs may import rclpy.
ROS_PACKAGES = {'calligraphy_ros_kit', 'calligraphy_bringup'}
# Elsewhere a module is a ROS adapter by its name: a node, the message conversions, a ROS client,
# a port onto ROS services and actions (ros_*).
ROS_MODULE_SUFFIXES = ('_node', 'conversions', 'client')
ROS_MODULE_PREFIX = 'ros_'
# The simulated cell and the work that needs it (training, the launchers of the simulated graph).
SIMULATION_PACKAGES = {'calligraphy_sim', 'brush_policy_training', 'calligraphy_bringup'}
MAX_MODULE_LINES = 400


def python_packages() -> dict[str, Path]:
    """Package name → its Python package directory, for every ament_python package in src/."""
    return {
        init.parent.name: init.parent
        for init in sorted(SRC.glob('*/*/__init__.py'))
        if init.parent.name == init.parent.parent.name
    }


def modules() -> dict[str, Path]:
    """Dotted module name → path, for every source module (tests excluded)."""
    found = {}
    for package, directory in python_packages().items():
        for path in sorted(directory.rglob('*.py')):
            parts = path.relative_to(directory).with_suffix('').parts
            if 'test' in parts:
                continue
            dotted = '.'.join((package, *parts))
            found[dotted.removesuffix('.__init__')] = path
    return found


def imported_names(path: Path) -> set[str]:
    """Every module name an import statement of the file names, lazy imports included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f'{node.module}.{alias.name}' for alias in node.names)
    return names


def is_ros_adapter(module: str) -> bool:
    parts = module.split('.')
    leaf = parts[-1]
    return (
        parts[0] in ROS_PACKAGES
        or leaf.endswith(ROS_MODULE_SUFFIXES)
        or leaf.startswith(ROS_MODULE_PREFIX)
    )


def core_modules() -> list[str]:
    return sorted(m for m in modules() if not is_ros_adapter(m) and not m.endswith('__main__'))


def package_imports() -> dict[str, set[str]]:
    """Package → the other first-party packages its source modules import."""
    packages = set(python_packages())
    graph: dict[str, set[str]] = {p: set() for p in packages}
    for module, path in modules().items():
        own = module.split('.')[0]
        for name in imported_names(path):
            other = name.split('.')[0]
            if other in packages and other != own:
                graph[own].add(other)
    return graph


def test_the_tree_is_found():
    found = python_packages()
    assert {'calligraphy_model', 'calligraphy_writer', 'motion_executor'} <= set(found)
    assert len(core_modules()) > 40, core_modules()


def test_core_modules_import_without_rclpy():
    cores = core_modules()
    code = 'import sys\n' + ''.join(f'import {m}\n' for m in cores)
    code += "print('rclpy' in sys.modules)\n"
    run = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    if run.stdout.strip() == 'False':
        return
    # Name the modules that pull rclpy in.
    culprits = [
        m
        for m in cores
        if subprocess.run(
            [sys.executable, '-c', f"import sys, {m}; sys.exit('rclpy' in sys.modules)"]
        ).returncode
    ]
    pytest.fail(f'core modules that import rclpy: {culprits}')


def test_no_import_cycle_between_packages():
    graph = package_imports()
    state: dict[str, int] = {}

    def visit(package: str, path: list[str]) -> list[str] | None:
        state[package] = 1
        for other in sorted(graph[package]):
            if state.get(other) == 1:
                return [*path, package, other]
            if other not in state and (cycle := visit(other, [*path, package])):
                return cycle
        state[package] = 2
        return None

    for package in sorted(graph):
        if package not in state and (cycle := visit(package, [])):
            pytest.fail(' → '.join(cycle))


def test_no_runtime_package_imports_the_simulator():
    offenders = {
        module: sorted(n for n in imported_names(path) if n.split('.')[0] == 'calligraphy_sim')
        for module, path in modules().items()
        if module.split('.')[0] not in SIMULATION_PACKAGES
    }
    offenders = {m: names for m, names in offenders.items() if names}
    assert not offenders, offenders


def test_every_package_declares_the_packages_it_imports():
    for package, others in package_imports().items():
        manifest = (python_packages()[package].parent / 'package.xml').read_text()
        missing = [o for o in sorted(others) if f'>{o}<' not in manifest]
        assert not missing, f'{package}/package.xml does not declare {missing}'


def test_no_source_module_is_over_400_lines():
    long = {
        m: n
        for m, path in modules().items()
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, long
