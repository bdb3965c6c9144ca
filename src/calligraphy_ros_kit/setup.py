from setuptools import find_packages, setup

package_name = 'calligraphy_ros_kit'

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
    description='Node kit: parameters from config metadata, main runner, future waits, CLI.',
    license='Apache-2.0',
)
