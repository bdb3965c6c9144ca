"""ROS 2 node: the brush tip's pose on the sheet from the arm's joint states (Gazebo's arm).

The MuJoCo arm publishes /brush_tip_pose itself; an arm simulated elsewhere (Gazebo with
gz_ros2_control) publishes only joint states. This node turns them into the tip pose the virtual
paper inks from, with the cell's kinematics (URDF) and the sheet where cell.yaml puts it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
from geometry_msgs.msg import PoseStamped
from rclpy.node import Node
from sensor_msgs.msg import JointState

from calligraphy_model.cell_description import fixed_pose_in_base, load_cell_yaml
from calligraphy_model.kinematics import ArmKinematics
from calligraphy_model.settings import setting
from calligraphy_ros_kit.parameters import declare_config
from calligraphy_ros_kit.runner import run_node
from calligraphy_sim import arm_conversions


@dataclass(frozen=True)
class TipPoseConfig:
    """Where the cell's kinematics and sheet come from."""

    urdf_path: str = setting('', "cell URDF ('' = urdf/calligraphy_cell.urdf of the checkout)")
    cell_yaml: str = setting('', "cell description ('' = urdf/cell.yaml beside the URDF)")


class TipPoseNode(Node):
    """Publishes the brush tip's pose in the `paper` frame for each complete joint state.

    Subscribes:
        joint_states (sensor_msgs/JointState): the arm's six joints, any order.
    Publishes:
        brush_tip_pose (geometry_msgs/PoseStamped, frame ``paper``), stamped as the joint state.
    Parameters (read once): urdf_path, cell_yaml.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__('tip_pose_node', **kwargs)
        config = declare_config(self, TipPoseConfig)
        self.kinematics = ArmKinematics(config.urdf_path or None)
        paper_in_base = fixed_pose_in_base(load_cell_yaml(config.cell_yaml or None), 'paper')
        self._base_to_paper = np.linalg.inv(paper_in_base)
        self._pub = self.create_publisher(PoseStamped, 'brush_tip_pose', 50)
        self.create_subscription(JointState, 'joint_states', self._on_joint_state, 50)

    def _on_joint_state(self, msg: JointState) -> None:
        names = list(msg.name)
        if len(msg.position) != len(names) or not set(self.kinematics.joint_names) <= set(names):
            return
        q = np.array([msg.position[names.index(n)] for n in self.kinematics.joint_names])
        tip = self._base_to_paper @ self.kinematics.forward(q)
        stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        self._pub.publish(
            arm_conversions.pose_stamped_msg(stamp, 'paper', tip[:3, 3], tip[:3, :3])
        )


def main(args: list[str] | None = None) -> int:
    return run_node(TipPoseNode, 'tip_pose_node', args)


if __name__ == '__main__':
    sys.exit(main())
