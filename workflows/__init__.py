"""Workflows: orchestration only. Every side effect is an activity (see activities/).

The list the worker registers is in `workflows.registry`, not here: the workflow sandbox imports a
workflow's module afresh for every workflow run, package first, so this file stays empty of
imports and a checkout run does not re-import every other workflow too.
"""
