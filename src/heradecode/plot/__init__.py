"""Plots of recordings, carrier tracks, soft symbols and decoded telemetry."""
