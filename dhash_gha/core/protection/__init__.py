"""Branch-protection policy: the model, what a branch effectively enforces, the judgement and its report."""
