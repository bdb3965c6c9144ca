"""Brush controllers (constant, analytic, learned ONNX policy) and the node that serves them.

Core modules (no rclpy, no simulator, no torch): `types`, `config`, `width_model`, `features`,
`controllers`, `backends` (onnxruntime), `model_card`, `runtime` (the shipped model in
`models/`). ROS starts in `conversions` and `brush_policy_node`. Training, data generation and
the offline evaluation live in brush_policy_training.
"""
