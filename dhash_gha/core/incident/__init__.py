"""An incident report from its facts: the evidence parsed, the report and its chart rendered."""
