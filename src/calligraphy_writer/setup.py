from setuptools import find_packages, setup

package_name = 'calligraphy_writer'

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
    description='The writer node (write_character / write_text) and its Python client.',
    license='Apache-2.0',
    entry_points={
        # Nodes: `<name>_node = calligraphy_writer.<name>_node:main`.
        'console_scripts': ['writer_node = calligraphy_writer.writer_node:main'],
        # `calligraphy bench NAME`: `NAME = calligraphy_writer.<module>:measure_<figures>`.
        'calligraphy.benchmarks': [],
    },
)
