"""The openehr-kit command line."""
