"""Camera feedback of the calligraphy cell: see the paper, score the writing, estimate the brush.

Core entry points (no ROS): `PaperObserver` (frame → registration → rectified box → ink, scores,
stroke widths), `score_masks` (the EVALUATION.md scorer), `measure_strokes`,
`BrushStateEstimator` (measured-vs-planned widths → brush state for the controller).
"""
