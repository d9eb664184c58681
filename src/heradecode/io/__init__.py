"""Reading recordings: SigMF, raw X/Y int16 pairs, Doppler profile files."""

from heradecode.io.reader import open_recording
from heradecode.io.recording import (
    Annotation,
    Chunk,
    Recording,
    SinglePolarizationWarning,
    TruncatedRecordingWarning,
)

__all__ = ["Annotation", "Chunk", "Recording", "SinglePolarizationWarning", "TruncatedRecordingWarning",
           "open_recording"]
