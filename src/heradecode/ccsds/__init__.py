"""CCSDS TM transfer frames, virtual channels, space packets and ECSS PUS-C headers."""

from heradecode.ccsds.mission import HERA, MissionProfile, PusTmLayout
from heradecode.ccsds.pus import PusTmHeader, TimePacket, parse_pus_tm, parse_time_packet, pec_ok
from heradecode.ccsds.spacepacket import PacketAssembler, SpacePacket, build_packet, parse_packet_header
from heradecode.ccsds.tmframe import Clcw, FrameError, FrameFile, TMFrame, parse_frame, read_frames
from heradecode.ccsds.vcdemux import VirtualChannelDemux

__all__ = [
    "HERA", "MissionProfile", "PusTmLayout",
    "PusTmHeader", "TimePacket", "parse_pus_tm", "parse_time_packet", "pec_ok",
    "PacketAssembler", "SpacePacket", "build_packet", "parse_packet_header",
    "Clcw", "FrameError", "FrameFile", "TMFrame", "parse_frame", "read_frames",
    "VirtualChannelDemux",
]
