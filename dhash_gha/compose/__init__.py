"""Compositions: the flows that chain runbook steps (rollout, rehearsal, pre-merge).

The only layer that imports steps; it wires the monitor's effects (notify, roll
back, open the incident) into the monitor step through its interface.
"""
