"""The catalogue's tables (SQLAlchemy 2 declarative models).

What is catalogued, one table each:

* ``missions``: name and embargo (days after ingestion before public users see an item);
* ``recordings``: one per recorded pass (SigMF metadata, station, times, checksum, and ``path``: the
  recording's SigMF metadata file as the newest ingested decode found it, NULL when unknown);
* ``decodes``: one per decode of a recording (the *item* of the archive); a new decode of the
  same recording is a new ``version``, and ``is_latest`` marks the newest;
* ``frames`` (level L0), ``packets`` (L1), ``carrier_points`` (radio science, L1b);
* ``products``: the decode's files, kept in the content-addressed store by SHA-256;
* ``users`` and ``audit_events``.

Data type of an item, as the Hera Data Hub names it: ``MISSION:KIND:LEVEL``, e.g.
``HERA:FRAMES:L0``, ``HERA:PACKETS:L1``, ``HERA:RADIO_SCIENCE:L1b``.

Times are UNIX seconds (UTC) in ``*_unix_s`` columns; on-board time is ``obt_s``.

The bulk tables (frames, packets, carrier points) carry ``decode_id`` without a foreign-key
constraint: their rows are written only by the ingest, in the same transaction as their decode,
and decodes are never deleted; a per-row foreign-key check would double the time of PostgreSQL's
``COPY`` (measured: 68,000 packets 1.5 s without, 2.7 s with).
"""

from __future__ import annotations

from sqlalchemy import (BigInteger, Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

LEVEL_FRAMES = "L0"
LEVEL_PACKETS = "L1"
LEVEL_RADIO_SCIENCE = "L1b"
LEVELS = (LEVEL_FRAMES, LEVEL_PACKETS, LEVEL_RADIO_SCIENCE)
ROLES = ("admin", "team", "public")


class Base(DeclarativeBase):
    """Declarative base of the catalogue."""


class Mission(Base):
    """A mission and its embargo."""

    __tablename__ = "missions"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    embargo_days: Mapped[float] = mapped_column(Float, default=30.0)


class Recording(Base):
    """One recorded pass."""

    __tablename__ = "recordings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checksum: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    station: Mapped[str | None] = mapped_column(String(128), nullable=True)
    start_unix_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    samp_rate_hz: Mapped[float | None] = mapped_column(Float, nullable=True)
    center_freq_hz: Mapped[float | None] = mapped_column(Float, nullable=True)
    sigmf_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    path: Mapped[str | None] = mapped_column(String(4096), nullable=True)  #: its metadata file (revision 0003)


class Decode(Base):
    """One decode of a recording: the archive's item."""

    __tablename__ = "decodes"
    __table_args__ = (UniqueConstraint("recording_id", "version", name="uq_decode_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), index=True)
    content_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer)
    is_latest: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    source: Mapped[str] = mapped_column(String(16))  # 'decode' (folder) or 'frames' (.u8 file)
    name: Mapped[str] = mapped_column(String(255))
    mission: Mapped[str] = mapped_column(ForeignKey("missions.name"), index=True)
    heradecode_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    mode: Mapped[str | None] = mapped_column(String(16), nullable=True)
    params_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    doppler_source: Mapped[str | None] = mapped_column(String(255), nullable=True)
    stats_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    start_unix_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    stop_unix_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    n_frames: Mapped[int] = mapped_column(Integer, default=0)
    n_packets: Mapped[int] = mapped_column(Integer, default=0)
    ingested_unix_s: Mapped[float] = mapped_column(Float, index=True)
    ingested_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Frame(Base):
    """A CRC-valid TM transfer frame (L0)."""

    __tablename__ = "frames"
    __table_args__ = (Index("ix_frames_decode_index", "decode_id", "frame_index"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    decode_id: Mapped[int] = mapped_column(Integer)  # no FK: see the module docstring
    frame_index: Mapped[int] = mapped_column(Integer)
    unix_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    scid: Mapped[int] = mapped_column(Integer)
    vcid: Mapped[int] = mapped_column(Integer)
    mc_count: Mapped[int] = mapped_column(Integer)
    vc_count: Mapped[int] = mapped_column(Integer)
    crc_ok: Mapped[bool] = mapped_column(Boolean)
    ebn0_db: Mapped[float | None] = mapped_column(Float, nullable=True)
    iterations: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Packet(Base):
    """A reassembled space packet with its PUS labels (L1)."""

    __tablename__ = "packets"
    # the housekeeping index covers a time series query (heradecode.archive.query.housekeeping):
    # one APID in time order with every column it returns but the octets, so the table is not read
    __table_args__ = (Index("ix_packets_housekeeping", "apid", "unix_s", "obt_s", "id", "decode_id", "pus_service",
                            "pus_subtype", "sequence_count", "pec_ok"),
                      Index("ix_packets_decode", "decode_id"))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    decode_id: Mapped[int] = mapped_column(Integer)  # no FK: see the module docstring
    frame_index: Mapped[int] = mapped_column(Integer)
    unix_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    vcid: Mapped[int] = mapped_column(Integer)
    apid: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    sequence_count: Mapped[int] = mapped_column(Integer)
    length: Mapped[int] = mapped_column(Integer)
    pus_service: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pus_subtype: Mapped[int | None] = mapped_column(Integer, nullable=True)
    obt_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    pec_ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class CarrierPoint(Base):
    """One 1 s point of the carrier track (radio science, L1b)."""

    __tablename__ = "carrier_points"
    __table_args__ = (Index("ix_carrier_decode", "decode_id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    decode_id: Mapped[int] = mapped_column(Integer)  # no FK: see the module docstring
    unix_s: Mapped[float] = mapped_column(Float)
    doppler_hz: Mapped[float | None] = mapped_column(Float, nullable=True)
    cn0_dbhz: Mapped[float | None] = mapped_column(Float, nullable=True)
    locked: Mapped[bool] = mapped_column(Boolean)


class Product(Base):
    """One file of a decode, kept in the store under its SHA-256."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("decode_id", "name", name="uq_product_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decode_id: Mapped[int] = mapped_column(ForeignKey("decodes.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    level: Mapped[str | None] = mapped_column(String(8), nullable=True)
    data_type: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)


class User(Base):
    """A registered user: role admin, team or public."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_unix_s: Mapped[float] = mapped_column(Float)


class AuditEvent(Base):
    """Who ingested or downloaded what, and when."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unix_s: Mapped[float] = mapped_column(Float, index=True)
    user: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    decode_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
