"""Reading recordings: SigMF, raw X/Y int16 pairs, Doppler profile files."""
