"""Data package carrying the bundled content folders in an installed wheel."""
