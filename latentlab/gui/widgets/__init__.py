"""Widgets the panels share (never a panel themselves)."""
