"""Signal processing: Doppler removal, decimation, acquisition, PLL, bi-phase-L demodulation."""
