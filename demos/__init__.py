"""Installed as the package talkinghead.demos (see pyproject.toml), so that the web demo's example
inputs come with the package; the file only makes this folder a package that editable installs can find."""
