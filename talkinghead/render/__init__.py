"""Renderers: turn a SourceFace and a MotionSequence into frames and manipulation masks."""
