"""What a decode delivers: summaries, packet tables, per-VC frame files."""
