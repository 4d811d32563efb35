"""Test support shipped with the package: factories and the named users of every role."""
