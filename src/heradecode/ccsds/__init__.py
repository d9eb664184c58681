"""CCSDS TM and AOS transfer frames, virtual channels, space packets, ECSS PUS-A/PUS-C headers and packet times."""

from heradecode.ccsds.aosframe import AOSFrame, TransferFrame, parse_aos_frame, parse_transfer_frame
from heradecode.ccsds.mission import HERA, MissionProfile, PusTmLayout
from heradecode.ccsds.packettime import secondary_header_time_s
from heradecode.ccsds.pus import PusTmHeader, TimePacket, parse_pus_tm, parse_time_packet, pec_ok
from heradecode.ccsds.spacepacket import PacketAssembler, SpacePacket, build_packet, parse_packet_header
from heradecode.ccsds.tmframe import Clcw, FrameError, FrameFile, TMFrame, parse_frame, read_frames
from heradecode.ccsds.vcdemux import VirtualChannelDemux

__all__ = [
    "AOSFrame", "TransferFrame", "parse_aos_frame", "parse_transfer_frame", "secondary_header_time_s",
    "HERA", "MissionProfile", "PusTmLayout",
    "PusTmHeader", "TimePacket", "parse_pus_tm", "parse_time_packet", "pec_ok",
    "PacketAssembler", "SpacePacket", "build_packet", "parse_packet_header",
    "Clcw", "FrameError", "FrameFile", "TMFrame", "parse_frame", "read_frames",
    "VirtualChannelDemux",
]
