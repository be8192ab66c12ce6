"""Installed as the package talkinghead.checkpoints (see pyproject.toml), so that the shipped weights
come with the package; the file only makes this folder a package that editable installs can find."""
