"""dhash-gha: guarded rollout for the dhash perceptual-hash media service."""

__version__ = "0.1.0"
