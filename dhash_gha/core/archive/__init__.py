"""Archive rules: entry names and sizes, the manifest, exclude patterns and the checksum sidecar."""
