"""Plots of recordings, carrier tracks, soft symbols and decoded telemetry."""

from heradecode.plot.carrier import plot_carrier_track, plot_residuals
from heradecode.products.decodelog import DecodeLog, decode_log_from_dict, read_decode_log
from heradecode.plot.frames import plot_codeblocks, plot_frames_timeline
from heradecode.plot.spectrum import Spectrum, compute_spectrum, plot_spectrum
from heradecode.plot.symbols import BpskFit, fit_bpsk, plot_soft_symbols
from heradecode.plot.writer import PLOT_FILES, write_decode_plots, write_plots

__all__ = [
    "BpskFit",
    "DecodeLog",
    "PLOT_FILES",
    "Spectrum",
    "compute_spectrum",
    "decode_log_from_dict",
    "fit_bpsk",
    "plot_carrier_track",
    "plot_codeblocks",
    "plot_frames_timeline",
    "plot_residuals",
    "plot_soft_symbols",
    "plot_spectrum",
    "read_decode_log",
    "write_decode_plots",
    "write_plots",
]
