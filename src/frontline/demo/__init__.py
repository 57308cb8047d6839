"""Offline demo workspace: seeded Beacon tickets and help-centre articles."""
