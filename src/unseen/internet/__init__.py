"""Internet-usage artefacts: browser, P2P, registry and presence records with provenance.

Parsers (``internet.parsers``) read items through the source spine and emit typed
records (``internet.records``); the ``internet`` case stage (``internet.stage``) selects
items by path, runs the parsers in a process pool and stores the records; the internet
report (``reports.internet``) presents them by behaviour for risk assessors.
"""
