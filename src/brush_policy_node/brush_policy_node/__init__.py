"""Brush controllers (constant, analytic, learned ONNX policy) and their training pipeline.

Core modules (no rclpy): `types`, `config`, `width_model`, `features`, `controllers`, `backends`,
`model_card`, `evaluation`, `training` (torch), `policy_model` (torch). ROS starts in
`conversions` and `brush_policy_node`.
"""
