"""Tests of the spine: case store, folder source, analysers, runner, CLI."""
