"""Phones and messages: phone extractions as sources, app databases parsed into one
message model, attachments tied to case items, and each picture's provenance."""
