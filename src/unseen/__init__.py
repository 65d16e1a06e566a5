"""unseen: account for every file on seized media, categorise the known, rank the unseen."""

__version__ = "0.1.0"
