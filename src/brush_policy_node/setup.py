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
        ('share/' + package_name + '/data', glob(package_name + '/data/*')),
    ],
    package_data={package_name: ['models/*', 'data/*']},
    include_package_data=True,
    install_requires=['setuptools'],
    zip_safe=False,
    maintainer='Calligraphy cell developers',
    maintainer_email='dev@calligraphy-cell.org',
    description='Brush controllers, the ONNX policy node and its training/evaluation pipeline.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'brush_policy_node = brush_policy_node.brush_policy_node:main',
        ],
        'calligraphy.commands': [
            'train = brush_policy_node.cli:add_train_parser',
            'eval = brush_policy_node.cli:add_eval_parser',
        ],
        'calligraphy.benchmarks': [
            'policy = brush_policy_node.benchmark:run',
        ],
    },
)
