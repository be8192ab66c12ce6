"""Pipelines: one file per method, all with the common `generate()` contract of `base.Pipeline`."""
