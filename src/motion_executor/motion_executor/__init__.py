"""Brush paths on the sheet to arm motion: IK, timing and execution of the calligraphy arm."""
