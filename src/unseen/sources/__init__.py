"""Evidence sources: things that enumerate entries and reopen them read-only."""
