"""Published error rates: each signal measured against benign generated data."""
