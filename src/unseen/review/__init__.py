"""The review workbench: a local web server (``unseen serve``) for safe, audited review.

Server-rendered pages (FastAPI + Jinja2) with a little vendored JavaScript; nothing
is fetched from outside the machine. Every route is authorised from one table
(``routes.py``); every decision, reveal and login goes to a hash-chained audit log
(``audit.py``).
"""
