"""Named datasets: registry, fetch with checksums, parsers into posts and responses."""
