"""Camera feedback of the calligraphy cell: see the paper, score the writing, measure the strokes.

Core entry point (no ROS): `PaperObserver` (frame → registration → rectified box → ink, scores,
stroke widths). The scorer (`calligraphy_model.scoring`), the width measurement
(`calligraphy_model.stroke_width`) and the brush-state estimator (`calligraphy_model.brush_state`)
live in the core, shared with the simulator, the offline evaluation and the writer.
"""
