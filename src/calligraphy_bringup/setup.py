from glob import glob

from setuptools import find_packages, setup

package_name = 'calligraphy_bringup'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        ('share/' + package_name + '/config', glob('config/*.yaml') + glob('config/*.xml')),
        # Launch files and the robot description live at the repository's top level.
        ('share/' + package_name + '/launch', glob('../../launch/*.launch.py')),
        ('share/' + package_name + '/urdf', glob('../../urdf/*')),
        # calibration_node's executable where `ros2 run` and launch look (console scripts go to
        # bin/, where `calligraphy` must stay).
        ('lib/' + package_name, ['scripts/calibration_node']),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='Calligraphy cell developers',
    maintainer_email='dev@calligraphy-cell.org',
    description='Configuration, launch files, the simulated node graph and `calligraphy write`.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'calligraphy = calligraphy_ros_kit.cli:main',
            'calibration_node = calligraphy_bringup.calibration_node:main',
        ],
        'calligraphy.commands': [
            'write = calligraphy_bringup.write_cmd:add_parser',
            'calibrate = calligraphy_bringup.calibrate_cmd:add_parser',
        ],
        'calligraphy.benchmarks': [
            'writer = calligraphy_bringup.writer_bench:measure_cell_against_offline',
            'soak = calligraphy_bringup.soak_bench:measure_unexpected_outcomes',
            'motion = calligraphy_bringup.motion_bench:measure_motion_tracking',
            'camera = calligraphy_bringup.camera_bench:measure_camera_accuracy',
            'speed = calligraphy_bringup.speed_bench:measure_speed',
            'occlusion = calligraphy_bringup.occlusion_cell_bench:measure_occlusion',
        ],
    },
)
