"""The git hooks: their entry points, the key check, autosquash, installation, and the hook.sh template (package data)."""
