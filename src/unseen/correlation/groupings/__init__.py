"""Built-in groupings, one module each."""
