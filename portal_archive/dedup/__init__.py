"""Near-duplicate detection for syndicated Chinese news (placeholder)."""
