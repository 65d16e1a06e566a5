"""Phone extractions as evidence sources."""
