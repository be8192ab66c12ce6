"""Training: datasets over folders of talking videos and one recipe per model."""
