"""Channel coding (CCSDS 131.0-B): turbo code, sync markers, pseudo-randomizer, CRC."""
