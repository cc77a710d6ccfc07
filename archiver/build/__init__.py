"""Building bags: characterization, the tag-file plan, the bag writer and the build workflow."""
