"""Audio: features aligned to video frames and the shared audio encoders."""
