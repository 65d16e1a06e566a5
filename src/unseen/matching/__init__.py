"""Known material: the hash-set library, matching, and auto-categorisation."""
