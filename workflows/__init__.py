"""Workflows: orchestration only. Every side effect is an activity (see activities/).

The list the worker registers, and the sandbox it runs them in, are in `workflows.registry`, not
here: this file stays empty of imports, so importing one workflow never imports every other.
The worker's sandbox may pass every module through (imports it once, not for every run; see
the registry): workflow modules hold no state of their own.
"""
