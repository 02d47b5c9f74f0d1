"""Everything that talks to git: `run` is the one place git starts; the log reader, the repository, the work log, worktrees.

tests/test_layers.py holds that only this package starts git.
"""
