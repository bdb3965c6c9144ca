from setuptools import find_packages, setup

package_name = 'calligraphy_sim'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='Calligraphy cell developers',
    maintainer_email='dev@calligraphy-cell.org',
    description='Brush physics, virtual paper, MuJoCo arm and simulated camera.',
    license='Apache-2.0',
    entry_points={
        # Nodes: `<name>_node = calligraphy_sim.<name>_node:main`.
        'console_scripts': [
            'mujoco_arm_node = calligraphy_sim.mujoco_arm_node:main',
            'sim_camera_node = calligraphy_sim.sim_camera_node:main',
            'virtual_paper_node = calligraphy_sim.virtual_paper_node:main',
            'tip_pose_node = calligraphy_sim.tip_pose_node:main',
        ],
        # `calligraphy bench NAME`: `NAME = calligraphy_sim.<module>:<what it measures>`.
        'calligraphy.benchmarks': [
            'brush = calligraphy_sim.brush_bench:measure_brush_render_speed',
            'ink_capacity = calligraphy_sim.ink_capacity:measure_ink_capacity',
        ],
    },
)
