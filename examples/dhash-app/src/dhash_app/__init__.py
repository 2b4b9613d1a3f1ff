"""dhash: a small perceptual-hash media service (the reference component).

Hashes images (and video frames) with the 64-bit difference hash, matches
them against a SQLite hash library by Hamming distance, queues ambiguous
matches for review, and exposes health and Prometheus metrics over HTTP.
"""

__version__ = "1.0.0"
