"""Metrics shared by search evaluation, joint-embedding training and moment localization."""
