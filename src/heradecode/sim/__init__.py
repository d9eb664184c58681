"""Simulation of Hera-like recordings with known truth."""

from heradecode.sim.params import MODES, SimParams
from heradecode.sim.simulator import SimTruth, iter_samples, plan_truth, read_truth, simulate, simulated_frames

__all__ = ["MODES", "SimParams", "SimTruth", "iter_samples", "plan_truth", "read_truth", "simulate", "simulated_frames"]
