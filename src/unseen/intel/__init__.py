"""Agency intelligence: what cases confirmed, promoted for every later case to meet."""
