"""Small shared core: records, errors, settings, registries."""
