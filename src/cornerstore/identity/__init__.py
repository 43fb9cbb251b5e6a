"""Identity: normalising identifiers, deterministic stitching, recorded and reversible merges."""
