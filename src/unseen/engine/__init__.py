"""Running the fast pass: the pure per-item function and the orchestration around it."""
