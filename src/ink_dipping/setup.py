from setuptools import find_packages, setup

package_name = 'ink_dipping'

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
    description='The scripted dip-and-wipe and the dip action.',
    license='Apache-2.0',
    entry_points={
        # Nodes: `<name>_node = ink_dipping.<name>_node:main`.
        'console_scripts': ['ink_dipping_node = ink_dipping.ink_dipping_node:main'],
    },
)
