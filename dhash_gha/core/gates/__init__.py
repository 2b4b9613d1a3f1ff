"""Quality gates: samples, specs, the pure evaluation engine, schedules and replay."""
