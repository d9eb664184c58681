"""Simulation of Hera-like recordings with known truth."""
