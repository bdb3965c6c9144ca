from setuptools import find_packages, setup

package_name = 'motion_executor'

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
    description='Brush paths on the sheet to arm motion (IK, timing, trajectory streaming).',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'motion_executor_node = motion_executor.motion_executor_node:main',
        ],
    },
)
