from glob import glob

from setuptools import find_packages, setup

package_name = 'brush_policy_node'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        # The shipped policy and its model card, so the cell runs without training first.
        ('share/' + package_name + '/models', glob(package_name + '/models/*')),
    ],
    package_data={package_name: ['models/*']},
    include_package_data=True,
    install_requires=['setuptools'],
    zip_safe=False,
    maintainer='Calligraphy cell developers',
    maintainer_email='dev@calligraphy-cell.org',
    description='Brush controllers and the node serving them (the ONNX policy in onnxruntime).',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'brush_policy_node = brush_policy_node.brush_policy_node:main',
        ],
    },
)
