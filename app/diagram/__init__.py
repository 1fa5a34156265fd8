"""BPMN diagram interchange (DI) → SVG, and element-level comparison of two BPMN sources.

Pure functions on XML text: no database, no Flask, no SpiffWorkflow. Services feed them the deployed
sources and the run-time state; the web layer only serves what they return.
"""
from app.diagram.diff import ElementChange, diff_elements, element_fingerprints
from app.diagram.model import Diagram, DiagramError, load_diagram, process_ids
from app.diagram.svg import MARKS, STYLESHEET, render_svg

__all__ = ["MARKS", "STYLESHEET", "Diagram", "DiagramError", "ElementChange", "diff_elements", "element_fingerprints",
           "load_diagram", "process_ids", "render_svg"]
