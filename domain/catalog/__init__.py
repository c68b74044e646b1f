"""The catalog: service categories and versioned plans (issue 3)."""
