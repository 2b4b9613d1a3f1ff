"""The runbook steps, one per step an operator looks for (backup, preflight, deploy, …).

A step uses the core and the adapters, never another step: what chains steps
(a deploy that rolls back, a rollout, the pre-merge run) lives in ``dhash_gha.compose``.
"""
