"""The face model shared by motion models and renderers: expression bases, the canonical face
frame and the head pivot (see face_model.FaceModel)."""
