"""Reference model knowledge and instances."""
