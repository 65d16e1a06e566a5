"""The synthetic, benign demo "seized device", generated deterministically by code."""
