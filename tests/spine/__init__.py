"""Tests of the spine (issue 2): case store, folder source, analysers, runner, CLI."""
