"""The learned brush policy's offline side: what produces and judges the model the node runs.

`characters` (train/test lists), `simulator` (brushes drawn from calligraphy_sim, the brush state
a camera would estimate), `teacher` (privileged targets), `training` and `policy_model` (torch,
ONNX export, model card), `evaluation` (EVALUATION.md in the brush simulator), `benchmark`
(onnxruntime against torch), `cli` (`calligraphy train`, `calligraphy eval`). The runtime
controllers, features and model card it trains for live in brush_policy_node.
"""
