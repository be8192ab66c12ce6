"""Motion: expression bases, head motion, blinks and the per-pipeline motion models."""
