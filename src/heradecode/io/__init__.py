"""Reading recordings: SigMF, raw X/Y int16 pairs, Doppler profile files."""

from heradecode.io.reader import open_recording
from heradecode.io.recording import Annotation, Chunk, Recording, TruncatedRecordingWarning

__all__ = ["Annotation", "Chunk", "Recording", "TruncatedRecordingWarning", "open_recording"]
