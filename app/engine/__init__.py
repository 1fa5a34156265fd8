"""The only package that imports SpiffWorkflow. Everything above it sees plain records (records.py)."""
