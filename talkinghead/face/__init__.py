"""Face analysis: landmark backends, landmark layouts and the pose-normalised face frame."""
