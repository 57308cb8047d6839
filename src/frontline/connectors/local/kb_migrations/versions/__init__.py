"""Numbered migrations of the knowledge-base index, applied in order."""
