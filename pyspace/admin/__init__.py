"""Administration: the `flask users …` commands."""
