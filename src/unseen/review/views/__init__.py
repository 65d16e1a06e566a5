"""Request handlers of the review server, grouped by what they serve; ``routes.py``
maps URLs and roles onto them."""
