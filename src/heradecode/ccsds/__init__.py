"""CCSDS TM transfer frames, virtual channels, space packets and ECSS PUS-C headers."""
