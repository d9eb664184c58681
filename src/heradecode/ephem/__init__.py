"""Ephemerides and Doppler prediction: stations, SPICE, JPL HORIZONS."""
