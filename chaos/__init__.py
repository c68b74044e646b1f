"""`make chaos`: the system under faults (see chaos/__main__.py)."""
