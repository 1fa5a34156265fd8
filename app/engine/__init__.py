"""The only package that imports SpiffWorkflow. Everything above it sees plain views (views.py)."""
