"""Victim-identification leads: groupings of the unknown remainder and their ranking."""
