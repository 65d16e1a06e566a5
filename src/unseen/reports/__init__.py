"""What leaves the case: export records, status counts and reports."""
