"""The calligraphy cell's model, free of ROS: what every package agrees on.

See docs/ARCHITECTURE.md for which module holds which law and figure.
"""
