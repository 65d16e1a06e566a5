"""Built-in artefact parsers; each module registers its parsers in ``ARTEFACT_PARSERS``."""
