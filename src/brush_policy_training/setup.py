from glob import glob

from setuptools import find_packages, setup

package_name = 'brush_policy_training'

setup(
    name=package_name,
    version='0.1.0',
    packages=find_packages(exclude=['test']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + package_name]),
        ('share/' + package_name, ['package.xml']),
        ('share/' + package_name + '/data', glob(package_name + '/data/*')),
    ],
    package_data={package_name: ['data/*']},
    include_package_data=True,
    install_requires=['setuptools'],
    zip_safe=False,
    maintainer='Calligraphy cell developers',
    maintainer_email='dev@calligraphy-cell.org',
    description='Training, data generation and offline evaluation of the learned brush policy.',
    license='Apache-2.0',
    entry_points={
        'calligraphy.commands': [
            'train = brush_policy_training.cli:add_train_parser',
            'eval = brush_policy_training.cli:add_eval_parser',
            'learn = brush_policy_training.learn_cli:add_learn_parser',
        ],
        'calligraphy.benchmarks': [
            'policy = brush_policy_training.benchmark:measure_inference_latency',
        ],
    },
)
