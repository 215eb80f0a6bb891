"""The disk: which files are posts, atomic writes and pruning, everything under state_dir.

Knows file names, not feeds.
"""
