"""Message and device parsers, one module per application database."""
