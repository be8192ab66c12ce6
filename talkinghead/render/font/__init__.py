"""FONT's neural renderer: a face crop, dense motion from the mesh flow, occlusion masks and a
generator that warps the photo's features and paints what the photo cannot supply."""
