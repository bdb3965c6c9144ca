from setuptools import find_packages, setup

package_name = 'stroke_planner'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    package_data={package_name: ['data/*.txt']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='Calligraphy cell developers',
    maintainer_email='dev@calligraphy-cell.org',
    description='Ordered brush strokes from stroke-order data, font skeletons, single-line fonts.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': ['stroke_planner_node = stroke_planner.stroke_planner_node:main'],
        'calligraphy.commands': ['plan = stroke_planner.cli:add_parser'],
        'calligraphy.benchmarks': ['planner = stroke_planner.benchmark:measure_planner_targets'],
    },
)
