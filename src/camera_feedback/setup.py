from setuptools import find_packages, setup

package_name = 'camera_feedback'

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
    description='Frame sources, sheet registration, ink segmentation, scoring and brush state.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'camera_feedback_node = camera_feedback.camera_feedback_node:main',
        ],
        # `calligraphy bench camera` needs the simulated camera: calligraphy_bringup.camera_bench.
        'calligraphy.benchmarks': [],
    },
)
